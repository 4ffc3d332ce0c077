//! Retreat and advance of NBs and NBLs, with the caller's MDL handlers.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::Kind;
use crate::model::State;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::records::nbs;
use crate::model::retreat::{advance, retreat};
use crate::verifier::irql::at_most;
use crate::verifier::{self, Violation, data, objects};

/// Checks one NB and retreats it.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live.
unsafe fn checked_retreat(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    backfill: u32,
    alloc: NET_BUFFER_ALLOCATE_MDL,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> NDIS_STATUS {
    // SAFETY: the caller guarantees `nb` and its MDLs are live; `alloc` is
    // `take_preallocated` or none.
    unsafe {
        if !data::consistent(st, nb, ddi, found) {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        retreat(st, nb, delta, backfill, alloc)
    }
}

/// Checks one NB and advances it; the caller's handler's MDLs it frees go
/// on `to_free`.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live.
#[allow(clippy::too_many_arguments, reason = "the DDI's arguments plus the state and its outputs")]
unsafe fn checked_advance(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    free_mdl: bool,
    handler: NET_BUFFER_FREE_MDL,
    ddi: &'static str,
    found: &mut Vec<Violation>,
    to_free: &mut Vec<*mut MDL>,
) {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    unsafe {
        if !data::consistent(st, nb, ddi, found) || !data::advance_within(st, nb, delta, ddi, found) {
            return;
        }
        let before = to_free.len();
        advance(st, nb, delta, free_mdl, ddi, to_free);
        data::free_handler_given(st, handler, &to_free[before..], ddi, found);
    }
}

/// Retreats a NET_BUFFER's data start by `DataOffsetDelta` bytes: into
/// the unused space before the data when there is enough, else into a new
/// MDL (from `AllocateMdlHandler`, or NDIS's own) at the chain's head,
/// with `DataBackFill` bytes of unused space before the data.
///
/// # Safety
///
/// `NetBuffer` is a live NB the caller owns; the handler, if any, returns
/// an MDL describing at least the size it is asked for.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisRetreatNetBufferDataStart(
    NetBuffer: *mut NET_BUFFER,
    DataOffsetDelta: ULONG,
    DataBackFill: ULONG,
    AllocateMdlHandler: NET_BUFFER_ALLOCATE_MDL,
) -> NDIS_STATUS {
    at_most(DISPATCH_LEVEL, "NdisRetreatNetBufferDataStart");
    const DDI: &str = "NdisRetreatNetBufferDataStart";
    // The caller's allocate handler may call NdisAllocateMdl: make the MDL
    // outside the lock when the handler will be needed.
    let pre = pre_allocate(NetBuffer, DataOffsetDelta, DataBackFill, AllocateMdlHandler);
    let status = verifier::with(|st, found| {
        if !objects::live(st, NetBuffer as usize, Kind::Nb, DDI, found) {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        // SAFETY: the NB is live; its MDLs are the caller's or ours.
        unsafe { checked_retreat(st, NetBuffer, DataOffsetDelta, DataBackFill, pre, DDI, found) }
    });
    PREALLOCATED.with(|p| p.set(core::ptr::null_mut()));
    status
}

thread_local! {
    static PREALLOCATED: std::cell::Cell<*mut MDL> = const { std::cell::Cell::new(core::ptr::null_mut()) };
    static PREALLOCATED_SIZE: std::cell::Cell<ULONG> = const { std::cell::Cell::new(0) };
}

/// Hands a pre-made MDL to `retreat` in place of the caller's handler.
unsafe extern "system" fn take_preallocated(size: *mut ULONG) -> *mut MDL {
    // SAFETY: `retreat` passes a valid pointer.
    unsafe { *size = PREALLOCATED_SIZE.with(std::cell::Cell::get) };
    PREALLOCATED.with(|p| p.replace(core::ptr::null_mut()))
}

/// Calls the caller's allocate handler before the lock is taken, when a
/// retreat will need a new MDL; returns the handler `retreat` then uses.
fn pre_allocate(
    nb: *mut NET_BUFFER,
    delta: u32,
    backfill: u32,
    handler: NET_BUFFER_ALLOCATE_MDL,
) -> NET_BUFFER_ALLOCATE_MDL {
    let handler = handler?;
    // SAFETY: the caller of the DDI guarantees `nb` is live.
    let offset = unsafe { *NET_BUFFER_DATA_OFFSET(nb) };
    if offset >= delta {
        return None;
    }
    let mut size = (delta - offset).saturating_add(backfill);
    // SAFETY: the caller's handler, as NDIS calls it.
    let mdl = unsafe { handler(&raw mut size) };
    PREALLOCATED.with(|p| p.set(mdl));
    PREALLOCATED_SIZE.with(|s| s.set(size));
    Some(take_preallocated)
}

/// Frees MDLs through the caller's free handler, outside the lock.
fn free_through_handlers(to_free: Vec<*mut MDL>, handler: NET_BUFFER_FREE_MDL) {
    let Some(h) = handler else { return };
    for mdl in to_free {
        // SAFETY: the MDL came from the caller's allocate handler and is
        // off every chain; the caller's free handler takes it back.
        unsafe { h(mdl) };
    }
}

/// Advances a NET_BUFFER's data start by `DataOffsetDelta` bytes; with
/// `FreeMdl`, MDLs a retreat added that now hold no data are freed
/// (through `FreeMdlHandler` for those the caller's handler made).
///
/// # Safety
///
/// `NetBuffer` is a live NB the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAdvanceNetBufferDataStart(
    NetBuffer: *mut NET_BUFFER,
    DataOffsetDelta: ULONG,
    FreeMdl: BOOLEAN,
    FreeMdlHandler: NET_BUFFER_FREE_MDL,
) {
    at_most(DISPATCH_LEVEL, "NdisAdvanceNetBufferDataStart");
    const DDI: &str = "NdisAdvanceNetBufferDataStart";
    let mut to_free = Vec::new();
    verifier::with(|st, found| {
        if objects::live(st, NetBuffer as usize, Kind::Nb, DDI, found) {
            // SAFETY: the NB is live.
            unsafe {
                checked_advance(st, NetBuffer, DataOffsetDelta, FreeMdl != 0, FreeMdlHandler, DDI, found, &mut to_free);
            }
        }
    });
    free_through_handlers(to_free, FreeMdlHandler);
}

/// Retreats every NET_BUFFER of an NBL (see `NdisRetreatNetBufferDataStart`).
/// On failure, the NBs already retreated are advanced back.
///
/// # Safety
///
/// `NetBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisRetreatNetBufferListDataStart(
    NetBufferList: *mut NET_BUFFER_LIST,
    DataOffsetDelta: ULONG,
    DataBackFill: ULONG,
    AllocateMdlHandler: NET_BUFFER_ALLOCATE_MDL,
    FreeMdlHandler: NET_BUFFER_FREE_MDL,
) -> NDIS_STATUS {
    at_most(DISPATCH_LEVEL, "NdisRetreatNetBufferListDataStart");
    const DDI: &str = "NdisRetreatNetBufferListDataStart";
    let addr = NetBufferList as usize;
    let all = verifier::with(|st, found| {
        if !objects::callers_nbl(st, addr, DDI, found) {
            return None;
        }
        // SAFETY: the NBL is live.
        Some(unsafe { nbs(NetBufferList) })
    });
    let Some(all) = all else {
        return NDIS_STATUS_INVALID_PARAMETER;
    };
    for (i, &nb) in all.iter().enumerate() {
        let pre = pre_allocate(nb, DataOffsetDelta, DataBackFill, AllocateMdlHandler);
        let status = verifier::with(|st, found| {
            // SAFETY: the NB is on a live NBL.
            unsafe { checked_retreat(st, nb, DataOffsetDelta, DataBackFill, pre, DDI, found) }
        });
        PREALLOCATED.with(|p| p.set(core::ptr::null_mut()));
        if status != NDIS_STATUS_SUCCESS {
            let mut to_free = Vec::new();
            verifier::with(|st, found| {
                for &done in &all[..i] {
                    // SAFETY: as above.
                    unsafe {
                        checked_advance(st, done, DataOffsetDelta, true, FreeMdlHandler, DDI, found, &mut to_free);
                    }
                }
            });
            free_through_handlers(to_free, FreeMdlHandler);
            return status;
        }
    }
    NDIS_STATUS_SUCCESS
}

/// Advances every NET_BUFFER of an NBL (see `NdisAdvanceNetBufferDataStart`).
///
/// # Safety
///
/// `NetBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAdvanceNetBufferListDataStart(
    NetBufferList: *mut NET_BUFFER_LIST,
    DataOffsetDelta: ULONG,
    FreeMdl: BOOLEAN,
    FreeMdlMdlHandler: NET_BUFFER_FREE_MDL,
) {
    at_most(DISPATCH_LEVEL, "NdisAdvanceNetBufferListDataStart");
    const DDI: &str = "NdisAdvanceNetBufferListDataStart";
    let addr = NetBufferList as usize;
    let mut to_free = Vec::new();
    verifier::with(|st, found| {
        if !objects::callers_nbl(st, addr, DDI, found) {
            return;
        }
        // SAFETY: the NBL is live.
        for nb in unsafe { nbs(NetBufferList) } {
            // SAFETY: the NB is on a live NBL.
            unsafe {
                checked_advance(st, nb, DataOffsetDelta, FreeMdl != 0, FreeMdlMdlHandler, DDI, found, &mut to_free);
            }
        }
    });
    free_through_handlers(to_free, FreeMdlMdlHandler);
}
