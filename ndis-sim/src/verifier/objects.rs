//! Objects: the right kind, alive, the caller's (not the stack's), freed
//! once and with the function matching their allocator; references and
//! injection handles.

use ndis_sys::*;

use super::{Rule, Violation, v};
use crate::model::Kind;
use crate::model::{Body, NblOrigin, State};

/// [`Rule::DoubleFree`], [`Rule::UseAfterFree`], [`Rule::NotAnObject`]:
/// `addr` is a live object of kind `kind`.
pub(crate) fn live(st: &State, addr: usize, kind: Kind, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    match st.objs.get(&addr) {
        Some(o) if o.body.kind() == kind && o.freed_by.is_none() => true,
        Some(o) if o.freed_by.is_some() => {
            let rule = if ddi.contains("Free") { Rule::DoubleFree } else { Rule::UseAfterFree };
            found.push(v(rule, ddi, format!("{} was already freed by {}", o.name(), o.freed_by.unwrap_or("?"))));
            false
        }
        Some(o) => {
            found.push(v(Rule::NotAnObject, ddi, format!("{} is a {}, not a {kind}", o.name(), o.body.kind())));
            false
        }
        None => {
            found.push(v(Rule::NotAnObject, ddi, format!("{addr:#x} is not a {kind} NDIS allocated")));
            false
        }
    }
}

/// [`Rule::NetBufferListOwnedByStack`]: whether an NBL is injected and not
/// yet completed; reports it if so.
pub(crate) fn owned_by_stack(st: &State, nbl: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    let injected = st.nbl(nbl).is_some_and(|n| n.injected.is_some());
    if injected {
        found.push(v(
            Rule::NetBufferListOwnedByStack,
            ddi,
            format!("{} is injected and its completion has not run", st.name(nbl)),
        ));
    }
    injected
}

/// A live NBL the caller owns (not injected).
pub(crate) fn callers_nbl(st: &State, nbl: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    live(st, nbl, Kind::Nbl, ddi, found) && !owned_by_stack(st, nbl, ddi, found)
}

/// Checks that an NBL may be freed by `ddi`: [`Rule::WrongFreeFunction`],
/// [`Rule::ParentFreedWithLiveClones`], [`Rule::ContextLeftAllocated`],
/// and not owned by the stack.
pub(crate) fn may_free_nbl(
    st: &State,
    nbl: *mut NET_BUFFER_LIST,
    allowed: NblOrigin,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    let addr = nbl as usize;
    // The common case in one lookup: a live NBL of the allowed origin, not
    // injected, with nothing pushed.
    let info = match st.objs.get(&addr) {
        Some(o) if o.freed_by.is_none() => match &o.body {
            Body::Nbl(n) => n,
            _ => return live(st, addr, Kind::Nbl, ddi, found),
        },
        _ => return live(st, addr, Kind::Nbl, ddi, found),
    };
    if info.injected.is_some() {
        return !owned_by_stack(st, addr, ddi, found);
    }
    if info.origin != allowed {
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

/// [`Rule::PreallocatedNetBufferFreed`] and [`Rule::WrongFreeFunction`]
/// for `NdisFreeNetBuffer`: the NB is one an NB pool made. Returns its pool.
pub(crate) fn may_free_nb(st: &State, nb: usize, ddi: &'static str, found: &mut Vec<Violation>) -> Option<usize> {
    if !live(st, nb, Kind::Nb, ddi, found) {
        return None;
    }
    let (owner, pool) = crate::model::nb::owner_and_pool(st, nb)?;
    if let Some(owner) = owner {
        found.push(v(
            Rule::PreallocatedNetBufferFreed,
            ddi,
            format!("{} was preallocated with {}; it is freed with it", st.name(nb), st.name(owner)),
        ));
        return None;
    }
    if crate::model::clone::clone_owns_nb(st, nb) {
        found.push(v(
            Rule::WrongFreeFunction,
            ddi,
            format!("{} belongs to a clone; it is freed with the clone", st.name(nb)),
        ));
        return None;
    }
    Some(pool)
}

/// [`Rule::WrongFreeFunction`] for `NdisFreeMdl`: only MDLs
/// `NdisAllocateMdl` made.
pub(crate) fn may_free_mdl(st: &State, mdl: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if !live(st, mdl, Kind::Mdl, ddi, found) {
        return false;
    }
    if !crate::model::mdl::by_caller(st, mdl) {
        found.push(v(
            Rule::WrongFreeFunction,
            ddi,
            format!("{} was allocated by NDIS, not by NdisAllocateMdl; NDIS frees it", st.name(mdl)),
        ));
        return false;
    }
    true
}

/// [`Rule::DereferenceWithoutReference`]: the NBL holds a reference.
pub(crate) fn holds_reference(st: &State, nbl: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if !live(st, nbl, Kind::Nbl, ddi, found) {
        return false;
    }
    if st.nbl(nbl).is_some_and(|n| n.references == 0) {
        found.push(v(Rule::DereferenceWithoutReference, ddi, format!("{} holds no reference", st.name(nbl))));
        return false;
    }
    true
}

/// [`Rule::InvalidInjectionHandle`]: a handle `FwpsInjectionHandleCreate0`
/// made and not yet destroyed.
pub(crate) fn valid_handle(st: &State, h: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    match st.objs.get(&h) {
        Some(o) if matches!(o.body, Body::InjectionHandle { .. }) && o.freed_by.is_none() => true,
        Some(o) if o.freed_by.is_some() => {
            found.push(v(Rule::InvalidInjectionHandle, ddi, format!("{} was already destroyed", o.name())));
            false
        }
        _ => {
            found.push(v(Rule::InvalidInjectionHandle, ddi, format!("{h:#x} is not an injection handle")));
            false
        }
    }
}
