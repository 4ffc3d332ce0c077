//! NDIS clones.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::irql::DISPATCH_LEVEL;
use crate::model::{NblOrigin, clone};
use crate::verifier::irql::at_most;
use crate::verifier::{self, clone as rules};

/// Clones a NET_BUFFER_LIST: new NBL and NBs (from the given pools, or
/// NDIS's own when NULL) describing the same data, over new MDLs unless
/// `NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS`.
///
/// # Safety
///
/// `OriginalNetBufferList` is a live NBL; the pools, if not NULL, are pools
/// of the right kinds.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateCloneNetBufferList(
    OriginalNetBufferList: *mut NET_BUFFER_LIST,
    NetBufferListPoolHandle: NDIS_HANDLE,
    NetBufferPoolHandle: NDIS_HANDLE,
    AllocateCloneFlags: ULONG,
) -> *mut NET_BUFFER_LIST {
    at_most(DISPATCH_LEVEL, "NdisAllocateCloneNetBufferList");
    const DDI: &str = "NdisAllocateCloneNetBufferList";
    verifier::with(|st, found| {
        let (orig, nbl_pool, nb_pool) = (OriginalNetBufferList, NetBufferListPoolHandle, NetBufferPoolHandle);
        // SAFETY: the caller guarantees the original, if live, has live NBs and MDLs.
        if !unsafe { rules::may_clone(st, orig, nbl_pool, nb_pool, DDI, found) } {
            return core::ptr::null_mut();
        }
        let original_mdls = AllocateCloneFlags & NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS != 0;
        // SAFETY: checked above.
        unsafe { clone::make_clone(st, orig, nbl_pool, nb_pool, original_mdls, NblOrigin::NdisClone) }
    })
}

/// Frees a clone `NdisAllocateCloneNetBufferList` made, once its NB and
/// MDL chains and offsets are back as the clone was made.
///
/// # Safety
///
/// `CloneNetBufferList` is such a clone.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeCloneNetBufferList(
    CloneNetBufferList: *mut NET_BUFFER_LIST,
    _FreeCloneFlags: ULONG,
) {
    at_most(DISPATCH_LEVEL, "NdisFreeCloneNetBufferList");
    const DDI: &str = "NdisFreeCloneNetBufferList";
    verifier::with(|st, found| {
        if rules::may_free_clone(st, CloneNetBufferList, NblOrigin::NdisClone, DDI, found) {
            clone::free_clone(st, CloneNetBufferList as usize, DDI);
        }
    });
}
