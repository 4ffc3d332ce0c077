//! Pools: parameters ([`Rule::InvalidPoolParameters`],
//! [`Rule::MisalignedContextSize`]), kinds ([`Rule::WrongPoolKind`]) and
//! freeing ([`Rule::PoolFreedWithOutstandingAllocations`]).

use ndis_sys::*;

use super::objects::live;
use super::{Rule, Violation, v};
use crate::model::Kind;
use crate::model::nb::ALIGN;
use crate::model::{Body, State, pool};

fn misaligned(n: u32) -> bool {
    n as usize % ALIGN != 0
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

/// `NET_BUFFER_LIST_POOL_PARAMETERS` as NDIS validates them: object header,
/// `ContextSize` a multiple of `MEMORY_ALLOCATION_ALIGNMENT`, `DataSize`
/// only with `fAllocateNetBuffer`.
pub(crate) fn nbl_pool_parameters(
    p: &NET_BUFFER_LIST_POOL_PARAMETERS,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if let Err(e) = header_ok(
        &p.Header,
        NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
    ) {
        found.push(v(Rule::InvalidPoolParameters, ddi, e));
        return false;
    }
    if misaligned(u32::from(p.ContextSize)) {
        found.push(v(
            Rule::MisalignedContextSize,
            ddi,
            format!("ContextSize {} is not a multiple of MEMORY_ALLOCATION_ALIGNMENT ({ALIGN})", p.ContextSize),
        ));
        return false;
    }
    if p.DataSize != 0 && p.fAllocateNetBuffer == 0 {
        found.push(v(Rule::InvalidPoolParameters, ddi, format!("DataSize {} without fAllocateNetBuffer", p.DataSize)));
        return false;
    }
    true
}

/// `NET_BUFFER_POOL_PARAMETERS`: the object header.
pub(crate) fn nb_pool_parameters(
    p: &NET_BUFFER_POOL_PARAMETERS,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if let Err(e) =
        header_ok(&p.Header, NET_BUFFER_POOL_PARAMETERS_REVISION_1, NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1)
    {
        found.push(v(Rule::InvalidPoolParameters, ddi, e));
        return false;
    }
    true
}

/// [`Rule::MisalignedContextSize`] for an NBL allocation's context
/// arguments.
#[inline]
pub(crate) fn context_args(size: u16, backfill: u16, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if !misaligned(u32::from(size | backfill)) {
        return true;
    }
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

/// [`Rule::MisalignedContextSize`] for `NdisAllocateNetBufferListContext`:
/// multiples of the pointer size.
pub(crate) fn pushed_context_args(size: u16, backfill: u16, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    let word = size_of::<usize>();
    for (name, n) in [("ContextSize", size), ("ContextBackFill", backfill)] {
        if usize::from(n) % word != 0 {
            found.push(v(
                Rule::MisalignedContextSize,
                ddi,
                format!("{name} {n} is not a multiple of the pointer size ({word})"),
            ));
            return false;
        }
    }
    true
}

/// [`Rule::PoolFreedWithOutstandingAllocations`]: a live pool of `kind`
/// with nothing allocated from it alive.
pub(crate) fn may_free_pool(
    st: &State,
    addr: usize,
    kind: Kind,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if !live(st, addr, kind, ddi, found) {
        return false;
    }
    let outstanding = pool::outstanding(st, addr);
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
            .map(|o| o.name().to_string())
            .collect();
        found.push(v(
            Rule::PoolFreedWithOutstandingAllocations,
            ddi,
            format!("{} has {outstanding} outstanding allocations: {}", st.name(addr), live.join(", ")),
        ));
        return false;
    }
    true
}

/// [`Rule::WrongPoolKind`] for `NdisAllocateNetBuffer`: an NB pool without
/// data.
pub(crate) fn nb_pool_without_data(st: &State, pool: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if st.nb_pool(pool).is_some_and(|p| p.data_size != 0) {
        found.push(v(
            Rule::WrongPoolKind,
            ddi,
            format!("{} carries data: allocate from it with NdisAllocateNetBufferMdlAndData", st.name(pool)),
        ));
        return false;
    }
    true
}

/// [`Rule::WrongPoolKind`] for `NdisAllocateNetBufferMdlAndData`: an NB
/// pool with data. Returns its `DataSize`.
pub(crate) fn nb_pool_with_data(st: &State, pool: usize, ddi: &'static str, found: &mut Vec<Violation>) -> Option<u32> {
    let size = st.nb_pool(pool).map_or(0, |p| p.data_size);
    if size == 0 {
        found.push(v(
            Rule::WrongPoolKind,
            ddi,
            format!("{} was made with DataSize 0: it has no data to allocate", st.name(pool)),
        ));
        return None;
    }
    Some(size)
}

/// [`Rule::WrongPoolKind`] for `NdisAllocateNetBufferAndNetBufferList`: an
/// NBL pool made with `fAllocateNetBuffer`.
pub(crate) fn nbl_pool_with_nb(st: &State, pool: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if !st.nbl_pool(pool).is_some_and(|p| p.allocate_nb) {
        found.push(v(Rule::WrongPoolKind, ddi, format!("{} was made without fAllocateNetBuffer", st.name(pool))));
        return false;
    }
    true
}

/// [`Rule::WrongPoolKind`] for `FwpsAllocateNetBufferAndNetBufferList0`:
/// its `mdlChain` "initializes the preallocated NET_BUFFER", so the NBL
/// pool preallocates one (`fAllocateNetBuffer`). (A pool `DataSize` is not
/// excluded by the page; with a NULL chain the NB then takes the pool's
/// data, as `NdisAllocateNetBufferAndNetBufferList` does.)
pub(crate) fn fwps_pool(st: &State, pool: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if !st.nbl_pool(pool).is_some_and(|p| p.allocate_nb) {
        found.push(v(
            Rule::WrongPoolKind,
            ddi,
            format!(
                "{} was made without fAllocateNetBuffer: {ddi} initializes the NET_BUFFER preallocated with each NBL",
                st.name(pool)
            ),
        ));
        return false;
    }
    true
}

/// [`Rule::WrongPoolKind`] for the clone DDIs' pools: the clone gets
/// NET_BUFFERs of its own that describe the parent's data, so its NBL pool
/// preallocates no NET_BUFFER (`fAllocateNetBuffer` FALSE) and its NB
/// pool no data (`DataSize` 0). NULL pools (NDIS's or WFP's own) are fine.
pub(crate) fn clone_pools(
    st: &State,
    nbl_pool: usize,
    nb_pool: usize,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if st.nbl_pool(nbl_pool).is_some_and(|p| p.allocate_nb) {
        found.push(v(
            Rule::WrongPoolKind,
            ddi,
            format!(
                "{} preallocates a NET_BUFFER with each NBL: a clone's NBL pool is made without fAllocateNetBuffer",
                st.name(nbl_pool)
            ),
        ));
        return false;
    }
    if st.nb_pool(nb_pool).is_some_and(|p| p.data_size != 0) {
        found.push(v(
            Rule::WrongPoolKind,
            ddi,
            format!("{} carries data: a clone's NET_BUFFERs describe the parent's data (DataSize 0)", st.name(nb_pool)),
        ));
        return false;
    }
    true
}
