//! NBL and NB pools.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::Kind;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::{NbPoolInfo, NblPoolInfo, pool};
use crate::verifier::irql::at_most;
use crate::verifier::{self, Rule, pool as rules, v};

/// Allocates a pool of NET_BUFFER_LIST structures.
///
/// Validates the parameters as NDIS does: object header, `ContextSize` a
/// multiple of `MEMORY_ALLOCATION_ALIGNMENT`, `DataSize` only with
/// `fAllocateNetBuffer`. Returns NULL (and reports) when they are invalid.
///
/// # Safety
///
/// `Parameters` points to a readable `NET_BUFFER_LIST_POOL_PARAMETERS`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferListPool(
    _NdisHandle: NDIS_HANDLE,
    Parameters: *const NET_BUFFER_LIST_POOL_PARAMETERS,
) -> NDIS_HANDLE {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferListPool");
    const DDI: &str = "NdisAllocateNetBufferListPool";
    verifier::with(|st, found| {
        if Parameters.is_null() {
            found.push(v(Rule::InvalidPoolParameters, DDI, "Parameters is NULL"));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `Parameters` is readable.
        let p = unsafe { *Parameters };
        if !rules::nbl_pool_parameters(&p, DDI, found) {
            return core::ptr::null_mut();
        }
        let info = NblPoolInfo {
            allocate_nb: p.fAllocateNetBuffer != 0,
            context_size: p.ContextSize,
            data_size: p.DataSize,
            outstanding: 0,
        };
        pool::new_nbl_pool(st, p.PoolTag, info)
    })
}

/// Frees a NET_BUFFER_LIST pool. Reports (and keeps the pool) when
/// anything allocated from it is still alive.
///
/// # Safety
///
/// `PoolHandle` is a handle `NdisAllocateNetBufferListPool` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferListPool(PoolHandle: NDIS_HANDLE) {
    at_most(DISPATCH_LEVEL, "NdisFreeNetBufferListPool");
    const DDI: &str = "NdisFreeNetBufferListPool";
    verifier::with(|st, found| {
        if rules::may_free_pool(st, PoolHandle as usize, Kind::NblPool, DDI, found) {
            pool::free_pool(st, PoolHandle, DDI);
        }
    });
}

/// Allocates a pool of NET_BUFFER structures; `DataSize` non-zero makes
/// `NdisAllocateNetBufferMdlAndData` allocate MDL and data with each NB.
///
/// # Safety
///
/// `Parameters` points to a readable `NET_BUFFER_POOL_PARAMETERS`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferPool(
    _NdisHandle: NDIS_HANDLE,
    Parameters: *const NET_BUFFER_POOL_PARAMETERS,
) -> NDIS_HANDLE {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferPool");
    const DDI: &str = "NdisAllocateNetBufferPool";
    verifier::with(|st, found| {
        if Parameters.is_null() {
            found.push(v(Rule::InvalidPoolParameters, DDI, "Parameters is NULL"));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `Parameters` is readable.
        let p = unsafe { *Parameters };
        if !rules::nb_pool_parameters(&p, DDI, found) {
            return core::ptr::null_mut();
        }
        pool::new_nb_pool(st, p.PoolTag, NbPoolInfo { data_size: p.DataSize, outstanding: 0 })
    })
}

/// Frees a NET_BUFFER pool. Reports (and keeps the pool) when anything
/// allocated from it is still alive.
///
/// # Safety
///
/// `PoolHandle` is a handle `NdisAllocateNetBufferPool` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferPool(PoolHandle: NDIS_HANDLE) {
    at_most(DISPATCH_LEVEL, "NdisFreeNetBufferPool");
    const DDI: &str = "NdisFreeNetBufferPool";
    verifier::with(|st, found| {
        if rules::may_free_pool(st, PoolHandle as usize, Kind::NbPool, DDI, found) {
            pool::free_pool(st, PoolHandle, DDI);
        }
    });
}
