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
#[allow(unused_imports)]
use ndis_safe::NoContext;
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

/// The injected clones' context (room for an injection record).
#[derive(ContextArea, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
pub struct Seq {
    n: u64,
    pad: u64,
}

fn inspected(c: ndis_safe::wfp::Completed<ndis_safe::wfp::ClonedPacket<Fwps, Seq, ndis_safe::clone::Unmodifiable>>) {
    black_box(c.status().is_ok());
}

/// The inspect path through ndis-safe: reference the lent packet, retreat
/// over its IP header, clone, advance back, inject (completed at once),
/// completion frees the clone and releases the reference.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_inspect_safe(
    handle: &ndis_safe::wfp::InjectionHandle,
    pool: &'static NblPool<Seq>,
    lent: &[*mut NET_BUFFER_LIST],
) {
    for (i, &nbl) in lent.iter().enumerate() {
        // SAFETY: the simulated stack lends each NBL for this iteration.
        let Some(mut nbl) = (unsafe { ndis_safe::BorrowedNbl::from_raw(nbl) }) else { return };
        if handle.state(&nbl).is_self_injected() {
            continue;
        }
        let Ok(packet) = nbl.reference_and_clone_unmodifiable::<Fwps, Seq>(20, Some(pool), Seq { n: i as u64, pad: 0 })
        else {
            return;
        };
        let _ = handle.inject_transport_receive(packet, ndis_safe::wfp::AF_INET, 1, 0, 0, inspected);
    }
}

unsafe extern "system" fn raw_inspected(_: *mut core::ffi::c_void, clone: *mut NET_BUFFER_LIST, _: BOOLEAN) {
    unsafe {
        black_box(*NET_BUFFER_LIST_STATUS(clone));
        let parent = *NET_BUFFER_LIST_PARENT(clone);
        NdisFreeNetBufferListContext(clone, 16);
        FwpsFreeCloneNetBufferList0(clone, 0);
        fwps_sys::FwpsDereferenceNetBufferList0(parent, 0);
    }
}

/// The raw twin of `ndis_rs_inspect_safe`.
///
/// # Safety
///
/// `handle` and `pool` are live; each NBL is lent for the call.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_inspect_raw(handle: fwps_sys::HANDLE, pool: NDIS_HANDLE, lent: &[*mut NET_BUFFER_LIST]) {
    for (i, &nbl) in lent.iter().enumerate() {
        unsafe {
            let mut ctx = core::ptr::null_mut();
            if fwps_sys::FwpsQueryPacketInjectionState0(handle, nbl, &mut ctx) == fwps_sys::FWPS_PACKET_INJECTED_BY_SELF
            {
                continue;
            }
            fwps_sys::FwpsReferenceNetBufferList0(nbl, 1);
            NdisRetreatNetBufferListDataStart(nbl, 20, 0, None, None);
            let mut clone = core::ptr::null_mut();
            let status = FwpsAllocateCloneNetBufferList0(nbl, pool, core::ptr::null_mut(), 0, &mut clone);
            NdisAdvanceNetBufferListDataStart(nbl, 20, 0, None);
            if status != 0 {
                fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
                return;
            }
            NdisAllocateNetBufferListContext(clone, 16, 0, 0);
            NET_BUFFER_LIST_CONTEXT_DATA_START(clone).cast::<u64>().write(i as u64);
            let status = fwps_sys::FwpsInjectTransportReceiveAsync0(
                handle,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                0,
                fwps_sys::AF_INET,
                1,
                0,
                0,
                clone,
                Some(raw_inspected),
                core::ptr::null_mut(),
            );
            if status != 0 {
                raw_inspected(core::ptr::null_mut(), clone, 0);
            }
        }
    }
}

/// `lent` NBLs as the stack indicates them, `n` of them.
fn indicate(n: usize) -> Vec<ndis_sim::StackNbl> {
    let mut packet = vec![0u8; 48];
    packet[0] = 0x45;
    (0..n).map(|_| ndis_sim::StackNbl::indicate(&packet, 20)).collect()
}

fn inspect_main(which: &str, n: usize) {
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    let safe_pool: &'static NblPool<Seq> =
        Box::leak(Box::new(NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Insp"))).unwrap()));
    let params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        ContextSize: <Seq as ContextArea>::SIZE + <Seq as ContextArea>::BACKFILL,
        PoolTag: u32::from_le_bytes(*b"Raw "),
        ..Default::default()
    };
    let raw_pool = unsafe { NdisAllocateNetBufferListPool(core::ptr::null_mut(), &params) };
    let handle = ndis_safe::wfp::InjectionHandle::new(0, ndis_safe::wfp::InjectionTypes::TRANSPORT).unwrap();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Immediate(0));
    let stack = indicate(n);
    let lent: Vec<_> = stack.iter().map(ndis_sim::StackNbl::as_ptr).collect();
    match which {
        "inspect-safe" => ndis_rs_inspect_safe(&handle, safe_pool, &lent),
        _ => unsafe { ndis_rs_inspect_raw(handle.as_raw(), raw_pool, &lent) },
    }
    drop(stack);
    drop(handle);
    unsafe { NdisFreeNetBufferListPool(raw_pool) };
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let which = args.next().unwrap_or_else(|| "both".into());
    let n: u32 = args.next().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let _session = ndis_sim::Session::new();
    if which.starts_with("inspect") {
        return inspect_main(&which, n as usize);
    }
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
