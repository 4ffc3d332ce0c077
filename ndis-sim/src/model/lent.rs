//! NBLs the stack lends a driver (a classify's layer data, a filter's
//! receive indication): made by the stack, given back when the driver's
//! callback returns, regained by the stack at the last reference.

use ndis_sys::*;

use super::mdl::{drop_mdl, new_mdl};
use super::nbl::{NblRequest, alloc_nbl, drop_nbl};
use super::{Block, InjectionRecord, LentInfo, NblOrigin, Raw, State};

/// Makes an NBL with one NB over a copy of `packet`, its data starting
/// `offset` bytes in, the copy split across several MDLs: one more at each
/// of `cuts` (offsets into `packet`; none for one MDL; those at its ends or
/// repeated are ignored), each MDL with its own piece of memory. NULL when
/// the host is out of memory.
pub(crate) fn lend_split(st: &mut State, packet: &[u8], offset: u32, cuts: &[usize]) -> *mut NET_BUFFER_LIST {
    let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
    let offset = offset.min(len);
    let mut bounds: Vec<usize> = cuts.iter().copied().filter(|c| *c > 0 && *c < packet.len()).collect();
    bounds.sort_unstable();
    bounds.dedup();
    bounds.insert(0, 0);
    bounds.push(packet.len());
    let mut mdls: Vec<*mut MDL> = Vec::new();
    for w in bounds.windows(2) {
        let piece = &packet[w[0]..w[1]];
        let layout = std::alloc::Layout::from_size_align(piece.len().max(1), 16).ok();
        let Some(data) = layout.and_then(Block::zeroed) else {
            return unmake(st, &mdls);
        };
        // SAFETY: `data` is fresh and holds `piece.len()` bytes.
        unsafe { core::ptr::copy_nonoverlapping(piece.as_ptr(), data.ptr.0, piece.len()) };
        let mdl = new_mdl(st, data.ptr.0, piece.len() as u32, false, Some(data));
        if mdl.is_null() {
            return unmake(st, &mdls);
        }
        if let Some(prev) = mdls.last() {
            // SAFETY: the MDLs just made, linked in order.
            unsafe { (**prev).Next = mdl };
        }
        mdls.push(mdl);
    }
    let mdl = mdls[0];
    let nbl = alloc_nbl(
        st,
        NblRequest {
            pool: core::ptr::null_mut(),
            context_size: 0,
            backfill: 0,
            origin: NblOrigin::Stack,
            nb: Some((mdl, offset, len - offset)),
            pool_nb: false,
        },
    );
    if let Some(n) = st.nbl_mut(nbl as usize) {
        n.lent = Some(Box::new(LentInfo { shape: (offset, len - offset), returned: false, came_from: None }));
        if let Some(nb) = n.prealloc_nb
            && let Some(info) = st.nb_mut(nb.0 as usize)
        {
            info.data = Some(Raw(mdl.cast()));
            info.more_data = mdls[1..].iter().map(|m| Raw(m.cast())).collect();
        }
    } else {
        return unmake(st, &mdls);
    }
    nbl
}

/// Frees the MDLs `lend_split` made for an NBL it could not make: NULL.
fn unmake(st: &mut State, mdls: &[*mut MDL]) -> *mut NET_BUFFER_LIST {
    for m in mdls {
        drop_mdl(st, *m as usize, "the stack");
    }
    core::ptr::null_mut()
}

/// Marks a lent NBL as a packet `handle` injected with `context`.
pub(crate) fn mark_injected_by(st: &mut State, nbl: usize, handle: usize, context: *mut u8) {
    if let Some(l) = st.nbl_mut(nbl).and_then(|n| n.lent.as_mut()) {
        l.came_from = Some(InjectionRecord { handle, context: Raw(context) });
    }
}

/// (DataOffset, DataLength) of the NBL's first NB now, if it has one.
///
/// # Safety
///
/// `nbl` is live.
pub(crate) unsafe fn offsets(nbl: *mut NET_BUFFER_LIST) -> Option<(u32, u32)> {
    // SAFETY: the caller guarantees the NBL is live; its NB is its own.
    unsafe {
        let nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
        (!nb.is_null()).then(|| (*NET_BUFFER_DATA_OFFSET(nb), *NET_BUFFER_DATA_LENGTH(nb)))
    }
}

/// The driver's callback returned the NBL. Returns whether the stack
/// regains it now (no reference holds it).
pub(crate) fn give_back(st: &mut State, nbl: usize) -> bool {
    let Some(info) = st.nbl_mut(nbl) else { return false };
    if let Some(l) = info.lent.as_mut() {
        l.returned = true;
    }
    info.references == 0
}

/// The stack frees a lent NBL it regained (clones checked gone).
pub(crate) fn release(st: &mut State, nbl: usize, by: &'static str) {
    drop_nbl(st, nbl, by);
}
