//! NET_BUFFER_LISTs from NBL pools.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::Kind;
use crate::model::NblOrigin;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::nbl::{NblRequest, alloc_nbl, drop_nbl};
use crate::verifier::irql::at_most;
use crate::verifier::{self, data, objects, pool as rules};

/// Allocates a NET_BUFFER_LIST. From a pool made with `fAllocateNetBuffer`
/// it comes with its preallocated NET_BUFFER (and, with the pool's
/// `DataSize`, an MDL and that much data, all used); otherwise with none.
///
/// # Safety
///
/// `PoolHandle` is an NBL pool.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferList(
    PoolHandle: NDIS_HANDLE,
    ContextSize: USHORT,
    ContextBackFill: USHORT,
) -> *mut NET_BUFFER_LIST {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferList");
    const DDI: &str = "NdisAllocateNetBufferList";
    verifier::with(|st, found| {
        if !objects::live(st, PoolHandle as usize, Kind::NblPool, DDI, found)
            || !rules::context_args(ContextSize, ContextBackFill, DDI, found)
        {
            return core::ptr::null_mut();
        }
        alloc_nbl(
            st,
            NblRequest {
                pool: PoolHandle,
                context_size: ContextSize,
                backfill: ContextBackFill,
                origin: NblOrigin::Ndis,
                nb: None,
                pool_nb: true,
            },
        )
    })
}

/// Allocates a NET_BUFFER_LIST with one NET_BUFFER over the caller's MDL
/// chain (or, with a NULL chain, over the pool's data). The pool must have
/// been made with `fAllocateNetBuffer`.
///
/// # Safety
///
/// `PoolHandle` is an NBL pool; the chain's MDLs are live.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferAndNetBufferList(
    PoolHandle: NDIS_HANDLE,
    ContextSize: USHORT,
    ContextBackFill: USHORT,
    MdlChain: *mut MDL,
    DataOffset: ULONG,
    DataLength: SIZE_T,
) -> *mut NET_BUFFER_LIST {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferAndNetBufferList");
    const DDI: &str = "NdisAllocateNetBufferAndNetBufferList";
    verifier::with(|st, found| {
        let pool = PoolHandle as usize;
        if !objects::live(st, pool, Kind::NblPool, DDI, found)
            || !rules::context_args(ContextSize, ContextBackFill, DDI, found)
            || !rules::nbl_pool_with_nb(st, pool, DDI, found)
            // SAFETY: the caller guarantees the chain's MDLs are live.
            || !unsafe { data::nbl_nb_args(st, PoolHandle, MdlChain, DataOffset, DataLength, DDI, found) }
        {
            return core::ptr::null_mut();
        }
        alloc_nbl(
            st,
            NblRequest {
                pool: PoolHandle,
                context_size: ContextSize,
                backfill: ContextBackFill,
                origin: NblOrigin::Ndis,
                nb: Some((MdlChain, DataOffset, DataLength as u32)),
                pool_nb: false,
            },
        )
    })
}

/// Frees a NET_BUFFER_LIST `NdisAllocateNetBufferList` or
/// `NdisAllocateNetBufferAndNetBufferList` allocated, with its preallocated
/// NET_BUFFER and data. NET_BUFFERs the caller attached are the caller's
/// to free.
///
/// # Safety
///
/// `NetBufferList` is such an NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferList(NetBufferList: *mut NET_BUFFER_LIST) {
    at_most(DISPATCH_LEVEL, "NdisFreeNetBufferList");
    const DDI: &str = "NdisFreeNetBufferList";
    verifier::with(|st, found| {
        if objects::may_free_nbl(st, NetBufferList, NblOrigin::Ndis, DDI, found) {
            drop_nbl(st, NetBufferList as usize, DDI);
        }
    });
}

/// The pool a NET_BUFFER_LIST came from.
///
/// # Safety
///
/// `NetBufferList` is a live NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetPoolFromNetBufferList(NetBufferList: *const NET_BUFFER_LIST) -> NDIS_HANDLE {
    at_most(DISPATCH_LEVEL, "NdisGetPoolFromNetBufferList");
    verifier::with(|st, found| {
        if !objects::live(st, NetBufferList as usize, Kind::Nbl, "NdisGetPoolFromNetBufferList", found) {
            return core::ptr::null_mut();
        }
        // SAFETY: checked live above.
        unsafe { (*NetBufferList).NdisPoolHandle }
    })
}
