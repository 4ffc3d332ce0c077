//! The same work through ndis-safe and through the raw -sys calls, both on
//! the simulator: allocate an NBL with a context from a pool, clone it,
//! modify the clone (a retreat that chains a new MDL), undo, free the clone,
//! free the NBL. `cargo xtask bench` runs each workload under callgrind
//! (`--toggle-collect` on the two functions below) and reports the
//! instruction-count ratio; run directly, it times both (wall time, noisy).
//!
//! `zero_cost [safe|raw|both] [iterations]`
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "a benchmark; the raw half is raw by design"
)]

use core::num::NonZeroU32;
use std::hint::black_box;

use fwps_sys::{FwpsAllocateCloneNetBufferList0, FwpsFreeCloneNetBufferList0};
use ndis_safe::clone::Fwps;
use ndis_safe::{ContextArea, NblPool, NblPoolOptions, NdisHandle, Tag};
use ndis_sys::*;

/// The context both workloads carry.
#[derive(ContextArea, Clone, Copy)]
#[repr(C)]
pub struct Ctx {
    id: u64,
    len: u64,
}

const DATA: u32 = 64;
const RETREAT: u32 = 24; // beyond the unused space: NDIS chains an MDL

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_workload_safe(pool: &NblPool<Ctx, ndis_safe::pool::prealloc::WithData>, n: u32) {
    for i in 0..n {
        let Ok(nbl) = pool.allocate(Ctx { id: u64::from(i), len: 0 }) else { return };
        let Ok(mut clone) = nbl.clone_nbl::<Fwps>() else { return };
        clone.modify(|mut c| {
            if let Ok(u) = c.retreat(RETREAT) {
                let _ = c.undo(u);
            }
        });
        black_box(&clone);
        drop(clone);
        black_box(nbl.context().id);
        drop(nbl);
    }
}

/// The raw twin of `ndis_rs_workload_safe`.
///
/// # Safety
///
/// `pool` is a live NBL pool with a NET_BUFFER, data and a 16-byte context.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_workload_raw(pool: NDIS_HANDLE, n: u32) {
    for i in 0..n {
        unsafe {
            let nbl = NdisAllocateNetBufferList(pool, 16, 0);
            if nbl.is_null() {
                return;
            }
            NET_BUFFER_LIST_CONTEXT_DATA_START(nbl).cast::<Ctx>().write(Ctx { id: u64::from(i), len: 0 });
            let mut clone = core::ptr::null_mut();
            if FwpsAllocateCloneNetBufferList0(nbl, core::ptr::null_mut(), core::ptr::null_mut(), 0, &mut clone) != 0 {
                NdisFreeNetBufferList(nbl);
                return;
            }
            if NdisRetreatNetBufferListDataStart(clone, RETREAT, 0, None, None) == NDIS_STATUS_SUCCESS {
                NdisAdvanceNetBufferListDataStart(clone, RETREAT, 1, None);
            }
            black_box(clone);
            FwpsFreeCloneNetBufferList0(clone, 0);
            black_box((*NET_BUFFER_LIST_CONTEXT_DATA_START(nbl).cast::<Ctx>()).id);
            NdisFreeNetBufferList(nbl);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let which = args.next().unwrap_or_else(|| "both".into());
    let n: u32 = args.next().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let _session = ndis_sim::Session::new();
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    let safe_pool: NblPool<Ctx, _> =
        NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Safe")).with_data(NonZeroU32::new(DATA).unwrap())).unwrap();
    let params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        fAllocateNetBuffer: 1,
        ContextSize: 16,
        PoolTag: u32::from_le_bytes(*b"Raw "),
        DataSize: DATA,
        ..Default::default()
    };
    let raw_pool = unsafe { NdisAllocateNetBufferListPool(core::ptr::null_mut(), &params) };
    if which == "safe" || which == "both" {
        let t = std::time::Instant::now();
        ndis_rs_workload_safe(&safe_pool, n);
        println!("safe: {n} iterations in {:?}", t.elapsed());
    }
    if which == "raw" || which == "both" {
        let t = std::time::Instant::now();
        unsafe { ndis_rs_workload_raw(raw_pool, n) };
        println!("raw:  {n} iterations in {:?}", t.elapsed());
    }
    unsafe { NdisFreeNetBufferListPool(raw_pool) };
}
