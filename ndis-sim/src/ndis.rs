//! The NDIS net-buffer DDIs (ndis-sys' functions), exported under their C
//! names with their C signatures.
//!
//! Every function's contract is the DDI's documented one; what the
//! simulator decides where the documentation is silent is said on the
//! function. Misuse is reported to the verifier ([`crate::Rule`]).
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use std::alloc::Layout;

use ndis_sys::*;

use crate::state::{
    self, Block, Body, MdlInfo, NbData, NbInfo, NbPoolInfo, NblInfo, NblOrigin, NblPoolInfo, Pushed, Raw, State,
    nb_data, nb_inconsistency, set_nb_data, v,
};
use crate::verifier::{Rule, Violation};

const ALIGN: usize = MEMORY_ALLOCATION_ALIGNMENT;

fn misaligned(n: u32) -> bool {
    n as usize % ALIGN != 0
}

/// The pool handle: a small block whose address names the pool.
fn new_handle() -> Option<Block> {
    Block::zeroed(Layout::from_size_align(16, 16).ok()?)
}

fn header_ok(h: &NDIS_OBJECT_HEADER, revision: u8, size: u16) -> Result<(), String> {
    if h.Type != NDIS_OBJECT_TYPE_DEFAULT {
        return Err(format!("Header.Type is {:#x}, not NDIS_OBJECT_TYPE_DEFAULT", h.Type));
    }
    if h.Revision < revision {
        return Err(format!("Header.Revision is {}, below revision {revision}", h.Revision));
    }
    if h.Size < size {
        return Err(format!("Header.Size is {}, below the revision's size {size}", h.Size));
    }
    Ok(())
}

/// Allocates a pool of NET_BUFFER_LIST structures.
///
/// Validates the parameters as NDIS does: object header, `ContextSize` a
/// multiple of `MEMORY_ALLOCATION_ALIGNMENT`, `DataSize` only with
/// `fAllocateNetBuffer`. Returns NULL (and reports) when they are invalid.
///
/// # Safety
///
/// `Parameters` points to a readable `NET_BUFFER_LIST_POOL_PARAMETERS`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferListPool(
    _NdisHandle: NDIS_HANDLE,
    Parameters: *const NET_BUFFER_LIST_POOL_PARAMETERS,
) -> NDIS_HANDLE {
    const DDI: &str = "NdisAllocateNetBufferListPool";
    state::with(|st, found| {
        if Parameters.is_null() {
            found.push(v(Rule::InvalidPoolParameters, DDI, "Parameters is NULL"));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `Parameters` is readable.
        let p = unsafe { *Parameters };
        let bad = |found: &mut Vec<Violation>, rule, msg: String| {
            found.push(v(rule, DDI, msg));
            core::ptr::null_mut()
        };
        if let Err(e) = header_ok(
            &p.Header,
            NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        ) {
            return bad(found, Rule::InvalidPoolParameters, e);
        }
        if misaligned(u32::from(p.ContextSize)) {
            return bad(
                found,
                Rule::MisalignedContextSize,
                format!("ContextSize {} is not a multiple of MEMORY_ALLOCATION_ALIGNMENT ({ALIGN})", p.ContextSize),
            );
        }
        if p.DataSize != 0 && p.fAllocateNetBuffer == 0 {
            return bad(
                found,
                Rule::InvalidPoolParameters,
                format!("DataSize {} without fAllocateNetBuffer", p.DataSize),
            );
        }
        let Some(handle) = new_handle() else {
            return core::ptr::null_mut();
        };
        st.insert(
            handle.ptr.0 as usize,
            p.PoolTag,
            Body::NblPool(NblPoolInfo {
                allocate_nb: p.fAllocateNetBuffer != 0,
                context_size: p.ContextSize,
                data_size: p.DataSize,
                outstanding: 0,
            }),
        );
        handle.cast()
    })
}

/// Frees a pool of any kind, reporting outstanding allocations.
fn free_pool(st: &mut State, pool: NDIS_HANDLE, kind: &'static str, ddi: &'static str, found: &mut Vec<Violation>) {
    let addr = pool as usize;
    if !st.live(addr, kind, ddi, found) {
        return;
    }
    let outstanding = match st.objs.get(&addr).map(|o| &o.body) {
        Some(Body::NblPool(p)) => p.outstanding,
        Some(Body::NbPool(p)) => p.outstanding,
        _ => 0,
    };
    if outstanding > 0 {
        let live: Vec<String> = st
            .objs
            .values()
            .filter(|o| o.freed_by.is_none())
            .filter(|o| match &o.body {
                Body::Nbl(n) => n.pool == addr,
                Body::Nb(n) => n.pool == addr && n.owner.is_none(),
                _ => false,
            })
            .map(|o| o.name())
            .collect();
        found.push(v(
            Rule::PoolFreedWithOutstandingAllocations,
            ddi,
            format!("{} has {outstanding} outstanding allocations: {}", st.name(addr), live.join(", ")),
        ));
        return;
    }
    st.bury(addr, ddi);
    // SAFETY: the handle is a live pool block this module allocated.
    unsafe { Block { ptr: Raw(pool.cast()), layout: Layout::from_size_align_unchecked(16, 16) }.free() };
}

/// Frees a NET_BUFFER_LIST pool. Reports (and keeps the pool) when
/// anything allocated from it is still alive.
///
/// # Safety
///
/// `PoolHandle` is a handle `NdisAllocateNetBufferListPool` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferListPool(PoolHandle: NDIS_HANDLE) {
    state::with(|st, found| free_pool(st, PoolHandle, "nbl-pool", "NdisFreeNetBufferListPool", found));
}

/// Allocates a pool of NET_BUFFER structures; `DataSize` non-zero makes
/// `NdisAllocateNetBufferMdlAndData` allocate MDL and data with each NB.
///
/// # Safety
///
/// `Parameters` points to a readable `NET_BUFFER_POOL_PARAMETERS`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferPool(
    _NdisHandle: NDIS_HANDLE,
    Parameters: *const NET_BUFFER_POOL_PARAMETERS,
) -> NDIS_HANDLE {
    const DDI: &str = "NdisAllocateNetBufferPool";
    state::with(|st, found| {
        if Parameters.is_null() {
            found.push(v(Rule::InvalidPoolParameters, DDI, "Parameters is NULL"));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `Parameters` is readable.
        let p = unsafe { *Parameters };
        if let Err(e) = header_ok(
            &p.Header,
            NET_BUFFER_POOL_PARAMETERS_REVISION_1,
            NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
        ) {
            found.push(v(Rule::InvalidPoolParameters, DDI, e));
            return core::ptr::null_mut();
        }
        let Some(handle) = new_handle() else {
            return core::ptr::null_mut();
        };
        st.insert(handle.ptr.0 as usize, p.PoolTag, Body::NbPool(NbPoolInfo { data_size: p.DataSize, outstanding: 0 }));
        handle.cast()
    })
}

/// Frees a NET_BUFFER pool. Reports (and keeps the pool) when anything
/// allocated from it is still alive.
///
/// # Safety
///
/// `PoolHandle` is a handle `NdisAllocateNetBufferPool` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferPool(PoolHandle: NDIS_HANDLE) {
    state::with(|st, found| free_pool(st, PoolHandle, "nb-pool", "NdisFreeNetBufferPool", found));
}

// ---- MDLs ----

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

/// Allocates an MDL describing `Length` bytes of the caller's nonpaged
/// memory at `VirtualAddress`.
///
/// # Safety
///
/// The memory is valid for `Length` bytes for as long as the MDL is used.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateMdl(
    _NdisHandle: NDIS_HANDLE,
    VirtualAddress: PVOID,
    Length: ULONG,
) -> *mut MDL {
    state::with(|st, _| new_mdl(st, VirtualAddress.cast(), Length, true, None))
}

/// Frees an MDL `NdisAllocateMdl` allocated (and only such an MDL).
///
/// # Safety
///
/// `Mdl` is an MDL `NdisAllocateMdl` returned, no longer on any chain.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeMdl(Mdl: *mut MDL) {
    const DDI: &str = "NdisFreeMdl";
    state::with(|st, found| {
        if !st.live(Mdl as usize, "mdl", DDI, found) {
            return;
        }
        if let Some(Body::Mdl(m)) = st.objs.get(&(Mdl as usize)).map(|o| &o.body)
            && !m.by_caller
        {
            found.push(v(
                Rule::WrongFreeFunction,
                DDI,
                format!("{} was allocated by NDIS, not by NdisAllocateMdl; NDIS frees it", st.name(Mdl as usize)),
            ));
            return;
        }
        drop_mdl(st, Mdl as usize, DDI);
    });
}

// ---- NET_BUFFERs ----

/// Points an NB at `chain`, with the data at `offset` for `length` bytes.
///
/// # Safety
///
/// `nb` is live and writable; the chain's MDLs are live.
pub(crate) unsafe fn init_nb(nb: *mut NET_BUFFER, chain: *mut MDL, offset: u32, length: u32) {
    // SAFETY: the caller guarantees the MDLs are live.
    let (cur, cur_off) = unsafe { state::locate(chain, u64::from(offset)) }.unwrap_or((chain, 0));
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

/// The bytes in a chain.
///
/// # Safety
///
/// The chain's MDLs are live.
unsafe fn chain_len(chain: *mut MDL) -> u64 {
    // SAFETY: the caller guarantees the chain's MDLs are live.
    unsafe { state::chain(chain).into_iter().map(|m| u64::from(state::mdl_len(m))).sum() }
}

/// Checks the MDL-chain arguments of the NB allocators.
///
/// # Safety
///
/// The chain's MDLs are live.
unsafe fn check_chain_args(
    chain: *mut MDL,
    offset: u32,
    length: SIZE_T,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if chain.is_null() {
        if offset != 0 || length != 0 {
            found.push(v(
                Rule::NullMdlWithData,
                ddi,
                format!("MdlChain is NULL but DataOffset is {offset} and DataLength is {length}"),
            ));
            return false;
        }
        return true;
    }
    // SAFETY: the caller guarantees the chain's MDLs are live.
    let total = unsafe { chain_len(chain) };
    if u64::from(offset) + length > total {
        found.push(v(
            Rule::DataOutsideMdlChain,
            ddi,
            format!("DataOffset {offset} + DataLength {length} is beyond the MDL chain's {total} bytes"),
        ));
        return false;
    }
    if length > u32::MAX as SIZE_T {
        found.push(v(Rule::DataOutsideMdlChain, ddi, format!("DataLength {length} does not fit a ULONG")));
        return false;
    }
    true
}

/// A fresh NB record, registered.
fn new_nb(st: &mut State, pool_handle: NDIS_HANDLE, owner: Option<usize>, tag: u32) -> *mut NET_BUFFER {
    let pool = pool_handle as usize;
    let Some(block) = Block::of::<NET_BUFFER>() else {
        return core::ptr::null_mut();
    };
    let nb: *mut NET_BUFFER = block.cast();
    // SAFETY: `nb` is fresh and exclusively owned.
    unsafe { (*nb).NdisPoolHandle = pool_handle };
    st.insert(nb as usize, tag, Body::Nb(NbInfo { pool, owner, block, data: None, retreat_mdls: Vec::new() }));
    nb
}

/// Gives an NB `size` bytes of NDIS-allocated data behind one MDL.
fn attach_data(st: &mut State, nb: *mut NET_BUFFER, size: u32) -> bool {
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

/// Frees an NB record and what NDIS allocated with it (its data, the MDLs
/// retreats added that are still on it).
fn drop_nb(st: &mut State, nb: usize, by: &'static str) {
    let Some(Body::Nb(info)) = st.objs.get_mut(&nb).map(|o| &mut o.body) else {
        return;
    };
    let block = info.block;
    let data = info.data.take();
    let retreat = std::mem::take(&mut info.retreat_mdls);
    st.bury(nb, by);
    for (mdl, by_handler) in retreat {
        if !by_handler {
            drop_mdl(st, mdl.0 as usize, by);
        }
    }
    if let Some(mdl) = data {
        drop_mdl(st, mdl.0 as usize, by);
    }
    // SAFETY: the NB block was allocated by `new_nb` and is freed once.
    unsafe { block.free() };
}

/// Allocates a NET_BUFFER over the caller's MDL chain.
///
/// A NULL chain requires offset and length 0; otherwise the data must lie
/// inside the chain. The pool must not carry data (that pool is for
/// `NdisAllocateNetBufferMdlAndData`).
///
/// # Safety
///
/// `PoolHandle` is an NB pool; the chain's MDLs are live.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBuffer(
    PoolHandle: NDIS_HANDLE,
    MdlChain: *mut MDL,
    DataOffset: ULONG,
    DataLength: SIZE_T,
) -> *mut NET_BUFFER {
    const DDI: &str = "NdisAllocateNetBuffer";
    state::with(|st, found| {
        let pool = PoolHandle as usize;
        if !st.live(pool, "nb-pool", DDI, found) {
            return core::ptr::null_mut();
        }
        if st.nb_pool_mut(pool).is_some_and(|p| p.data_size != 0) {
            found.push(v(
                Rule::WrongPoolKind,
                DDI,
                format!("{} carries data: allocate from it with NdisAllocateNetBufferMdlAndData", st.name(pool)),
            ));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees the chain's MDLs are live.
        if !unsafe { check_chain_args(MdlChain, DataOffset, DataLength, DDI, found) } {
            return core::ptr::null_mut();
        }
        let nb = new_nb(st, PoolHandle, None, st.tag_of(pool));
        if nb.is_null() {
            return nb;
        }
        // SAFETY: `nb` is fresh; the chain was checked above.
        unsafe { init_nb(nb, MdlChain, DataOffset, DataLength as u32) };
        st.pool_count(pool, true);
        nb
    })
}

/// Allocates a NET_BUFFER with an MDL and `DataSize` bytes of data (the
/// pool's), all used: `DataOffset` 0, `DataLength` the pool's `DataSize`.
///
/// # Safety
///
/// `PoolHandle` is an NB pool made with a non-zero `DataSize`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferMdlAndData(PoolHandle: NDIS_HANDLE) -> *mut NET_BUFFER {
    const DDI: &str = "NdisAllocateNetBufferMdlAndData";
    state::with(|st, found| {
        let pool = PoolHandle as usize;
        if !st.live(pool, "nb-pool", DDI, found) {
            return core::ptr::null_mut();
        }
        let size = st.nb_pool_mut(pool).map_or(0, |p| p.data_size);
        if size == 0 {
            found.push(v(
                Rule::WrongPoolKind,
                DDI,
                format!("{} was made with DataSize 0: it has no data to allocate", st.name(pool)),
            ));
            return core::ptr::null_mut();
        }
        let nb = new_nb(st, PoolHandle, None, st.tag_of(pool));
        if nb.is_null() || !attach_data(st, nb, size) {
            return core::ptr::null_mut();
        }
        let mdl = st.nb_mut(nb as usize).and_then(|i| i.data.map(|d| d.0)).unwrap_or_default();
        // SAFETY: `nb` and its MDL are fresh.
        unsafe { init_nb(nb, mdl.cast(), 0, size) };
        st.pool_count(pool, true);
        nb
    })
}

/// Frees a NET_BUFFER allocated from an NB pool (never one preallocated
/// with its NBL: that one goes with the NBL).
///
/// # Safety
///
/// `NetBuffer` is an NB `NdisAllocateNetBuffer` or
/// `NdisAllocateNetBufferMdlAndData` returned.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBuffer(NetBuffer: *mut NET_BUFFER) {
    const DDI: &str = "NdisFreeNetBuffer";
    state::with(|st, found| {
        let addr = NetBuffer as usize;
        if !st.live(addr, "nb", DDI, found) {
            return;
        }
        let (owner, pool) = match st.objs.get(&addr).map(|o| &o.body) {
            Some(Body::Nb(n)) => (n.owner, n.pool),
            _ => return,
        };
        if let Some(owner) = owner {
            found.push(v(
                Rule::PreallocatedNetBufferFreed,
                DDI,
                format!("{} was preallocated with {}; it is freed with it", st.name(addr), st.name(owner)),
            ));
            return;
        }
        let clone_owned = st.objs.values().any(|o| {
            o.freed_by.is_none()
                && matches!(&o.body, Body::Nbl(n) if n.clone.as_ref().is_some_and(|c| c.nbs.contains(&Raw(NetBuffer.cast()))))
        });
        if clone_owned {
            found.push(v(
                Rule::WrongFreeFunction,
                DDI,
                format!("{} belongs to a clone; it is freed with the clone", st.name(addr)),
            ));
            return;
        }
        st.pool_count(pool, false);
        drop_nb(st, addr, DDI);
    });
}

/// The pool a NET_BUFFER came from.
///
/// # Safety
///
/// `NetBuffer` is a live NB.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetPoolFromNetBuffer(NetBuffer: *const NET_BUFFER) -> NDIS_HANDLE {
    state::with(|st, found| {
        if !st.live(NetBuffer as usize, "nb", "NdisGetPoolFromNetBuffer", found) {
            return core::ptr::null_mut();
        }
        // SAFETY: checked live above.
        unsafe { (*NetBuffer).NdisPoolHandle }
    })
}

// ---- NET_BUFFER_LISTs ----

/// What an NBL allocation asks for.
pub(crate) struct NblRequest {
    pub pool: NDIS_HANDLE,
    pub context_size: u16,
    pub backfill: u16,
    pub origin: NblOrigin,
    /// Give it a NET_BUFFER: `Some((chain, offset, length))`; a NULL chain
    /// takes the pool's data, if it has any.
    pub nb: Option<(*mut MDL, u32, u32)>,
}

/// Allocates an NBL (and what the pool preallocates with it). Arguments
/// have been checked.
pub(crate) fn alloc_nbl(st: &mut State, req: NblRequest) -> *mut NET_BUFFER_LIST {
    let pool = req.pool as usize;
    let (info, tag) = match st.objs.get(&pool) {
        Some(o) => match &o.body {
            Body::NblPool(p) => (p.clone(), o.tag),
            _ => (NblPoolInfo { allocate_nb: false, context_size: 0, data_size: 0, outstanding: 0 }, o.tag),
        },
        None => (NblPoolInfo { allocate_nb: false, context_size: 0, data_size: 0, outstanding: 0 }, 0),
    };
    let Some(block) = st.nbl_block() else {
        return core::ptr::null_mut();
    };
    let nbl: *mut NET_BUFFER_LIST = block.cast();

    // The first context: the pool's preallocated area when the request
    // fits in it (used data at its end, the rest backfill), else a block of
    // exactly ContextSize + ContextBackFill.
    let wanted = u32::from(req.context_size) + u32::from(req.backfill);
    let capacity = if wanted <= u32::from(info.context_size) { u32::from(info.context_size) } else { wanted };
    let base_context = if capacity > 0 {
        let size = size_of::<NET_BUFFER_LIST_CONTEXT>() + capacity as usize;
        let Some(ctx) = Layout::from_size_align(size, ALIGN).ok().and_then(Block::zeroed) else {
            st.recycle_nbl_block(block);
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
        block,
        prealloc_nb: None,
        base_context,
        pushed: Vec::new(),
        clone: None,
        references: 0,
        injected: None,
        stack_returned: false,
        stack_shape: None,
        came_from: None,
    };
    st.insert(nbl as usize, tag, Body::Nbl(nbl_info));

    if let Some((chain, offset, length)) = req.nb {
        let nb = new_nb(st, req.pool, Some(nbl as usize), tag);
        if nb.is_null() {
            return core::ptr::null_mut();
        }
        let (chain, offset, length) = if chain.is_null() && info.data_size > 0 {
            if !attach_data(st, nb, info.data_size) {
                return core::ptr::null_mut();
            }
            let mdl = st.nb_mut(nb as usize).and_then(|i| i.data.map(|d| d.0)).unwrap_or_default();
            (mdl.cast(), offset, length)
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
    st.pool_count(pool, true);
    nbl
}

/// Frees an NBL record and everything NDIS allocated with it.
pub(crate) fn drop_nbl(st: &mut State, nbl: usize, by: &'static str) {
    let Some(obj) = st.objs.get_mut(&nbl) else { return };
    obj.freed_by = Some(by);
    let Body::Nbl(info) = &mut obj.body else { return };
    let block = info.block;
    let pool = info.pool;
    let prealloc = info.prealloc_nb.take();
    let base = info.base_context.take();
    let pushed = std::mem::take(&mut info.pushed);
    let clone = info.clone.take();
    st.remember(nbl);
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

/// Checks an NBL allocation's context arguments.
pub(crate) fn check_context_args(size: u16, backfill: u16, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    for (name, n) in [("ContextSize", size), ("ContextBackFill", backfill)] {
        if misaligned(u32::from(n)) {
            found.push(v(
                Rule::MisalignedContextSize,
                ddi,
                format!("{name} {n} is not a multiple of MEMORY_ALLOCATION_ALIGNMENT ({ALIGN})"),
            ));
            return false;
        }
    }
    true
}

/// Allocates a NET_BUFFER_LIST. From a pool made with `fAllocateNetBuffer`
/// it comes with its preallocated NET_BUFFER (and, with the pool's
/// `DataSize`, an MDL and that much data, all used); otherwise with none.
///
/// # Safety
///
/// `PoolHandle` is an NBL pool.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferList(
    PoolHandle: NDIS_HANDLE,
    ContextSize: USHORT,
    ContextBackFill: USHORT,
) -> *mut NET_BUFFER_LIST {
    const DDI: &str = "NdisAllocateNetBufferList";
    state::with(|st, found| {
        if !st.live(PoolHandle as usize, "nbl-pool", DDI, found)
            || !check_context_args(ContextSize, ContextBackFill, DDI, found)
        {
            return core::ptr::null_mut();
        }
        let (allocate_nb, data) =
            st.nbl_pool_mut(PoolHandle as usize).map_or((false, 0), |p| (p.allocate_nb, p.data_size));
        let nb = allocate_nb.then_some((core::ptr::null_mut(), 0, data));
        alloc_nbl(
            st,
            NblRequest {
                pool: PoolHandle,
                context_size: ContextSize,
                backfill: ContextBackFill,
                origin: NblOrigin::Ndis,
                nb,
            },
        )
    })
}

/// Checks the NB arguments of the NBL-and-NB allocators, against the pool.
///
/// # Safety
///
/// The chain's MDLs are live.
pub(crate) unsafe fn check_nbl_nb_args(
    st: &mut State,
    pool: NDIS_HANDLE,
    chain: *mut MDL,
    offset: u32,
    length: SIZE_T,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    let data = st.nbl_pool_mut(pool as usize).map_or(0, |p| p.data_size);
    if chain.is_null() && data > 0 {
        if u64::from(offset) + length > u64::from(data) {
            found.push(v(
                Rule::DataOutsideMdlChain,
                ddi,
                format!("DataOffset {offset} + DataLength {length} is beyond the pool's DataSize {data}"),
            ));
            return false;
        }
        return true;
    }
    // SAFETY: the caller guarantees the chain's MDLs are live.
    unsafe { check_chain_args(chain, offset, length, ddi, found) }
}

/// Allocates a NET_BUFFER_LIST with one NET_BUFFER over the caller's MDL
/// chain (or, with a NULL chain, over the pool's data). The pool must have
/// been made with `fAllocateNetBuffer`.
///
/// # Safety
///
/// `PoolHandle` is an NBL pool; the chain's MDLs are live.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateNetBufferAndNetBufferList(
    PoolHandle: NDIS_HANDLE,
    ContextSize: USHORT,
    ContextBackFill: USHORT,
    MdlChain: *mut MDL,
    DataOffset: ULONG,
    DataLength: SIZE_T,
) -> *mut NET_BUFFER_LIST {
    const DDI: &str = "NdisAllocateNetBufferAndNetBufferList";
    state::with(|st, found| {
        let pool = PoolHandle as usize;
        if !st.live(pool, "nbl-pool", DDI, found) || !check_context_args(ContextSize, ContextBackFill, DDI, found) {
            return core::ptr::null_mut();
        }
        if !st.nbl_pool_mut(pool).is_some_and(|p| p.allocate_nb) {
            found.push(v(Rule::WrongPoolKind, DDI, format!("{} was made without fAllocateNetBuffer", st.name(pool))));
            return core::ptr::null_mut();
        }
        // SAFETY: the caller guarantees the chain's MDLs are live.
        if !unsafe { check_nbl_nb_args(st, PoolHandle, MdlChain, DataOffset, DataLength, DDI, found) } {
            return core::ptr::null_mut();
        }
        alloc_nbl(
            st,
            NblRequest {
                pool: PoolHandle,
                context_size: ContextSize,
                backfill: ContextBackFill,
                origin: NblOrigin::Ndis,
                nb: Some((MdlChain, DataOffset, DataLength as u32)),
            },
        )
    })
}

/// Checks that an NBL may be freed by `ddi` (right function, no live
/// clones, no contexts left, not owned by the stack); reports why not.
pub(crate) fn may_free_nbl(
    st: &State,
    nbl: *mut NET_BUFFER_LIST,
    allowed: &[NblOrigin],
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    let addr = nbl as usize;
    // The common case in one lookup: a live NBL of an allowed origin, not
    // injected, with nothing pushed.
    let info = match st.objs.get(&addr) {
        Some(o) if o.freed_by.is_none() => match &o.body {
            Body::Nbl(n) => n,
            _ => return st.live(addr, "nbl", ddi, found),
        },
        _ => return st.live(addr, "nbl", ddi, found),
    };
    if info.injected.is_some() {
        return !st.owned_by_stack(addr, ddi, found);
    }
    if !allowed.contains(&info.origin) {
        found.push(v(
            Rule::WrongFreeFunction,
            ddi,
            format!(
                "{} was allocated by {}; free it with {}",
                st.name(addr),
                info.origin.allocator(),
                info.origin.free_function()
            ),
        ));
        return false;
    }
    // SAFETY: the NBL is live (checked above).
    let children = unsafe { *NET_BUFFER_LIST_CHILD_REF_COUNT(nbl) };
    if children > 0 {
        found.push(v(
            Rule::ParentFreedWithLiveClones,
            ddi,
            format!("{} has {children} live clones (ChildRefCount {children})", st.name(addr)),
        ));
        return false;
    }
    if !info.pushed.is_empty() {
        found.push(v(
            Rule::ContextLeftAllocated,
            ddi,
            format!(
                "{} still has {} contexts from NdisAllocateNetBufferListContext (sizes {:?})",
                st.name(addr),
                info.pushed.len(),
                info.pushed.iter().map(|p| p.size).collect::<Vec<_>>()
            ),
        ));
        return false;
    }
    true
}

/// Frees a NET_BUFFER_LIST `NdisAllocateNetBufferList` or
/// `NdisAllocateNetBufferAndNetBufferList` allocated, with its preallocated
/// NET_BUFFER and data. NET_BUFFERs the caller attached are the caller's
/// to free.
///
/// # Safety
///
/// `NetBufferList` is such an NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferList(NetBufferList: *mut NET_BUFFER_LIST) {
    const DDI: &str = "NdisFreeNetBufferList";
    state::with(|st, found| {
        if may_free_nbl(st, NetBufferList, &[NblOrigin::Ndis], DDI, found) {
            drop_nbl(st, NetBufferList as usize, DDI);
        }
    });
}

/// The pool a NET_BUFFER_LIST came from.
///
/// # Safety
///
/// `NetBufferList` is a live NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetPoolFromNetBufferList(NetBufferList: *const NET_BUFFER_LIST) -> NDIS_HANDLE {
    state::with(|st, found| {
        if !st.live(NetBufferList as usize, "nbl", "NdisGetPoolFromNetBufferList", found) {
            return core::ptr::null_mut();
        }
        // SAFETY: checked live above.
        unsafe { (*NetBufferList).NdisPoolHandle }
    })
}

// ---- contexts ----

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
    const DDI: &str = "NdisAllocateNetBufferListContext";
    state::with(|st, found| {
        let addr = NetBufferList as usize;
        if !st.live(addr, "nbl", DDI, found) || st.owned_by_stack(addr, DDI, found) {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        let word = size_of::<usize>();
        for (name, n) in [("ContextSize", ContextSize), ("ContextBackFill", ContextBackFill)] {
            if usize::from(n) % word != 0 {
                found.push(v(
                    Rule::MisalignedContextSize,
                    DDI,
                    format!("{name} {n} is not a multiple of the pointer size ({word})"),
                ));
                return NDIS_STATUS_INVALID_PARAMETER;
            }
        }
        // SAFETY: the NBL is live; its context blocks are this module's.
        let ctx = unsafe { (*NetBufferList).Context };
        // SAFETY: as above.
        if !ctx.is_null() && unsafe { (*ctx).Offset } >= ContextSize {
            // SAFETY: as above.
            unsafe { (*ctx).Offset -= ContextSize };
            if let Some(n) = st.nbl_mut(addr) {
                n.pushed.push(Pushed { size: ContextSize, block: None });
            }
            return NDIS_STATUS_SUCCESS;
        }
        let capacity = usize::from(ContextSize) + usize::from(ContextBackFill);
        let size = size_of::<NET_BUFFER_LIST_CONTEXT>() + capacity;
        let Some(block) = Layout::from_size_align(size, ALIGN).ok().and_then(Block::zeroed) else {
            return NDIS_STATUS_RESOURCES;
        };
        let c: *mut NET_BUFFER_LIST_CONTEXT = block.cast();
        // SAFETY: `c` is fresh; the NBL is live.
        unsafe {
            (*c).Size = capacity as u16;
            (*c).Offset = ContextBackFill;
            (*c).Next = ctx;
            (*NetBufferList).Context = c;
        }
        if let Some(n) = st.nbl_mut(addr) {
            n.pushed.push(Pushed { size: ContextSize, block: Some(block) });
        }
        NDIS_STATUS_SUCCESS
    })
}

/// Pops the last context pushed, which must have been `ContextSize` bytes.
///
/// # Safety
///
/// `NetBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeNetBufferListContext(NetBufferList: *mut NET_BUFFER_LIST, ContextSize: USHORT) {
    const DDI: &str = "NdisFreeNetBufferListContext";
    state::with(|st, found| {
        let addr = NetBufferList as usize;
        if !st.live(addr, "nbl", DDI, found) || st.owned_by_stack(addr, DDI, found) {
            return;
        }
        let name = st.name(addr);
        let Some(info) = st.nbl_mut(addr) else { return };
        let Some(top) = info.pushed.last() else {
            found.push(v(Rule::ContextFreedOutOfOrder, DDI, format!("{name} has no context allocated to free")));
            return;
        };
        if top.size != ContextSize {
            found.push(v(
                Rule::ContextFreedOutOfOrder,
                DDI,
                format!("{name}'s last context is {} bytes, not {ContextSize}", top.size),
            ));
            return;
        }
        let Some(top) = info.pushed.pop() else { return };
        match top.block {
            Some(block) => {
                // SAFETY: the NBL is live; its current context is this block.
                unsafe {
                    let c: *mut NET_BUFFER_LIST_CONTEXT = block.cast();
                    (*NetBufferList).Context = (*c).Next;
                    block.free();
                }
            }
            // SAFETY: the NBL is live; its context has this much used space.
            None => unsafe { (*(*NetBufferList).Context).Offset += ContextSize },
        }
    });
}

// ---- retreat and advance ----

/// The allocate handler's signature.
type AllocMdl = NET_BUFFER_ALLOCATE_MDL;
/// The free handler's signature.
type FreeMdl = NET_BUFFER_FREE_MDL;

/// Retreats one NB, checked. Returns the status.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live.
pub(crate) unsafe fn retreat(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    backfill: u32,
    alloc: AllocMdl,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> NDIS_STATUS {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    if let Some(e) = unsafe { nb_inconsistency(nb) } {
        found.push(v(Rule::DataOutsideMdlChain, ddi, format!("{}: {e}", st.name(nb as usize))));
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    // SAFETY: as above.
    let mut d = unsafe { nb_data(nb) };
    let Some(length) = d.data_length.checked_add(delta) else {
        return NDIS_STATUS_INVALID_LENGTH;
    };
    if d.data_offset >= delta {
        d.data_offset -= delta;
        d.data_length = length;
        // SAFETY: as above.
        let (cur, off) = unsafe { state::locate(d.mdl_chain, u64::from(d.data_offset)) }.unwrap_or((d.mdl_chain, 0));
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
            // SAFETY: `handler` is `take_preallocated`, which hands over the
            // MDL the caller's handler made before the lock was taken.
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
    let got = unsafe { state::mdl_len(mdl) };
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

/// Advances one NB, checked; frees retreat MDLs left wholly unused when asked.
///
/// # Safety
///
/// `nb` is a live NB; its MDLs are live.
#[allow(clippy::too_many_arguments, reason = "the DDI's arguments plus the state and its outputs")]
pub(crate) unsafe fn advance(
    st: &mut State,
    nb: *mut NET_BUFFER,
    delta: u32,
    free_mdl: bool,
    free_handler: FreeMdl,
    ddi: &'static str,
    found: &mut Vec<Violation>,
    to_free: &mut Vec<(*mut MDL, FreeMdl)>,
) {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    if let Some(e) = unsafe { nb_inconsistency(nb) } {
        found.push(v(Rule::DataOutsideMdlChain, ddi, format!("{}: {e}", st.name(nb as usize))));
        return;
    }
    // SAFETY: as above.
    let mut d = unsafe { nb_data(nb) };
    if delta > d.data_length {
        found.push(v(
            Rule::AdvancePastData,
            ddi,
            format!("advancing {} by {delta} bytes, past its {} bytes of data", st.name(nb as usize), d.data_length),
        ));
        return;
    }
    d.data_offset += delta;
    d.data_length -= delta;
    // SAFETY: as above.
    let (cur, off) = unsafe { state::locate(d.mdl_chain, u64::from(d.data_offset)) }.unwrap_or((d.mdl_chain, 0));
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
            let len = unsafe { state::mdl_len(head) };
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
                if free_handler.is_none() {
                    found.push(v(
                        Rule::MissingFreeMdlHandler,
                        ddi,
                        format!(
                            "{} came from the caller's allocate handler; no free handler was given",
                            st.name(head as usize)
                        ),
                    ));
                }
                to_free.push((head, free_handler));
            } else {
                drop_mdl(st, head as usize, ddi);
            }
        }
    }
    // SAFETY: as above.
    unsafe { set_nb_data(nb, d) };
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
    const DDI: &str = "NdisRetreatNetBufferDataStart";
    // The caller's allocate handler may call NdisAllocateMdl: make the MDL
    // outside the lock when the handler will be needed.
    let pre = pre_allocate(NetBuffer, DataOffsetDelta, DataBackFill, AllocateMdlHandler);
    let status = state::with(|st, found| {
        if !st.live(NetBuffer as usize, "nb", DDI, found) {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        // SAFETY: the NB is live; its MDLs are the caller's or ours.
        unsafe { retreat(st, NetBuffer, DataOffsetDelta, DataBackFill, pre, DDI, found) }
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
fn pre_allocate(nb: *mut NET_BUFFER, delta: u32, backfill: u32, handler: AllocMdl) -> AllocMdl {
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
fn free_through_handlers(to_free: Vec<(*mut MDL, FreeMdl)>) {
    for (mdl, handler) in to_free {
        if let Some(h) = handler {
            // SAFETY: the MDL came from the caller's allocate handler and is
            // off every chain; the caller's free handler takes it back.
            unsafe { h(mdl) };
        }
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
    const DDI: &str = "NdisAdvanceNetBufferDataStart";
    let mut to_free = Vec::new();
    state::with(|st, found| {
        if st.live(NetBuffer as usize, "nb", DDI, found) {
            // SAFETY: the NB is live.
            unsafe { advance(st, NetBuffer, DataOffsetDelta, FreeMdl != 0, FreeMdlHandler, DDI, found, &mut to_free) };
        }
    });
    free_through_handlers(to_free);
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
    const DDI: &str = "NdisRetreatNetBufferListDataStart";
    let addr = NetBufferList as usize;
    let nbs = state::with(|st, found| {
        if !st.live(addr, "nbl", DDI, found) || st.owned_by_stack(addr, DDI, found) {
            return None;
        }
        // SAFETY: the NBL is live.
        Some(unsafe { state::nbs(NetBufferList) })
    });
    let Some(nbs) = nbs else {
        return NDIS_STATUS_INVALID_PARAMETER;
    };
    for (i, &nb) in nbs.iter().enumerate() {
        let pre = pre_allocate(nb, DataOffsetDelta, DataBackFill, AllocateMdlHandler);
        let status = state::with(|st, found| {
            // SAFETY: the NB is on a live NBL.
            unsafe { retreat(st, nb, DataOffsetDelta, DataBackFill, pre, DDI, found) }
        });
        PREALLOCATED.with(|p| p.set(core::ptr::null_mut()));
        if status != NDIS_STATUS_SUCCESS {
            let mut to_free = Vec::new();
            state::with(|st, found| {
                for &done in &nbs[..i] {
                    // SAFETY: as above.
                    unsafe { advance(st, done, DataOffsetDelta, true, FreeMdlHandler, DDI, found, &mut to_free) };
                }
            });
            free_through_handlers(to_free);
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
    const DDI: &str = "NdisAdvanceNetBufferListDataStart";
    let addr = NetBufferList as usize;
    let mut to_free = Vec::new();
    state::with(|st, found| {
        if !st.live(addr, "nbl", DDI, found) || st.owned_by_stack(addr, DDI, found) {
            return;
        }
        // SAFETY: the NBL is live.
        for nb in unsafe { state::nbs(NetBufferList) } {
            // SAFETY: the NB is on a live NBL.
            unsafe { advance(st, nb, DataOffsetDelta, FreeMdl != 0, FreeMdlMdlHandler, DDI, found, &mut to_free) };
        }
    });
    free_through_handlers(to_free);
}

// ---- data access ----

/// Calls `each(span, done, n)` for the MDL spans that hold `len` bytes of an
/// NB's data starting `from` bytes into it, in order: `span` points at `n`
/// bytes of them, the ones `done` bytes into the range.
///
/// # Safety
///
/// `nb` and its MDLs are live; the range lies inside the data.
unsafe fn for_each_span(nb: *mut NET_BUFFER, from: u32, len: u32, mut each: impl FnMut(*mut u8, usize, usize)) {
    // SAFETY: the caller guarantees all of the above.
    unsafe {
        let d = nb_data(nb);
        let Some((mut mdl, mut off)) = state::locate(d.mdl_chain, u64::from(d.data_offset) + u64::from(from)) else {
            return;
        };
        let mut done = 0u32;
        while done < len && !mdl.is_null() {
            let n = (state::mdl_len(mdl) - off).min(len - done);
            each(state::mdl_va(mdl).add(off as usize), done as usize, n as usize);
            done += n;
            mdl = *NDIS_MDL_LINKAGE(mdl);
            off = 0;
        }
    }
}

/// Copies `len` bytes of an NB's data starting `from` bytes into it.
///
/// # Safety
///
/// `nb` and its MDLs are live; `out` is valid for `len` bytes; the range
/// lies inside the data.
pub(crate) unsafe fn copy_out(nb: *mut NET_BUFFER, from: u32, out: *mut u8, len: u32) {
    // SAFETY: the caller guarantees the walk's requirements; each span is
    // `n` readable bytes and `out + done` has `n` writable ones left.
    unsafe { for_each_span(nb, from, len, |span, done, n| core::ptr::copy_nonoverlapping(span, out.add(done), n)) }
}

/// Copies `len` bytes into an NB's data starting `at` bytes into it.
///
/// # Safety
///
/// As [`copy_out`], with `src` readable.
pub(crate) unsafe fn copy_in(nb: *mut NET_BUFFER, at: u32, src: *const u8, len: u32) {
    // SAFETY: the caller guarantees the walk's requirements; each span is
    // `n` writable bytes and `src + done` has `n` readable ones left (they
    // may overlap: `copy` allows it).
    unsafe { for_each_span(nb, at, len, |span, done, n| core::ptr::copy(src.add(done), span, n)) }
}

/// A pointer to `BytesNeeded` contiguous bytes at the NB's data start:
/// straight into the current MDL when they are contiguous there and the
/// address is `AlignOffset` past a multiple of `AlignMultiple`; otherwise a
/// copy into `Storage`, or NULL when `Storage` is NULL. NULL also when the
/// data is shorter than `BytesNeeded` (or it is 0).
///
/// # Safety
///
/// `NetBuffer` is a live NB; `Storage`, if not NULL, is writable for
/// `BytesNeeded` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetDataBuffer(
    NetBuffer: *mut NET_BUFFER,
    BytesNeeded: ULONG,
    Storage: PVOID,
    AlignMultiple: ULONG,
    AlignOffset: ULONG,
) -> PVOID {
    const DDI: &str = "NdisGetDataBuffer";
    state::with(|st, found| {
        if !st.live(NetBuffer as usize, "nb", DDI, found) {
            return core::ptr::null_mut();
        }
        // SAFETY: the NB is live.
        if let Some(e) = unsafe { nb_inconsistency(NetBuffer) } {
            found.push(v(Rule::DataOutsideMdlChain, DDI, format!("{}: {e}", st.name(NetBuffer as usize))));
            return core::ptr::null_mut();
        }
        // SAFETY: as above.
        let d = unsafe { nb_data(NetBuffer) };
        if BytesNeeded == 0 || BytesNeeded > d.data_length {
            return core::ptr::null_mut();
        }
        // SAFETY: the NB is consistent, so CurrentMdl is live and on its chain.
        let (avail, here) = unsafe {
            (
                state::mdl_len(d.current_mdl) - d.current_mdl_offset,
                state::mdl_va(d.current_mdl).add(d.current_mdl_offset as usize),
            )
        };
        let align = AlignMultiple.max(1) as usize;
        let aligned = (here as usize).wrapping_sub(AlignOffset as usize) % align == 0;
        if avail >= BytesNeeded && aligned {
            return here.cast();
        }
        if Storage.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: the range is inside the data; `Storage` holds BytesNeeded.
        unsafe { copy_out(NetBuffer, 0, Storage.cast(), BytesNeeded) };
        Storage
    })
}

/// Copies up to `BytesToCopy` bytes from `Source`'s data (from
/// `SourceOffset`) into `Destination`'s data (at `DestinationOffset`),
/// stopping at the end of either; `*BytesCopied` says how many. Returns
/// `NDIS_STATUS_SUCCESS` when all were copied, `NDIS_STATUS_FAILURE` when
/// fewer were.
///
/// # Safety
///
/// Both NBs are live; `BytesCopied` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisCopyFromNetBufferToNetBuffer(
    Destination: *mut NET_BUFFER,
    DestinationOffset: ULONG,
    BytesToCopy: ULONG,
    Source: *const NET_BUFFER,
    SourceOffset: ULONG,
    BytesCopied: *mut ULONG,
) -> NDIS_STATUS {
    const DDI: &str = "NdisCopyFromNetBufferToNetBuffer";
    state::with(|st, found| {
        let src = Source.cast_mut();
        if !st.live(Destination as usize, "nb", DDI, found) || !st.live(src as usize, "nb", DDI, found) {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        for nb in [Destination, src] {
            // SAFETY: both NBs are live.
            if let Some(e) = unsafe { nb_inconsistency(nb) } {
                found.push(v(Rule::DataOutsideMdlChain, DDI, format!("{}: {e}", st.name(nb as usize))));
                return NDIS_STATUS_INVALID_PARAMETER;
            }
        }
        // SAFETY: both NBs are live.
        let (dl, sl) = unsafe { (*NET_BUFFER_DATA_LENGTH(Destination), *NET_BUFFER_DATA_LENGTH(src)) };
        let n = BytesToCopy.min(dl.saturating_sub(DestinationOffset)).min(sl.saturating_sub(SourceOffset));
        let mut tmp = vec![0u8; n as usize];
        // SAFETY: the ranges are inside both NBs' data; `tmp` holds n bytes,
        // and `BytesCopied` is writable (the caller's guarantee).
        unsafe {
            copy_out(src, SourceOffset, tmp.as_mut_ptr(), n);
            copy_in(Destination, DestinationOffset, tmp.as_ptr(), n);
            if !BytesCopied.is_null() {
                *BytesCopied = n;
            }
        }
        if n == BytesToCopy { NDIS_STATUS_SUCCESS } else { NDIS_STATUS_FAILURE }
    })
}

// ---- clones ----

/// Makes a clone of `orig`: a new NBL whose NBs describe the same data,
/// over the original MDLs (`use_original_mdls`) or over new MDLs NDIS
/// allocates that describe the same memory. Sets `ParentNetBufferList` and
/// increments the parent's `ChildRefCount`.
#[allow(clippy::too_many_arguments, reason = "the clone DDIs' arguments plus the state and its outputs")]
pub(crate) fn make_clone(
    st: &mut State,
    orig: *mut NET_BUFFER_LIST,
    nbl_pool: NDIS_HANDLE,
    nb_pool: NDIS_HANDLE,
    use_original_mdls: bool,
    origin: NblOrigin,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> *mut NET_BUFFER_LIST {
    let addr = orig as usize;
    if !st.live(addr, "nbl", ddi, found) || st.owned_by_stack(addr, ddi, found) {
        return core::ptr::null_mut();
    }
    if !nbl_pool.is_null() && !st.live(nbl_pool as usize, "nbl-pool", ddi, found) {
        return core::ptr::null_mut();
    }
    if !nb_pool.is_null() && !st.live(nb_pool as usize, "nb-pool", ddi, found) {
        return core::ptr::null_mut();
    }
    // SAFETY: the original is live; its NBs and MDLs are live.
    let orig_nbs = unsafe { state::nbs(orig) };
    for &nb in &orig_nbs {
        // SAFETY: as above.
        if let Some(e) = unsafe { nb_inconsistency(nb) } {
            found.push(v(Rule::DataOutsideMdlChain, ddi, format!("{}: {e}", st.name(nb as usize))));
            return core::ptr::null_mut();
        }
    }
    let clone = alloc_nbl(st, NblRequest { pool: nbl_pool, context_size: 0, backfill: 0, origin, nb: None });
    if clone.is_null() {
        return clone;
    }
    let mut nbs = Vec::new();
    let mut mdls = Vec::new();
    let mut prev: *mut NET_BUFFER = core::ptr::null_mut();
    let tag = st.tag_of(nbl_pool as usize);
    for &onb in &orig_nbs {
        let nb = new_nb(st, nb_pool, None, tag);
        if nb.is_null() {
            return core::ptr::null_mut();
        }
        st.pool_count(nb_pool as usize, true);
        nbs.push(Raw(nb.cast()));
        // SAFETY: the original NB is live and consistent.
        let d = unsafe { nb_data(onb) };
        let chain = if use_original_mdls {
            d.mdl_chain
        } else {
            // New MDLs describing the same memory, chained alike.
            let mut head: *mut MDL = core::ptr::null_mut();
            let mut tail: *mut MDL = core::ptr::null_mut();
            // SAFETY: the original chain's MDLs are live.
            for m in unsafe { state::chain(d.mdl_chain) } {
                // SAFETY: as above.
                let (va, len) = unsafe { (state::mdl_va(m), state::mdl_len(m)) };
                let copy = new_mdl(st, va, len, false, None);
                if copy.is_null() {
                    return core::ptr::null_mut();
                }
                // SAFETY: `copy` is fresh; `tail` is the previous copy.
                unsafe {
                    (*copy).MdlFlags |= MDL_PARTIAL;
                    if tail.is_null() {
                        head = copy;
                    } else {
                        *NDIS_MDL_LINKAGE(tail) = copy;
                    }
                }
                tail = copy;
                mdls.push(Raw(copy.cast()));
            }
            head
        };
        // SAFETY: `nb` is fresh; the chain describes the original's data.
        unsafe {
            init_nb(nb, chain, d.data_offset, d.data_length);
            if prev.is_null() {
                *NET_BUFFER_LIST_FIRST_NB(clone) = nb;
            } else {
                *NET_BUFFER_NEXT_NB(prev) = nb;
            }
        }
        prev = nb;
    }
    // SAFETY: both NBLs are live; the parent's count is guarded by the lock.
    unsafe {
        *NET_BUFFER_LIST_PARENT(clone) = orig;
        *NET_BUFFER_LIST_CHILD_REF_COUNT(orig) += 1;
        (*clone).SourceHandle = (*orig).SourceHandle;
    }
    // SAFETY: the clone and its NBs are live.
    let shape = unsafe { state::shape(clone) };
    if let Some(n) = st.nbl_mut(clone as usize) {
        n.clone = Some(Box::new(state::CloneInfo { parent: Raw(orig.cast()), shape, nbs, mdls }));
    }
    clone
}

/// Frees a clone: checks it is back to the shape the clone DDI made, then
/// decrements the parent's `ChildRefCount`.
pub(crate) fn free_clone(
    st: &mut State,
    clone: *mut NET_BUFFER_LIST,
    origin: NblOrigin,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) {
    if !may_free_nbl(st, clone, &[origin], ddi, found) {
        return;
    }
    let addr = clone as usize;
    // SAFETY: the clone is live; its NBs and MDLs are live.
    let now = unsafe { state::shape(clone) };
    let Some((parent, was)) = st.nbl(addr).and_then(|n| n.clone.as_ref().map(|c| (c.parent, c.shape.clone()))) else {
        return;
    };
    if let Some(diff) = state::shape_difference(st, &was, &now) {
        found.push(v(
            Rule::CloneFreedWhileModified,
            ddi,
            format!("{}: {diff}; undo the change before freeing the clone", st.name(addr)),
        ));
        return;
    }
    let parent: *mut NET_BUFFER_LIST = parent.0.cast();
    if st.nbl(parent as usize).is_some() {
        // SAFETY: the parent outlives its clones (the verifier enforces it).
        unsafe { *NET_BUFFER_LIST_CHILD_REF_COUNT(parent) -= 1 };
    }
    drop_nbl(st, addr, ddi);
}

/// Clones a NET_BUFFER_LIST: new NBL and NBs (from the given pools, or
/// NDIS's own when NULL) describing the same data, over new MDLs unless
/// `NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS`.
///
/// # Safety
///
/// `OriginalNetBufferList` is a live NBL; the pools, if not NULL, are pools
/// of the right kinds.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateCloneNetBufferList(
    OriginalNetBufferList: *mut NET_BUFFER_LIST,
    NetBufferListPoolHandle: NDIS_HANDLE,
    NetBufferPoolHandle: NDIS_HANDLE,
    AllocateCloneFlags: ULONG,
) -> *mut NET_BUFFER_LIST {
    state::with(|st, found| {
        make_clone(
            st,
            OriginalNetBufferList,
            NetBufferListPoolHandle,
            NetBufferPoolHandle,
            AllocateCloneFlags & NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS != 0,
            NblOrigin::NdisClone,
            "NdisAllocateCloneNetBufferList",
            found,
        )
    })
}

/// Frees a clone `NdisAllocateCloneNetBufferList` made, once its NB and
/// MDL chains and offsets are back as the clone was made.
///
/// # Safety
///
/// `CloneNetBufferList` is such a clone.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeCloneNetBufferList(
    CloneNetBufferList: *mut NET_BUFFER_LIST,
    _FreeCloneFlags: ULONG,
) {
    state::with(|st, found| {
        free_clone(st, CloneNetBufferList, NblOrigin::NdisClone, "NdisFreeCloneNetBufferList", found);
    });
}
