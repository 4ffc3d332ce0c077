//! Retreat and advance: moving an NB's data start back into unused space
//! (or into a new MDL at the chain's head) and forward again.

use std::alloc::Layout;

use ndis_sys::*;

use super::mdl::{drop_mdl, new_mdl};
use super::nb::ALIGN;
use super::records::{locate, mdl_len, nb_data, set_nb_data};
use super::{Block, Raw, State};

/// Retreats one NB (checked consistent by the caller). Returns the status.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live; `alloc`, if any, returns an MDL
/// describing at least the size it is asked for.
pub(crate) unsafe fn retreat(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    backfill: u32,
    alloc: NET_BUFFER_ALLOCATE_MDL,
) -> NDIS_STATUS {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    let mut d = unsafe { nb_data(nb) };
    let Some(length) = d.data_length.checked_add(delta) else {
        return NDIS_STATUS_INVALID_LENGTH;
    };
    if d.data_offset >= delta {
        d.data_offset -= delta;
        d.data_length = length;
        // SAFETY: as above.
        let (cur, off) = unsafe { locate(d.mdl_chain, u64::from(d.data_offset)) }.unwrap_or((d.mdl_chain, 0));
        d.current_mdl = cur;
        d.current_mdl_offset = off;
        // SAFETY: as above.
        unsafe { set_nb_data(nb, d) };
        return NDIS_STATUS_SUCCESS;
    }
    // Not enough unused space: the unused bytes before the data are used
    // first, and a new MDL at the chain's head holds the rest plus the
    // requested backfill.
    let need = delta - d.data_offset;
    let Some(mut size) = need.checked_add(backfill) else {
        return NDIS_STATUS_INVALID_LENGTH;
    };
    let (mdl, by_handler) = match alloc {
        Some(handler) => {
            // SAFETY: the caller's guarantee on `alloc`.
            (unsafe { handler(&raw mut size) }, true)
        }
        None => {
            let Some(data) = Layout::from_size_align(size.max(1) as usize, ALIGN).ok().and_then(Block::zeroed) else {
                return NDIS_STATUS_RESOURCES;
            };
            (new_mdl(st, data.ptr.0, size, false, Some(data)), false)
        }
    };
    if mdl.is_null() {
        return NDIS_STATUS_RESOURCES;
    }
    // SAFETY: the new MDL is live (ours, or the handler's).
    let got = unsafe { mdl_len(mdl) };
    if got < need {
        return NDIS_STATUS_RESOURCES;
    }
    let head_offset = got - need;
    // SAFETY: the new MDL is not on any chain yet; the NB is live.
    unsafe {
        *NDIS_MDL_LINKAGE(mdl) = d.mdl_chain;
        d.mdl_chain = mdl;
        d.current_mdl = mdl;
        d.current_mdl_offset = head_offset;
        d.data_offset = head_offset;
        d.data_length = length;
        set_nb_data(nb, d);
    }
    if let Some(info) = st.nb_mut(nb as usize) {
        info.retreat_mdls.push((Raw(mdl.cast()), by_handler));
    }
    NDIS_STATUS_SUCCESS
}

/// Advances one NB (checked consistent, `delta` within its data, by the
/// caller); with `free_mdl`, takes off the chain's head the MDLs a retreat
/// added that now hold no data: NDIS's are freed, and the caller's
/// handler's are pushed on `to_free` for its free handler.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live.
pub(crate) unsafe fn advance(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    free_mdl: bool,
    by: &'static str,
    to_free: &mut Vec<*mut MDL>,
) {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    let mut d = unsafe { nb_data(nb) };
    d.data_offset += delta;
    d.data_length -= delta;
    // SAFETY: as above.
    let (cur, off) = unsafe { locate(d.mdl_chain, u64::from(d.data_offset)) }.unwrap_or((d.mdl_chain, 0));
    d.current_mdl = cur;
    d.current_mdl_offset = off;
    if free_mdl {
        // Free, from the head, MDLs a retreat added that now hold no data.
        loop {
            let head = d.mdl_chain;
            let Some(info) = st.nb_mut(nb as usize) else {
                break;
            };
            let Some(pos) = info.retreat_mdls.iter().rposition(|(m, _)| m.0 == head.cast()) else {
                break;
            };
            // SAFETY: the head MDL is live.
            let len = unsafe { mdl_len(head) };
            if d.data_offset < len {
                break; // it still holds data
            }
            let (_, by_handler) = info.retreat_mdls.remove(pos);
            // SAFETY: the head MDL is live.
            d.mdl_chain = unsafe { *NDIS_MDL_LINKAGE(head) };
            d.data_offset -= len;
            if d.current_mdl == head {
                d.current_mdl = d.mdl_chain;
                d.current_mdl_offset = 0;
            }
            // SAFETY: the MDL is off the chain now.
            unsafe { *NDIS_MDL_LINKAGE(head) = core::ptr::null_mut() };
            if by_handler {
                to_free.push(head);
            } else {
                drop_mdl(st, head as usize, by);
            }
        }
    }
    // SAFETY: as above.
    unsafe { set_nb_data(nb, d) };
}
