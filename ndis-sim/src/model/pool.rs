//! NBL and NB pools: made with their parameters, counted, freed.

use std::alloc::Layout;

use super::{Block, Body, NbPoolInfo, NblPoolInfo, Raw, State};

/// A pool handle's layout: a small block whose address names the pool.
fn handle_layout() -> Layout {
    Layout::new::<u128>()
}

/// Registers a new NBL pool; NULL when the host is out of memory.
pub(crate) fn new_nbl_pool(st: &mut State, tag: u32, info: NblPoolInfo) -> *mut core::ffi::c_void {
    let Some(handle) = Block::zeroed(handle_layout()) else {
        return core::ptr::null_mut();
    };
    st.insert(handle.ptr.0 as usize, tag, Body::NblPool(info));
    handle.cast()
}

/// Registers a new NB pool; NULL when the host is out of memory.
pub(crate) fn new_nb_pool(st: &mut State, tag: u32, info: NbPoolInfo) -> *mut core::ffi::c_void {
    let Some(handle) = Block::zeroed(handle_layout()) else {
        return core::ptr::null_mut();
    };
    st.insert(handle.ptr.0 as usize, tag, Body::NbPool(info));
    handle.cast()
}

/// How many objects allocated from the pool are alive.
pub(crate) fn outstanding(st: &State, pool: usize) -> usize {
    match st.objs.get(&pool).map(|o| &o.body) {
        Some(Body::NblPool(p)) => p.outstanding,
        Some(Body::NbPool(p)) => p.outstanding,
        _ => 0,
    }
}

/// Frees a pool with nothing outstanding (checked by the caller).
pub(crate) fn free_pool(st: &mut State, pool: *mut core::ffi::c_void, by: &'static str) {
    st.bury(pool as usize, by);
    // SAFETY: the handle is a live pool block this module allocated.
    unsafe { Block { ptr: Raw(pool.cast()), layout: handle_layout() }.free() };
}
