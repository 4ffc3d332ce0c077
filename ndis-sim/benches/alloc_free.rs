//! Throughput of NBL allocate + free through the simulator, verifier on:
//! `cargo bench -p ndis-sim`. One thread; prints pairs per second.
//! `alloc_free count N` runs N pairs untimed, for callgrind.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "a benchmark of raw DDIs"
)]

use std::time::Instant;

use ndis_sys::*;

/// The measured loop.
///
/// # Safety
///
/// `pool` is a live NBL pool.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_sim_bench_pairs(pool: NDIS_HANDLE, pairs: u32) {
    for _ in 0..pairs {
        unsafe {
            let nbl = NdisAllocateNetBufferList(pool, 0, 0);
            NdisFreeNetBufferList(core::hint::black_box(nbl));
        }
    }
}

fn main() {
    let _s = ndis_sim::Session::new();
    let params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        PoolTag: u32::from_le_bytes(*b"Bnch"),
        ..Default::default()
    };
    let pool = unsafe { NdisAllocateNetBufferListPool(core::ptr::null_mut(), &params) };
    // `alloc_free count N`: just N pairs, for callgrind's instruction count.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if let [mode, n] = &args[..]
        && mode == "count"
    {
        unsafe { ndis_sim_bench_pairs(pool, n.parse().unwrap_or(200_000)) };
        unsafe { NdisFreeNetBufferListPool(pool) };
        return;
    }
    let pairs: u32 = std::env::var("PAIRS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000);
    // Warm up the allocator and the registry.
    for _ in 0..10_000 {
        unsafe { NdisFreeNetBufferList(NdisAllocateNetBufferList(pool, 0, 0)) };
    }
    let start = Instant::now();
    unsafe { ndis_sim_bench_pairs(pool, pairs) };
    let secs = start.elapsed().as_secs_f64();

    unsafe { NdisFreeNetBufferListPool(pool) };
    println!(
        "ndis-sim NBL allocate+free, verifier on: {pairs} pairs in {secs:.3} s = {:.2} million pairs/s ({:.0} ns/pair)",
        f64::from(pairs) / secs / 1e6,
        secs * 1e9 / f64::from(pairs)
    );
}
