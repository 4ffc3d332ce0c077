//! The NET_BUFFER_LIST_CONTEXT stack.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::context;
use crate::model::irql::DISPATCH_LEVEL;
use crate::verifier::irql::at_most;
use crate::verifier::{self, Rule, objects, pool as rules, v};

/// Pushes a context of `ContextSize` bytes: from the current context's
/// backfill when it has room, else in a new context block of
/// `ContextSize + ContextBackFill` bytes. Sizes are multiples of the
/// pointer size, as `NdisAllocateNetBufferListContext` requires.
///
/// # Safety
///
/// `NetBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferListContext(
    NetBufferList: *mut NET_BUFFER_LIST,
    ContextSize: USHORT,
    ContextBackFill: USHORT,
    _PoolTag: ULONG,
) -> NDIS_STATUS {
    at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferListContext");
    const DDI: &str = "NdisAllocateNetBufferListContext";
    verifier::with(|st, found| {
        if !objects::callers_nbl(st, NetBufferList as usize, DDI, found)
            || !rules::pushed_context_args(ContextSize, ContextBackFill, DDI, found)
        {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        // SAFETY: the NBL is live.
        if unsafe { context::push(st, NetBufferList, ContextSize, ContextBackFill) } {
            NDIS_STATUS_SUCCESS
        } else {
            NDIS_STATUS_RESOURCES
        }
    })
}

/// Pops the last context pushed, which must have been `ContextSize` bytes.
///
/// # Safety
///
/// `NetBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferListContext(NetBufferList: *mut NET_BUFFER_LIST, ContextSize: USHORT) {
    at_most(DISPATCH_LEVEL, "NdisFreeNetBufferListContext");
    const DDI: &str = "NdisFreeNetBufferListContext";
    verifier::with(|st, found| {
        let addr = NetBufferList as usize;
        if !objects::callers_nbl(st, addr, DDI, found) {
            return;
        }
        // ContextFreedOutOfOrder: the last context, with its size.
        match context::top(st, addr) {
            None => {
                found.push(v(
                    Rule::ContextFreedOutOfOrder,
                    DDI,
                    format!("{} has no context allocated to free", st.name(addr)),
                ));
            }
            Some(size) if size != ContextSize => {
                found.push(v(
                    Rule::ContextFreedOutOfOrder,
                    DDI,
                    format!("{}'s last context is {size} bytes, not {ContextSize}", st.name(addr)),
                ));
            }
            // SAFETY: the NBL is live.
            Some(_) => unsafe { context::pop(st, NetBufferList) },
        }
    });
}
