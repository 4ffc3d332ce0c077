//! NET_BUFFER_LISTs: allocated from a pool (with what it preallocates),
//! recycled through a quarantine, freed with everything NDIS made for them.

use std::alloc::Layout;

use ndis_sys::*;

use super::mdl::drop_mdl;
use super::nb::{ALIGN, attach_data, data_mdl, drop_nb, init_nb, new_nb};
use super::{Block, Body, NblInfo, NblOrigin, Raw, State};

/// Freed NBL records wait this long before their memory is used again, so
/// that a double free or a use after free of a recent NBL is still caught:
/// the dead NBL stays in the registry, with the DDI that freed it, until
/// its memory is used again.
const QUARANTINE: usize = 256;

/// `MaxNetBufferListInfo` of the newest NDIS: `NetBufferListInfo` is the
/// record's last field, and its length grows with the NDIS version a
/// driver is built for. The bindings are NDIS 6.30's (24 slots on 64-bit
/// targets, 21 on 32-bit); nblinfo.h adds `GftOffloadInformation` and
/// `GftFlowEntryId` (6.50, 64-bit), `NetBufferListInfoReserved3` (6.80;
/// and `…Reserved4` on 32-bit) and the four 32-bit `SwitchForwarding*` /
/// `VirtualSubnetInfo` slots (6.82): 27 slots on every target since 6.82.
pub(crate) const NEWEST_NET_BUFFER_LIST_INFO_SLOTS: usize = 27;

/// The size of a NET_BUFFER_LIST record as NDIS 6.82 and later lay it out
/// (368 bytes on 64-bit targets, against the bindings' 336): the 6.30
/// record up to `NetBufferListInfo`, the newest number of slots, rounded
/// up to the record's alignment. Windows allocates its own newest layout
/// whatever the driver targets, so the simulator does too, on every
/// allocation path (NDIS and FWPS allocations, clones, stack NBLs): a
/// driver built against any NDIS version is in bounds.
pub const NET_BUFFER_LIST_SIZE: usize = {
    let info = core::mem::offset_of!(NET_BUFFER_LIST, NetBufferListInfo);
    let end = info + NEWEST_NET_BUFFER_LIST_INFO_SLOTS * size_of::<PVOID>();
    let align = align_of::<NET_BUFFER_LIST>();
    let size = end.div_ceil(align) * align;
    if size < size_of::<NET_BUFFER_LIST>() { size_of::<NET_BUFFER_LIST>() } else { size }
};

/// The layout of the NET_BUFFER_LIST records the simulator allocates.
pub(crate) fn nbl_layout() -> Layout {
    // The size is a multiple of the (power-of-two) alignment, both non-zero.
    Layout::from_size_align(NET_BUFFER_LIST_SIZE, align_of::<NET_BUFFER_LIST>())
        .unwrap_or(Layout::new::<NET_BUFFER_LIST>())
}

impl State {
    /// A zeroed NET_BUFFER_LIST record: a recycled one once enough wait.
    fn nbl_block(&mut self) -> Option<Block> {
        if self.nbl_cache.len() > QUARANTINE
            && let Some(b) = self.nbl_cache.pop_front()
        {
            // SAFETY: the block is a NET_BUFFER_LIST record no one owns.
            unsafe { b.ptr.0.write_bytes(0, b.layout.size()) };
            return Some(b);
        }
        Block::zeroed(nbl_layout())
    }

    /// Takes back a freed NET_BUFFER_LIST record.
    fn recycle_nbl_block(&mut self, b: Block) {
        self.nbl_cache.push_back(b);
    }
}

/// What an NBL allocation asks for.
pub(crate) struct NblRequest {
    pub pool: NDIS_HANDLE,
    pub context_size: u16,
    pub backfill: u16,
    pub origin: NblOrigin,
    /// Give it a NET_BUFFER: `Some((chain, offset, length))`; a NULL chain
    /// takes the pool's data, if it has any.
    pub nb: Option<(*mut MDL, u32, u32)>,
    /// With `nb` `None`: give it the NET_BUFFER (and data) the pool
    /// preallocates, if the pool has `fAllocateNetBuffer`
    /// (`NdisAllocateNetBufferList`).
    pub pool_nb: bool,
}

/// Allocates an NBL (and what the pool preallocates with it). Arguments
/// have been checked.
pub(crate) fn alloc_nbl(st: &mut State, req: NblRequest) -> *mut NET_BUFFER_LIST {
    let pool = req.pool as usize;
    // One look-up of the pool: its parameters, its tag, and the count
    // (taken back if the allocation fails).
    let (context_size, data_size, allocate_nb, tag) = match st.objs.get_mut(&pool) {
        Some(o) => match &mut o.body {
            Body::NblPool(p) => {
                p.outstanding += 1;
                (p.context_size, p.data_size, p.allocate_nb, o.tag)
            }
            _ => (0, 0, false, o.tag),
        },
        None => (0, 0, false, 0),
    };
    let wants_nb = match req.nb {
        Some(nb) => Some(nb),
        None if req.pool_nb && allocate_nb => Some((core::ptr::null_mut(), 0, data_size)),
        None => None,
    };
    let Some(block) = st.nbl_block() else {
        st.pool_count(pool, false);
        return core::ptr::null_mut();
    };
    let nbl: *mut NET_BUFFER_LIST = block.cast();

    // The first context: the pool's preallocated area when the request
    // fits in it (used data at its end, the rest backfill), else a block of
    // exactly ContextSize + ContextBackFill.
    let wanted = u32::from(req.context_size) + u32::from(req.backfill);
    let capacity = if wanted <= u32::from(context_size) { u32::from(context_size) } else { wanted };
    let base_context = if capacity > 0 {
        let size = size_of::<NET_BUFFER_LIST_CONTEXT>() + capacity as usize;
        let Some(ctx) = Layout::from_size_align(size, ALIGN).ok().and_then(Block::zeroed) else {
            st.recycle_nbl_block(block);
            st.pool_count(pool, false);
            return core::ptr::null_mut();
        };
        let c: *mut NET_BUFFER_LIST_CONTEXT = ctx.cast();
        // SAFETY: `c` and `nbl` are fresh and exclusively owned.
        unsafe {
            (*c).Size = capacity as u16;
            (*c).Offset = (capacity - u32::from(req.context_size)) as u16;
            (*nbl).Context = c;
        }
        Some(ctx)
    } else {
        None
    };
    // SAFETY: `nbl` is fresh and exclusively owned.
    unsafe {
        (*nbl).NdisPoolHandle = req.pool;
        (*nbl).SourceHandle = core::ptr::null_mut();
    }
    let nbl_info = NblInfo {
        pool,
        origin: req.origin,
        record: block.ptr,
        prealloc_nb: None,
        base_context,
        pushed: Vec::new(),
        clone: None,
        references: 0,
        injected: None,
        lent: None,
    };
    st.insert(nbl as usize, tag, Body::Nbl(nbl_info));

    if let Some((chain, offset, length)) = wants_nb {
        let nb = new_nb(st, req.pool, Some(nbl as usize), tag);
        if nb.is_null() {
            return core::ptr::null_mut();
        }
        let (chain, offset, length) = if chain.is_null() && data_size > 0 {
            if !attach_data(st, nb, data_size) {
                return core::ptr::null_mut();
            }
            (data_mdl(st, nb), offset, length)
        } else {
            (chain, offset, length)
        };
        // SAFETY: `nb` is fresh; the chain was checked by the caller.
        unsafe {
            init_nb(nb, chain, offset, length);
            *NET_BUFFER_LIST_FIRST_NB(nbl) = nb;
        }
        if let Some(n) = st.nbl_mut(nbl as usize) {
            n.prealloc_nb = Some(Raw(nb.cast()));
        }
    }
    nbl
}

/// Frees an NBL record and everything NDIS allocated with it.
pub(crate) fn drop_nbl(st: &mut State, nbl: usize, by: &'static str) {
    let Some(obj) = st.objs.get_mut(&nbl) else { return };
    obj.freed_by = Some(by);
    let Body::Nbl(info) = &mut obj.body else { return };
    let block = Block { ptr: info.record, layout: nbl_layout() };
    let pool = info.pool;
    let prealloc = info.prealloc_nb.take();
    let base = info.base_context.take();
    let pushed = std::mem::take(&mut info.pushed);
    let clone = info.clone.take();
    // The dead record stays in the registry while the record waits in the
    // quarantine (so a double free or a use after free is reported), and is
    // replaced when the memory is used again: no graveyard entry needed.
    st.pool_count(pool, false);
    if let Some(nb) = prealloc {
        drop_nb(st, nb.0 as usize, by);
    }
    if let Some(c) = clone {
        for nb in c.nbs {
            let nb_pool = st.nb_mut(nb.0 as usize).map_or(0, |n| n.pool);
            st.pool_count(nb_pool, false);
            drop_nb(st, nb.0 as usize, by);
        }
        for mdl in c.mdls {
            drop_mdl(st, mdl.0 as usize, by);
        }
    }
    for p in pushed {
        if let Some(b) = p.block {
            // SAFETY: the context block was allocated for this NBL, freed once.
            unsafe { b.free() };
        }
    }
    if let Some(b) = base {
        // SAFETY: as above.
        unsafe { b.free() };
    }
    st.recycle_nbl_block(block);
}
