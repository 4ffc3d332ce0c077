//! Clones and lent NBLs given back as they were made:
//! [`Rule::CloneFreedWhileModified`], [`Rule::ParentFreedWithLiveClones`]
//! when the stack regains a lent NBL, [`Rule::StackNetBufferListModified`].

use ndis_sys::*;

use super::data::consistent;
use super::objects::{callers_nbl, live, may_free_nbl};
use super::{Rule, Violation, v};
use crate::model::Kind;
use crate::model::records::{nbs, shape};
use crate::model::{NbShape, NblOrigin, State, lent};

/// Describes the first difference between two shapes, naming objects.
pub(crate) fn shape_difference(st: &State, was: &[NbShape], now: &[NbShape]) -> Option<String> {
    if was.len() != now.len() {
        return Some(format!("it had {} NET_BUFFERs and now has {}", was.len(), now.len()));
    }
    for (i, (a, b)) in was.iter().zip(now).enumerate() {
        if a.nb != b.nb {
            return Some(format!("NET_BUFFER {i} was {} and is now {}", st.name(a.nb), st.name(b.nb)));
        }
        let nb = st.name(a.nb);
        if a.mdls != b.mdls || a.mdl_chain != b.mdl_chain {
            return Some(format!(
                "{nb}'s MDL chain was [{}] and is now [{}]",
                a.mdls.iter().map(|m| st.name(m.0).to_string()).collect::<Vec<_>>().join(", "),
                b.mdls.iter().map(|m| st.name(m.0).to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        let fields = [
            ("DataOffset", a.data_offset, b.data_offset),
            ("DataLength", a.data_length, b.data_length),
            ("CurrentMdlOffset", a.current_mdl_offset, b.current_mdl_offset),
        ];
        for (name, x, y) in fields {
            if x != y {
                return Some(format!("{nb}'s {name} was {x} and is now {y}"));
            }
        }
        if a.current_mdl != b.current_mdl {
            return Some(format!(
                "{nb}'s CurrentMdl was {} and is now {}",
                st.name(a.current_mdl),
                st.name(b.current_mdl)
            ));
        }
    }
    None
}

/// The arguments of the clone DDIs: a live NBL the caller owns, whose NBs
/// are consistent, and pools (if given) of the right kinds.
///
/// # Safety
///
/// `orig`'s NBs and their MDLs are live if it is.
pub(crate) unsafe fn may_clone(
    st: &State,
    orig: *mut NET_BUFFER_LIST,
    nbl_pool: NDIS_HANDLE,
    nb_pool: NDIS_HANDLE,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if !callers_nbl(st, orig as usize, ddi, found) {
        return false;
    }
    if !nbl_pool.is_null() && !live(st, nbl_pool as usize, Kind::NblPool, ddi, found) {
        return false;
    }
    if !nb_pool.is_null() && !live(st, nb_pool as usize, Kind::NbPool, ddi, found) {
        return false;
    }
    if !super::pool::clone_pools(st, nbl_pool as usize, nb_pool as usize, ddi, found) {
        return false;
    }
    // SAFETY: the original is live; its NBs and MDLs are live.
    unsafe { nbs(orig) }.into_iter().all(|nb| {
        // SAFETY: as above.
        unsafe { consistent(st, nb, ddi, found) }
    })
}

/// A clone may be freed by `ddi`: freed with its own function, and back to
/// the shape the clone DDI made ([`Rule::CloneFreedWhileModified`]).
pub(crate) fn may_free_clone(
    st: &State,
    clone: *mut NET_BUFFER_LIST,
    origin: NblOrigin,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if !may_free_nbl(st, clone, origin, ddi, found) {
        return false;
    }
    let addr = clone as usize;
    let Some(was) = st.nbl(addr).and_then(|n| n.clone.as_ref()).map(|c| &c.shape) else {
        return false;
    };
    // SAFETY: the clone is live; its NBs and MDLs are live.
    let now = unsafe { shape(clone) };
    if let Some(diff) = shape_difference(st, was, &now) {
        found.push(v(
            Rule::CloneFreedWhileModified,
            ddi,
            format!("{}: {diff}; undo the change before freeing the clone", st.name(addr)),
        ));
        return false;
    }
    true
}

/// [`Rule::StackNetBufferListModified`]: a lent NBL goes back to the stack
/// with the offsets it was lent with.
///
/// # Safety
///
/// `nbl` is live.
pub(crate) unsafe fn lent_unmodified(
    st: &State,
    nbl: *mut NET_BUFFER_LIST,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    let addr = nbl as usize;
    let expected = st.nbl(addr).and_then(|n| n.lent.as_ref()).map(|l| l.shape);
    // SAFETY: the caller guarantees the NBL is live.
    let now = unsafe { lent::offsets(nbl) };
    if now != expected {
        found.push(v(
            Rule::StackNetBufferListModified,
            ddi,
            format!("{} came with (DataOffset, DataLength) {expected:?} and goes back with {now:?}", st.name(addr)),
        ));
        return false;
    }
    true
}

/// [`Rule::ParentFreedWithLiveClones`]: the stack regains a lent NBL only
/// with its clones gone.
///
/// # Safety
///
/// `nbl` is live.
pub(crate) unsafe fn no_live_clones(
    st: &State,
    nbl: *mut NET_BUFFER_LIST,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    // SAFETY: the caller guarantees the NBL is live.
    let children = unsafe { *NET_BUFFER_LIST_CHILD_REF_COUNT(nbl) };
    if children > 0 {
        found.push(v(
            Rule::ParentFreedWithLiveClones,
            ddi,
            format!(
                "{} goes back to the stack with {children} live clones: free the clones before releasing it",
                st.name(nbl as usize)
            ),
        ));
        return false;
    }
    true
}

/// The stack regains a lent NBL: when the driver's callback returns if no
/// reference holds it, else at the last `FwpsDereferenceNetBufferList0`.
/// That is where the stack sees it again, so that is where its offsets
/// must be back as lent ([`Rule::StackNetBufferListModified`]) and its
/// clones gone ([`Rule::ParentFreedWithLiveClones`]); then the stack
/// frees it.
///
/// # Safety
///
/// `nbl` is live.
pub(crate) unsafe fn stack_regains(
    st: &mut State,
    nbl: *mut NET_BUFFER_LIST,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) {
    // SAFETY: the caller guarantees the NBL is live.
    unsafe { lent_unmodified(st, nbl, ddi, found) };
    // SAFETY: as above.
    if unsafe { no_live_clones(st, nbl, ddi, found) } {
        lent::release(st, nbl as usize, ddi);
    }
}
