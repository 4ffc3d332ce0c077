//! WFP's NBL allocation, clones and references.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use fwps_sys::*;
use ndis_sys::*;

use crate::model::Kind;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::nbl::{NblRequest, alloc_nbl, drop_nbl};
use crate::model::{NblOrigin, clone};
use crate::verifier::irql::{at_most, dispatch_claim};
use crate::verifier::{self, clone as clone_rules, data, objects, pool as pool_rules};

/// Allocates a NET_BUFFER_LIST with one NET_BUFFER over the caller's MDL
/// chain (or the pool's data, with a NULL chain), freed by
/// `FwpsFreeNetBufferList0`. The pool preallocates a NET_BUFFER with each
/// NBL (`fAllocateNetBuffer`): that is the NET_BUFFER the chain initializes.
///
/// # Safety
///
/// `poolHandle` is an NBL pool; the chain's MDLs are live; `netBufferList`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAllocateNetBufferAndNetBufferList0(
    poolHandle: NDIS_HANDLE,
    contextSize: USHORT,
    contextBackFill: USHORT,
    mdlChain: *mut MDL,
    dataOffset: ULONG,
    dataLength: SIZE_T,
    netBufferList: *mut *mut NET_BUFFER_LIST,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsAllocateNetBufferAndNetBufferList0");
    const DDI: &str = "FwpsAllocateNetBufferAndNetBufferList0";
    verifier::with(|st, found| {
        if netBufferList.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        if !objects::live(st, poolHandle as usize, Kind::NblPool, DDI, found)
            || !pool_rules::context_args(contextSize, contextBackFill, DDI, found)
            || !pool_rules::fwps_pool(st, poolHandle as usize, DDI, found)
            // SAFETY: the caller guarantees the chain's MDLs are live.
            || !unsafe { data::nbl_nb_args(st, poolHandle, mdlChain, dataOffset, dataLength, DDI, found) }
        {
            return STATUS_INVALID_PARAMETER;
        }
        let nbl = alloc_nbl(
            st,
            NblRequest {
                pool: poolHandle,
                context_size: contextSize,
                backfill: contextBackFill,
                origin: NblOrigin::Fwps,
                nb: Some((mdlChain, dataOffset, dataLength as u32)),
                pool_nb: false,
            },
        );
        // SAFETY: the caller guarantees `netBufferList` is writable.
        unsafe { *netBufferList = nbl };
        if nbl.is_null() { STATUS_NO_MEMORY } else { STATUS_SUCCESS }
    })
}

/// Frees a NET_BUFFER_LIST `FwpsAllocateNetBufferAndNetBufferList0` made.
///
/// # Safety
///
/// `netBufferList` is such an NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFreeNetBufferList0(netBufferList: *mut NET_BUFFER_LIST) {
    at_most(DISPATCH_LEVEL, "FwpsFreeNetBufferList0");
    const DDI: &str = "FwpsFreeNetBufferList0";
    verifier::with(|st, found| {
        if objects::may_free_nbl(st, netBufferList, NblOrigin::Fwps, DDI, found) {
            drop_nbl(st, netBufferList as usize, DDI);
        }
    });
}

/// Clones a NET_BUFFER_LIST over the original's MDLs (new NBL and NBs, from
/// the pools given or WFP's own), for modification and injection.
///
/// # Safety
///
/// `originalNetBufferList` is a live NBL; `netBufferList` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAllocateCloneNetBufferList0(
    originalNetBufferList: *mut NET_BUFFER_LIST,
    netBufferListPoolHandle: NDIS_HANDLE,
    netBufferPoolHandle: NDIS_HANDLE,
    _allocateCloneFlags: ULONG,
    netBufferList: *mut *mut NET_BUFFER_LIST,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsAllocateCloneNetBufferList0");
    const DDI: &str = "FwpsAllocateCloneNetBufferList0";
    verifier::with(|st, found| {
        if netBufferList.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let (orig, nbl_pool, nb_pool) = (originalNetBufferList, netBufferListPoolHandle, netBufferPoolHandle);
        // SAFETY: the caller guarantees the original, if live, has live NBs and MDLs.
        let clone = if unsafe { clone_rules::may_clone(st, orig, nbl_pool, nb_pool, DDI, found) } {
            // SAFETY: checked above.
            unsafe { clone::make_clone(st, orig, nbl_pool, nb_pool, true, NblOrigin::FwpsClone) }
        } else {
            core::ptr::null_mut()
        };
        // SAFETY: the caller guarantees `netBufferList` is writable.
        unsafe { *netBufferList = clone };
        if clone.is_null() { STATUS_INVALID_PARAMETER } else { STATUS_SUCCESS }
    })
}

/// Frees a clone `FwpsAllocateCloneNetBufferList0` made, once its chains
/// and offsets are back as they were made.
///
/// # Safety
///
/// `netBufferList` is such a clone.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFreeCloneNetBufferList0(netBufferList: *mut NET_BUFFER_LIST, _freeCloneFlags: ULONG) {
    at_most(DISPATCH_LEVEL, "FwpsFreeCloneNetBufferList0");
    const DDI: &str = "FwpsFreeCloneNetBufferList0";
    verifier::with(|st, found| {
        if clone_rules::may_free_clone(st, netBufferList, NblOrigin::FwpsClone, DDI, found) {
            clone::free_clone(st, netBufferList as usize, DDI);
        }
    });
}

/// Takes a reference on an NBL (typically one classify was given), which
/// keeps the stack from completing it until the reference is released.
///
/// # Safety
///
/// `netBufferList` is a live NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsReferenceNetBufferList0(
    netBufferList: *mut NET_BUFFER_LIST,
    _intendToModify: BOOLEAN,
) {
    at_most(DISPATCH_LEVEL, "FwpsReferenceNetBufferList0");
    const DDI: &str = "FwpsReferenceNetBufferList0";
    verifier::with(|st, found| {
        if objects::live(st, netBufferList as usize, Kind::Nbl, DDI, found)
            && let Some(n) = st.nbl_mut(netBufferList as usize)
        {
            n.references += 1;
        }
    });
}

/// Releases a reference `FwpsReferenceNetBufferList0` took. The last one on
/// an NBL the stack has finished with returns it to the stack, which
/// requires its clones to be gone. `dispatchLevel` TRUE is checked against
/// the caller's IRQL (it must run at `DISPATCH_LEVEL`).
///
/// # Safety
///
/// `netBufferList` is a live NBL holding a reference.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsDereferenceNetBufferList0(
    netBufferList: *mut NET_BUFFER_LIST,
    dispatchLevel: BOOLEAN,
) {
    at_most(DISPATCH_LEVEL, "FwpsDereferenceNetBufferList0");
    dispatch_claim(dispatchLevel != 0, "dispatchLevel TRUE", "FwpsDereferenceNetBufferList0");
    const DDI: &str = "FwpsDereferenceNetBufferList0";
    verifier::with(|st, found| {
        let addr = netBufferList as usize;
        if !objects::holds_reference(st, addr, DDI, found) {
            return;
        }
        let Some(n) = st.nbl_mut(addr) else { return };
        n.references -= 1;
        if n.references == 0 && n.lent.as_ref().is_some_and(|l| l.returned) {
            // SAFETY: the NBL is live until the stack regains it.
            unsafe { clone_rules::stack_regains(st, netBufferList, DDI, found) };
        }
    });
}
