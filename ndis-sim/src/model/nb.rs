//! NET_BUFFERs: from NB pools, preallocated with their NBL, or made for a
//! clone; with NDIS's data or over the caller's MDL chain.

use std::alloc::Layout;

use ndis_sys::*;

use super::mdl::{drop_mdl, new_mdl};
use super::records::{NbData, locate, set_nb_data};
use super::{Block, Body, NbInfo, Raw, State};

/// The alignment of every block NDIS allocates.
pub(crate) const ALIGN: usize = MEMORY_ALLOCATION_ALIGNMENT;

/// Points an NB at `chain`, with the data at `offset` for `length` bytes.
///
/// # Safety
///
/// `nb` is live and writable; the chain's MDLs are live.
pub(crate) unsafe fn init_nb(nb: *mut NET_BUFFER, chain: *mut MDL, offset: u32, length: u32) {
    // SAFETY: the caller guarantees the MDLs are live.
    let (cur, cur_off) = unsafe { locate(chain, u64::from(offset)) }.unwrap_or((chain, 0));
    let d = NbData {
        mdl_chain: chain,
        current_mdl: cur,
        current_mdl_offset: cur_off,
        data_offset: offset,
        data_length: length,
        next: core::ptr::null_mut(),
    };
    // SAFETY: the caller guarantees `nb` is live and writable.
    unsafe { set_nb_data(nb, d) };
}

/// A fresh NB record, registered.
pub(crate) fn new_nb(st: &mut State, pool_handle: NDIS_HANDLE, owner: Option<usize>, tag: u32) -> *mut NET_BUFFER {
    let pool = pool_handle as usize;
    let Some(block) = Block::of::<NET_BUFFER>() else {
        return core::ptr::null_mut();
    };
    let nb: *mut NET_BUFFER = block.cast();
    // SAFETY: `nb` is fresh and exclusively owned.
    unsafe { (*nb).NdisPoolHandle = pool_handle };
    st.insert(
        nb as usize,
        tag,
        Body::Nb(NbInfo { pool, owner, block, data: None, more_data: Vec::new(), retreat_mdls: Vec::new() }),
    );
    nb
}

/// Gives an NB `size` bytes of NDIS-allocated data behind one MDL.
pub(crate) fn attach_data(st: &mut State, nb: *mut NET_BUFFER, size: u32) -> bool {
    let Some(layout) = Layout::from_size_align(size.max(1) as usize, ALIGN).ok() else {
        return false;
    };
    let Some(data) = Block::zeroed(layout) else {
        return false;
    };
    let mdl = new_mdl(st, data.ptr.0, size, false, Some(data));
    if mdl.is_null() {
        return false;
    }
    if let Some(info) = st.nb_mut(nb as usize) {
        info.data = Some(Raw(mdl.cast()));
    }
    true
}

/// The MDL NDIS allocated with the NB for its data, or NULL.
pub(crate) fn data_mdl(st: &mut State, nb: *mut NET_BUFFER) -> *mut MDL {
    st.nb_mut(nb as usize).and_then(|i| i.data.map(|d| d.0)).unwrap_or_default().cast()
}

/// The NBL a preallocated NB belongs to, and the NB's pool.
pub(crate) fn owner_and_pool(st: &State, nb: usize) -> Option<(Option<usize>, usize)> {
    match st.objs.get(&nb).map(|o| &o.body) {
        Some(Body::Nb(n)) => Some((n.owner, n.pool)),
        _ => None,
    }
}

/// Frees an NB record and what NDIS allocated with it (its data, the MDLs
/// retreats added that are still on it).
pub(crate) fn drop_nb(st: &mut State, nb: usize, by: &'static str) {
    let Some(Body::Nb(info)) = st.objs.get_mut(&nb).map(|o| &mut o.body) else {
        return;
    };
    let block = info.block;
    let data = info.data.take();
    let more_data = std::mem::take(&mut info.more_data);
    let retreat = std::mem::take(&mut info.retreat_mdls);
    st.bury(nb, by);
    for (mdl, by_handler) in retreat {
        if !by_handler {
            drop_mdl(st, mdl.0 as usize, by);
        }
    }
    for mdl in data.into_iter().chain(more_data) {
        drop_mdl(st, mdl.0 as usize, by);
    }
    // SAFETY: the NB block was allocated by `new_nb` and is freed once.
    unsafe { block.free() };
}
