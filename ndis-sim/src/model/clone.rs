//! Clones: a new NBL whose NBs describe the parent's data, its
//! `ParentNetBufferList` and the parent's `ChildRefCount`.

use ndis_sys::*;

use super::mdl::new_mdl;
use super::nb::{init_nb, new_nb};
use super::nbl::{NblRequest, alloc_nbl, drop_nbl};
use super::records::{chain, mdl_len, mdl_va, nb_data, nbs, shape};
use super::{CloneInfo, NblOrigin, Raw, State};

/// Makes a clone of `orig`: a new NBL whose NBs describe the same data,
/// over the original MDLs (`use_original_mdls`) or over new MDLs NDIS
/// allocates that describe the same memory. Sets `ParentNetBufferList` and
/// increments the parent's `ChildRefCount`. The arguments were checked.
///
/// # Safety
///
/// `orig`, its NBs and their MDLs are live and consistent.
pub(crate) unsafe fn make_clone(
    st: &mut State,
    orig: *mut NET_BUFFER_LIST,
    nbl_pool: NDIS_HANDLE,
    nb_pool: NDIS_HANDLE,
    use_original_mdls: bool,
    origin: NblOrigin,
) -> *mut NET_BUFFER_LIST {
    // SAFETY: the caller guarantees the original is live.
    let orig_nbs = unsafe { nbs(orig) };
    let clone =
        alloc_nbl(st, NblRequest { pool: nbl_pool, context_size: 0, backfill: 0, origin, nb: None, pool_nb: false });
    if clone.is_null() {
        return clone;
    }
    let mut made_nbs = Vec::new();
    let mut mdls = Vec::new();
    let mut prev: *mut NET_BUFFER = core::ptr::null_mut();
    let tag = st.tag_of(nbl_pool as usize);
    for &onb in &orig_nbs {
        let nb = new_nb(st, nb_pool, None, tag);
        if nb.is_null() {
            return core::ptr::null_mut();
        }
        st.pool_count(nb_pool as usize, true);
        made_nbs.push(Raw(nb.cast()));
        // SAFETY: the original NB is live and consistent.
        let d = unsafe { nb_data(onb) };
        let head = if use_original_mdls {
            d.mdl_chain
        } else {
            // New MDLs describing the same memory, chained alike.
            let mut head: *mut MDL = core::ptr::null_mut();
            let mut tail: *mut MDL = core::ptr::null_mut();
            // SAFETY: the original chain's MDLs are live.
            for m in unsafe { chain(d.mdl_chain) } {
                // SAFETY: as above.
                let (va, len) = unsafe { (mdl_va(m), mdl_len(m)) };
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
            init_nb(nb, head, d.data_offset, d.data_length);
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
    let shape = unsafe { shape(clone) };
    if let Some(n) = st.nbl_mut(clone as usize) {
        n.clone = Some(Box::new(CloneInfo { parent: Raw(orig.cast()), shape, nbs: made_nbs, mdls }));
    }
    clone
}

/// Frees a clone (checked to be back as made): decrements the parent's
/// `ChildRefCount` and frees the clone with what NDIS made for it.
pub(crate) fn free_clone(st: &mut State, clone: usize, by: &'static str) {
    let parent = st.nbl(clone).and_then(|n| n.clone.as_ref()).map(|c| c.parent.0.cast::<NET_BUFFER_LIST>());
    if let Some(parent) = parent
        && st.nbl(parent as usize).is_some()
    {
        // SAFETY: the parent outlives its clones (the verifier enforces it).
        unsafe { *NET_BUFFER_LIST_CHILD_REF_COUNT(parent) -= 1 };
    }
    drop_nbl(st, clone, by);
}

/// Whether the NB was made by a clone DDI for a live clone.
pub(crate) fn clone_owns_nb(st: &State, nb: usize) -> bool {
    st.objs.values().any(|o| {
        o.freed_by.is_none()
            && matches!(&o.body, super::Body::Nbl(n) if n.clone.as_ref().is_some_and(|c| c.nbs.contains(&Raw(nb as *mut u8))))
    })
}
