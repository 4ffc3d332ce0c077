//! MDLs: the caller's (`NdisAllocateMdl`) and NDIS's own (for data, clones
//! and retreats).

use ndis_sys::*;

use super::{Block, Body, MdlInfo, State};

/// Makes an MDL describing `len` bytes at `va` (nonpaged, mapped).
pub(crate) fn new_mdl(st: &mut State, va: *mut u8, len: u32, by_caller: bool, data: Option<Block>) -> *mut MDL {
    let Some(block) = Block::of::<MDL>() else {
        return core::ptr::null_mut();
    };
    let mdl: *mut MDL = block.cast();
    let page = va as usize & 0xFFF;
    // SAFETY: `mdl` is a fresh, zeroed, exclusively owned MDL.
    unsafe {
        (*mdl).Size = size_of::<MDL>() as CSHORT;
        (*mdl).MdlFlags = MDL_SOURCE_IS_NONPAGED_POOL;
        (*mdl).MappedSystemVa = va.cast();
        (*mdl).StartVa = va.wrapping_sub(page).cast();
        (*mdl).ByteOffset = page as ULONG;
        (*mdl).ByteCount = len;
    }
    st.insert(mdl as usize, 0, Body::Mdl(MdlInfo { by_caller, block, data }));
    mdl
}

/// Whether the MDL was allocated by `NdisAllocateMdl` (not by NDIS).
pub(crate) fn by_caller(st: &State, mdl: usize) -> bool {
    matches!(st.objs.get(&mdl).map(|o| &o.body), Some(Body::Mdl(m)) if m.by_caller)
}

/// Frees an MDL this module made, and the data NDIS allocated with it.
pub(crate) fn drop_mdl(st: &mut State, mdl: usize, by: &'static str) {
    let (block, data) = match st.objs.get_mut(&mdl).map(|o| &mut o.body) {
        Some(Body::Mdl(m)) => (m.block, m.data.take()),
        _ => return,
    };
    st.bury(mdl, by);
    if let Some(data) = data {
        // SAFETY: the data block was allocated for this MDL and is freed once.
        unsafe { data.free() };
    }
    // SAFETY: the MDL block was allocated by `new_mdl` and is freed once.
    unsafe { block.free() };
}
