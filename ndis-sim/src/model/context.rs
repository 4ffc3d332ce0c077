//! The NET_BUFFER_LIST_CONTEXT stack: contexts pushed into the backfill or
//! into new blocks, popped last-in first-out.

use std::alloc::Layout;

use ndis_sys::*;

use super::nb::ALIGN;
use super::{Block, Pushed, State};

/// Pushes a context of `size` bytes: from the current context's backfill
/// when it has room, else in a new block of `size + backfill` bytes.
/// Returns false when the host is out of memory.
///
/// # Safety
///
/// `nbl` is a live NBL.
pub(crate) unsafe fn push(st: &mut State, nbl: *mut NET_BUFFER_LIST, size: u16, backfill: u16) -> bool {
    let addr = nbl as usize;
    // SAFETY: the NBL is live; its context blocks are this module's.
    let ctx = unsafe { (*nbl).Context };
    // SAFETY: as above.
    if !ctx.is_null() && unsafe { (*ctx).Offset } >= size {
        // SAFETY: as above.
        unsafe { (*ctx).Offset -= size };
        if let Some(n) = st.nbl_mut(addr) {
            n.pushed.push(Pushed { size, block: None });
        }
        return true;
    }
    let capacity = usize::from(size) + usize::from(backfill);
    let bytes = size_of::<NET_BUFFER_LIST_CONTEXT>() + capacity;
    let Some(block) = Layout::from_size_align(bytes, ALIGN).ok().and_then(Block::zeroed) else {
        return false;
    };
    let c: *mut NET_BUFFER_LIST_CONTEXT = block.cast();
    // SAFETY: `c` is fresh; the NBL is live.
    unsafe {
        (*c).Size = capacity as u16;
        (*c).Offset = backfill;
        (*c).Next = ctx;
        (*nbl).Context = c;
    }
    if let Some(n) = st.nbl_mut(addr) {
        n.pushed.push(Pushed { size, block: Some(block) });
    }
    true
}

/// The size of the last context pushed, if any.
pub(crate) fn top(st: &State, nbl: usize) -> Option<u16> {
    st.nbl(nbl).and_then(|n| n.pushed.last()).map(|p| p.size)
}

/// Pops the last context pushed (checked to be there by the caller).
///
/// # Safety
///
/// `nbl` is a live NBL.
pub(crate) unsafe fn pop(st: &mut State, nbl: *mut NET_BUFFER_LIST) {
    let Some(top) = st.nbl_mut(nbl as usize).and_then(|n| n.pushed.pop()) else { return };
    match top.block {
        Some(block) => {
            // SAFETY: the NBL is live; its current context is this block.
            unsafe {
                let c: *mut NET_BUFFER_LIST_CONTEXT = block.cast();
                (*nbl).Context = (*c).Next;
                block.free();
            }
        }
        // SAFETY: the NBL is live; its context has this much used space.
        None => unsafe { (*(*nbl).Context).Offset += top.size },
    }
}
