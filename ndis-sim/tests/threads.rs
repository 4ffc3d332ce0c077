//! Many threads allocating, cloning, pushing contexts and freeing from
//! shared pools at once: no report, no leak, counts consistent.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;

#[derive(Clone, Copy)]
struct Pools(NDIS_HANDLE, NDIS_HANDLE);
// SAFETY: pool handles are used from any thread, as NDIS allows.
unsafe impl Send for Pools {}

#[test]
fn parallel_allocation_and_free_from_shared_pools() {
    let s = ndis_sim::Session::new();
    let pools = Pools(nbl_pool(true, 16, 256), nbl_pool(false, 0, 0));
    let iterations = if cfg!(miri) { 20 } else { 5_000 };
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let p = pools;
                for i in 0..iterations {
                    unsafe {
                        let nbl = NdisAllocateNetBufferList(p.0, 16, 0);
                        assert!(!nbl.is_null());
                        let nb = first_nb(nbl);
                        let data = NdisGetDataBuffer(nb, 4, core::ptr::null_mut(), 1, 0).cast::<u32>();
                        data.write_unaligned(t * 1_000_000 + i);
                        let clone = NdisAllocateCloneNetBufferList(nbl, p.1, core::ptr::null_mut(), 0);
                        assert_eq!(NdisAllocateNetBufferListContext(clone, 16, 0, TAG), NDIS_STATUS_SUCCESS);
                        let seen = NdisGetDataBuffer(first_nb(clone), 4, core::ptr::null_mut(), 1, 0).cast::<u32>();
                        assert_eq!(seen.read_unaligned(), t * 1_000_000 + i);
                        NdisFreeNetBufferListContext(clone, 16);
                        NdisFreeCloneNetBufferList(clone, 0);
                        NdisFreeNetBufferList(nbl);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    unsafe {
        NdisFreeNetBufferListPool(pools.1);
        NdisFreeNetBufferListPool(pools.0);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
