//! NET_BUFFERs from NB pools.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::Kind;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::nb::{attach_data, data_mdl, drop_nb, init_nb, new_nb};
use crate::verifier::irql::at_most;
use crate::verifier::{self, data, objects, pool as rules};

/// Allocates a NET_BUFFER over the caller's MDL chain.
///
/// A NULL chain requires offset and length 0; otherwise the data must lie
/// inside the chain. The pool must not carry data (that pool is for
/// `NdisAllocateNetBufferMdlAndData`).
///
/// # Safety
///
/// `PoolHandle` is an NB pool; the chain's MDLs are live.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBuffer(
    PoolHandle: NDIS_HANDLE,
    MdlChain: *mut MDL,
    DataOffset: ULONG,
    DataLength: SIZE_T,
) -> *mut NET_BUFFER {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBuffer");
    const DDI: &str = "NdisAllocateNetBuffer";
    verifier::with(|st, found| {
        let pool = PoolHandle as usize;
        if !objects::live(st, pool, Kind::NbPool, DDI, found)
            || !rules::nb_pool_without_data(st, pool, DDI, found)
            // SAFETY: the caller guarantees the chain's MDLs are live.
            || !unsafe { data::chain_args(MdlChain, DataOffset, DataLength, DDI, found) }
        {
            return core::ptr::null_mut();
        }
        let nb = new_nb(st, PoolHandle, None, st.tag_of(pool));
        if nb.is_null() {
            return nb;
        }
        // SAFETY: `nb` is fresh; the chain was checked above.
        unsafe { init_nb(nb, MdlChain, DataOffset, DataLength as u32) };
        st.pool_count(pool, true);
        nb
    })
}

/// Allocates a NET_BUFFER with an MDL and `DataSize` bytes of data (the
/// pool's), all used: `DataOffset` 0, `DataLength` the pool's `DataSize`.
///
/// # Safety
///
/// `PoolHandle` is an NB pool made with a non-zero `DataSize`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferMdlAndData(PoolHandle: NDIS_HANDLE) -> *mut NET_BUFFER {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferMdlAndData");
    const DDI: &str = "NdisAllocateNetBufferMdlAndData";
    verifier::with(|st, found| {
        let pool = PoolHandle as usize;
        if !objects::live(st, pool, Kind::NbPool, DDI, found) {
            return core::ptr::null_mut();
        }
        let Some(size) = rules::nb_pool_with_data(st, pool, DDI, found) else {
            return core::ptr::null_mut();
        };
        let nb = new_nb(st, PoolHandle, None, st.tag_of(pool));
        if nb.is_null() || !attach_data(st, nb, size) {
            return core::ptr::null_mut();
        }
        let mdl = data_mdl(st, nb);
        // SAFETY: `nb` and its MDL are fresh.
        unsafe { init_nb(nb, mdl, 0, size) };
        st.pool_count(pool, true);
        nb
    })
}

/// Frees a NET_BUFFER allocated from an NB pool (never one preallocated
/// with its NBL: that one goes with the NBL).
///
/// # Safety
///
/// `NetBuffer` is an NB `NdisAllocateNetBuffer` or
/// `NdisAllocateNetBufferMdlAndData` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBuffer(NetBuffer: *mut NET_BUFFER) {
    at_most(DISPATCH_LEVEL, "NdisFreeNetBuffer");
    const DDI: &str = "NdisFreeNetBuffer";
    verifier::with(|st, found| {
        let addr = NetBuffer as usize;
        if let Some(pool) = objects::may_free_nb(st, addr, DDI, found) {
            st.pool_count(pool, false);
            drop_nb(st, addr, DDI);
        }
    });
}

/// The pool a NET_BUFFER came from.
///
/// # Safety
///
/// `NetBuffer` is a live NB.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetPoolFromNetBuffer(NetBuffer: *const NET_BUFFER) -> NDIS_HANDLE {
    at_most(DISPATCH_LEVEL, "NdisGetPoolFromNetBuffer");
    verifier::with(|st, found| {
        if !objects::live(st, NetBuffer as usize, Kind::Nb, "NdisGetPoolFromNetBuffer", found) {
            return core::ptr::null_mut();
        }
        // SAFETY: checked live above.
        unsafe { (*NetBuffer).NdisPoolHandle }
    })
}
