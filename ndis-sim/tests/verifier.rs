//! Every verifier rule: a test that breaks it through the raw -sys
//! functions and sees the report naming it, and a valid twin that does the
//! same work correctly and sees no report and no leak.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;
use ndis_sim::{Rule, Session, StackNbl};

const NULL: NDIS_HANDLE = core::ptr::null_mut();

/// Runs `f` in a collecting session; asserts `rule` was reported, with a
/// message, and returns the messages.
fn breaks(rule: Rule, f: impl FnOnce()) -> Vec<String> {
    let s = Session::collecting();
    f();
    let reports = s.reports();
    assert!(reports.iter().any(|r| r.rule == rule), "expected {rule:?}, got {reports:#?}");
    reports.iter().map(ToString::to_string).collect()
}

/// Runs `f` in a collecting session; asserts no report and no leak.
fn clean(f: impl FnOnce()) {
    let s = Session::collecting();
    f();
    let reports = s.reports();
    assert!(reports.is_empty(), "{reports:#?}");
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn double_free() {
    let msgs = breaks(Rule::DoubleFree, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    assert!(msgs[0].contains("already freed by NdisFreeNetBufferList"), "{msgs:?}");
    clean(|| unsafe {
        let pool = nbl_pool(false, 0, 0);
        NdisFreeNetBufferList(NdisAllocateNetBufferList(pool, 0, 0));
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn double_free_after_other_traffic_is_still_caught() {
    // The freed record waits in the quarantine (256 records) before its
    // memory is used again: a double free after 200 other pairs is seen.
    let msgs = breaks(Rule::DoubleFree, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisFreeNetBufferList(nbl);
        for _ in 0..200 {
            NdisFreeNetBufferList(NdisAllocateNetBufferList(pool, 0, 0));
        }
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    assert!(msgs[0].contains("already freed by NdisFreeNetBufferList"), "{msgs:?}");
}

#[test]
fn use_after_free() {
    breaks(Rule::UseAfterFree, || unsafe {
        let pool = nbl_pool(false, 16, 0);
        let nbl = NdisAllocateNetBufferList(pool, 16, 0);
        NdisFreeNetBufferList(nbl);
        let _ = NdisAllocateNetBufferListContext(nbl, 16, 0, TAG);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(false, 16, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        assert_eq!(NdisAllocateNetBufferListContext(nbl, 16, 0, TAG), NDIS_STATUS_SUCCESS);
        NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn not_an_object() {
    breaks(Rule::NotAnObject, || unsafe {
        // A NET_BUFFER_LIST on the stack: NDIS never allocated it.
        let mut fake: NET_BUFFER_LIST = core::mem::zeroed();
        NdisFreeNetBufferList(&mut fake);
    });
    breaks(Rule::NotAnObject, || unsafe {
        let nb_pool = nb_pool(0);
        let _ = NdisAllocateNetBufferList(nb_pool, 0, 0); // an NB pool, not an NBL pool
        NdisFreeNetBufferPool(nb_pool);
    });
}

#[test]
fn wrong_free_function() {
    breaks(Rule::WrongFreeFunction, || unsafe {
        let pool = nbl_pool(true, 0, 64);
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 64, &mut nbl);
        NdisFreeNetBufferList(nbl); // FWPS's NBL
        FwpsFreeNetBufferList0(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    breaks(Rule::WrongFreeFunction, || unsafe {
        let pool = nbl_pool(true, 0, 64);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        let clone = NdisAllocateCloneNetBufferList(nbl, NULL, NULL, 0);
        NdisFreeNetBufferList(clone); // a clone
        FwpsFreeCloneNetBufferList0(clone, 0); // an NDIS clone
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    breaks(Rule::WrongFreeFunction, || unsafe {
        let pool = nbl_pool(true, 0, 64);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisFreeMdl(*NET_BUFFER_FIRST_MDL(first_nb(nbl))); // NDIS's data MDL
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(true, 0, 64);
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 64, &mut nbl);
        let clone = NdisAllocateCloneNetBufferList(nbl, NULL, NULL, 0);
        let mut fclone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(nbl, NULL, NULL, 0, &mut fclone);
        NdisFreeCloneNetBufferList(clone, 0);
        FwpsFreeCloneNetBufferList0(fclone, 0);
        FwpsFreeNetBufferList0(nbl);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn pool_freed_with_outstanding_allocations() {
    let msgs = breaks(Rule::PoolFreedWithOutstandingAllocations, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisFreeNetBufferListPool(pool);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    assert!(msgs[0].contains("1 outstanding allocations: nbl#"), "{msgs:?}");
    breaks(Rule::PoolFreedWithOutstandingAllocations, || unsafe {
        let pool = nb_pool(32);
        let nb = NdisAllocateNetBufferMdlAndData(pool);
        NdisFreeNetBufferPool(pool);
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    });
    clean(|| unsafe {
        let pool = nb_pool(32);
        NdisFreeNetBuffer(NdisAllocateNetBufferMdlAndData(pool));
        NdisFreeNetBufferPool(pool);
    });
}

#[test]
fn preallocated_net_buffer_freed() {
    breaks(Rule::PreallocatedNetBufferFreed, || unsafe {
        let pool = nbl_pool(true, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisFreeNetBuffer(first_nb(nbl));
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(true, 0, 0);
        NdisFreeNetBufferList(NdisAllocateNetBufferList(pool, 0, 0));
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn parent_freed_with_live_clones() {
    breaks(Rule::ParentFreedWithLiveClones, || unsafe {
        let pool = nbl_pool(true, 0, 16);
        let parent = NdisAllocateNetBufferList(pool, 0, 0);
        let clone = NdisAllocateCloneNetBufferList(parent, NULL, NULL, 0);
        NdisFreeNetBufferList(parent);
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferListPool(pool);
    });
    // The stack's NBL: its last reference released while a clone lives.
    breaks(Rule::ParentFreedWithLiveClones, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let nbl = indicated.as_ptr();
        FwpsReferenceNetBufferList0(nbl, 1);
        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(nbl, NULL, NULL, 0, &mut clone);
        indicated.complete();
        FwpsDereferenceNetBufferList0(nbl, 0);
        FwpsFreeCloneNetBufferList0(clone, 0);
    });
    clean(|| unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let nbl = indicated.as_ptr();
        FwpsReferenceNetBufferList0(nbl, 1);
        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(nbl, NULL, NULL, 0, &mut clone);
        indicated.complete();
        FwpsFreeCloneNetBufferList0(clone, 0);
        FwpsDereferenceNetBufferList0(nbl, 0);
    });
}

#[test]
fn clone_freed_while_modified() {
    // Retreated past its unused space: an MDL inserted, not undone.
    let msgs = breaks(Rule::CloneFreedWhileModified, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(indicated.as_ptr(), NULL, NULL, 0, &mut clone);
        NdisRetreatNetBufferDataStart(first_nb(clone), 28, 0, None);
        FwpsFreeCloneNetBufferList0(clone, 0);
        NdisAdvanceNetBufferDataStart(first_nb(clone), 28, 1, None);
        FwpsFreeCloneNetBufferList0(clone, 0);
    });
    assert!(msgs[0].contains("MDL chain was [mdl#"), "{msgs:?}");
    // Offsets changed within the same MDL.
    let msgs = breaks(Rule::CloneFreedWhileModified, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let clone = NdisAllocateCloneNetBufferList(indicated.as_ptr(), NULL, NULL, NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS);
        NdisAdvanceNetBufferDataStart(first_nb(clone), 4, 0, None);
        NdisFreeCloneNetBufferList(clone, 0);
        NdisRetreatNetBufferDataStart(first_nb(clone), 4, 0, None);
        NdisFreeCloneNetBufferList(clone, 0);
    });
    assert!(msgs[0].contains("DataOffset was 20 and is now 24"), "{msgs:?}");
    // Its NET_BUFFER replaced by another.
    breaks(Rule::CloneFreedWhileModified, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let pool = nb_pool(0);
        let replacement = NdisAllocateNetBuffer(pool, core::ptr::null_mut(), 0, 0);
        let clone = NdisAllocateCloneNetBufferList(indicated.as_ptr(), NULL, NULL, 0);
        let original = first_nb(clone);
        *NET_BUFFER_LIST_FIRST_NB(clone) = replacement;
        NdisFreeCloneNetBufferList(clone, 0);
        *NET_BUFFER_LIST_FIRST_NB(clone) = original;
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBuffer(replacement);
        NdisFreeNetBufferPool(pool);
    });
    clean(|| unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(indicated.as_ptr(), NULL, NULL, 0, &mut clone);
        NdisRetreatNetBufferDataStart(first_nb(clone), 28, 0, None);
        NdisAdvanceNetBufferDataStart(first_nb(clone), 28, 1, None);
        FwpsFreeCloneNetBufferList0(clone, 0);
    });
}

#[test]
fn context_freed_out_of_order() {
    breaks(Rule::ContextFreedOutOfOrder, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisAllocateNetBufferListContext(nbl, 16, 0, TAG);
        NdisAllocateNetBufferListContext(nbl, 24, 0, TAG);
        NdisFreeNetBufferListContext(nbl, 16); // the 24 is on top
        NdisFreeNetBufferListContext(nbl, 24);
        NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    breaks(Rule::ContextFreedOutOfOrder, || unsafe {
        let pool = nbl_pool(false, 16, 0);
        let nbl = NdisAllocateNetBufferList(pool, 16, 0);
        NdisFreeNetBufferListContext(nbl, 16); // nothing was pushed
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisAllocateNetBufferListContext(nbl, 16, 0, TAG);
        NdisAllocateNetBufferListContext(nbl, 24, 0, TAG);
        NdisFreeNetBufferListContext(nbl, 24);
        NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn context_left_allocated() {
    breaks(Rule::ContextLeftAllocated, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        NdisAllocateNetBufferListContext(nbl, 16, 0, TAG);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn misaligned_context_size() {
    breaks(Rule::MisalignedContextSize, || unsafe {
        let p = nbl_pool_params(false, 20, 0);
        assert!(NdisAllocateNetBufferListPool(NULL, &p).is_null());
    });
    breaks(Rule::MisalignedContextSize, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        assert!(NdisAllocateNetBufferList(pool, 8, 0).is_null());
        assert!(NdisAllocateNetBufferList(pool, 0, 24).is_null());
        NdisFreeNetBufferListPool(pool);
    });
    breaks(Rule::MisalignedContextSize, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        assert_eq!(NdisAllocateNetBufferListContext(nbl, 12, 0, TAG), NDIS_STATUS_INVALID_PARAMETER);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(false, 32, 0);
        let nbl = NdisAllocateNetBufferList(pool, 16, 16);
        // Pointer-size multiples are enough for pushed contexts.
        assert_eq!(NdisAllocateNetBufferListContext(nbl, 8, 0, TAG), NDIS_STATUS_SUCCESS);
        NdisFreeNetBufferListContext(nbl, 8);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn invalid_pool_parameters() {
    breaks(Rule::InvalidPoolParameters, || unsafe {
        let mut p = nbl_pool_params(false, 0, 0);
        p.Header.Type = 0;
        assert!(NdisAllocateNetBufferListPool(NULL, &p).is_null());
    });
    breaks(Rule::InvalidPoolParameters, || unsafe {
        let mut p = nb_pool_params(0);
        p.Header.Size -= 1;
        assert!(NdisAllocateNetBufferPool(NULL, &p).is_null());
    });
    let msgs = breaks(Rule::InvalidPoolParameters, || unsafe {
        let p = nbl_pool_params(false, 0, 256);
        assert!(NdisAllocateNetBufferListPool(NULL, &p).is_null());
    });
    assert!(msgs[0].contains("DataSize 256 without fAllocateNetBuffer"), "{msgs:?}");
    clean(|| unsafe {
        let p = nbl_pool_params(true, 0, 256);
        let pool = NdisAllocateNetBufferListPool(NULL, &p);
        assert!(!pool.is_null());
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn null_mdl_with_data() {
    breaks(Rule::NullMdlWithData, || unsafe {
        let pool = nb_pool(0);
        assert!(NdisAllocateNetBuffer(pool, core::ptr::null_mut(), 4, 0).is_null());
        assert!(NdisAllocateNetBuffer(pool, core::ptr::null_mut(), 0, 10).is_null());
        NdisFreeNetBufferPool(pool);
    });
    breaks(Rule::NullMdlWithData, || unsafe {
        let pool = nbl_pool(true, 0, 0); // no data of its own
        assert!(NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, core::ptr::null_mut(), 0, 10).is_null());
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nb_pool(0);
        NdisFreeNetBuffer(NdisAllocateNetBuffer(pool, core::ptr::null_mut(), 0, 0));
        NdisFreeNetBufferPool(pool);
    });
}

#[test]
fn data_outside_the_mdl_chain() {
    breaks(Rule::DataOutsideMdlChain, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        assert!(NdisAllocateNetBuffer(pool, buf.mdl, 4, 7).is_null());
        NdisFreeNetBufferPool(pool);
    });
    let msgs = breaks(Rule::DataOutsideMdlChain, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        let nb = NdisAllocateNetBuffer(pool, buf.mdl, 2, 6);
        *NET_BUFFER_DATA_OFFSET(nb) = 4; // CurrentMdlOffset still says 2
        let _ = NdisGetDataBuffer(nb, 1, core::ptr::null_mut(), 1, 0);
        *NET_BUFFER_DATA_OFFSET(nb) = 2;
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    });
    assert!(msgs[0].contains("but DataOffset is 4"), "{msgs:?}");
    clean(|| unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        NdisFreeNetBuffer(NdisAllocateNetBuffer(pool, buf.mdl, 4, 6));
        NdisFreeNetBufferPool(pool);
    });
}

#[test]
fn advance_past_data() {
    breaks(Rule::AdvancePastData, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        let nb = NdisAllocateNetBuffer(pool, buf.mdl, 0, 10);
        NdisAdvanceNetBufferDataStart(nb, 11, 0, None);
        assert_eq!(offsets(nb).1, 10, "nothing changed");
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    });
    clean(|| unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        let nb = NdisAllocateNetBuffer(pool, buf.mdl, 0, 10);
        NdisAdvanceNetBufferDataStart(nb, 10, 0, None);
        assert_eq!(offsets(nb), (10, 0, buf.mdl, 10));
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    });
}

#[test]
fn wrong_pool_kind() {
    breaks(Rule::WrongPoolKind, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(64);
        assert!(NdisAllocateNetBuffer(pool, buf.mdl, 0, 10).is_null());
        NdisFreeNetBufferPool(pool);
    });
    breaks(Rule::WrongPoolKind, || unsafe {
        let pool = nb_pool(0);
        assert!(NdisAllocateNetBufferMdlAndData(pool).is_null());
        NdisFreeNetBufferPool(pool);
    });
    breaks(Rule::WrongPoolKind, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nbl_pool(false, 0, 0);
        assert!(NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 0, 10).is_null());
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn wrong_pool_kind_for_each_allocation_path_with_its_clean_twin() {
    // The existing paths' clean twins: each DDI from the pool kind it takes.
    clean(|| unsafe {
        let buf = Buffer::new(&[0; 10]);
        let (plain, with_data) = (nb_pool(0), nb_pool(64));
        NdisFreeNetBuffer(NdisAllocateNetBuffer(plain, buf.mdl, 0, 10));
        NdisFreeNetBuffer(NdisAllocateNetBufferMdlAndData(with_data));
        let with_nb = nbl_pool(true, 0, 0);
        NdisFreeNetBufferList(NdisAllocateNetBufferAndNetBufferList(with_nb, 0, 0, buf.mdl, 0, 10));
        NdisFreeNetBufferListPool(with_nb);
        NdisFreeNetBufferPool(with_data);
        NdisFreeNetBufferPool(plain);
    });
    // FwpsAllocateNetBufferAndNetBufferList0 initializes the NET_BUFFER the
    // pool preallocates: a pool without fAllocateNetBuffer is reported.
    let msgs = breaks(Rule::WrongPoolKind, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nbl_pool(false, 0, 0);
        let mut nbl = core::ptr::null_mut();
        assert_ne!(FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 10, &mut nbl), STATUS_SUCCESS);
        assert!(nbl.is_null());
        NdisFreeNetBufferListPool(pool);
    });
    assert!(msgs[0].contains("without fAllocateNetBuffer"), "{msgs:?}");
    clean(|| unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nbl_pool(true, 0, 0);
        let mut nbl = core::ptr::null_mut();
        assert_eq!(FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 10, &mut nbl), STATUS_SUCCESS);
        FwpsFreeNetBufferList0(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    // A clone's NBL pool preallocates no NET_BUFFER; its NB pool no data.
    let msgs = breaks(Rule::WrongPoolKind, || unsafe {
        let parent_pool = nbl_pool(true, 0, 64);
        let parent = NdisAllocateNetBufferList(parent_pool, 0, 0);
        assert!(NdisAllocateCloneNetBufferList(parent, parent_pool, NULL, 0).is_null());
        let mut clone = core::ptr::null_mut();
        assert_ne!(FwpsAllocateCloneNetBufferList0(parent, parent_pool, NULL, 0, &mut clone), STATUS_SUCCESS);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferListPool(parent_pool);
    });
    assert!(msgs.len() == 2 && msgs.iter().all(|m| m.contains("a clone's NBL pool")), "{msgs:?}");
    breaks(Rule::WrongPoolKind, || unsafe {
        let parent_pool = nbl_pool(true, 0, 64);
        let data_nbs = nb_pool(64);
        let parent = NdisAllocateNetBufferList(parent_pool, 0, 0);
        assert!(NdisAllocateCloneNetBufferList(parent, NULL, data_nbs, 0).is_null());
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferPool(data_nbs);
        NdisFreeNetBufferListPool(parent_pool);
    });
    clean(|| unsafe {
        let parent_pool = nbl_pool(true, 0, 64);
        let (clone_nbls, clone_nbs) = (nbl_pool(false, 0, 0), nb_pool(0));
        let parent = NdisAllocateNetBufferList(parent_pool, 0, 0);
        let clone = NdisAllocateCloneNetBufferList(parent, clone_nbls, clone_nbs, 0);
        let mut fclone = core::ptr::null_mut();
        assert_eq!(FwpsAllocateCloneNetBufferList0(parent, clone_nbls, clone_nbs, 0, &mut fclone), STATUS_SUCCESS);
        FwpsFreeCloneNetBufferList0(fclone, 0);
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferPool(clone_nbs);
        NdisFreeNetBufferListPool(clone_nbls);
        NdisFreeNetBufferListPool(parent_pool);
    });
}

mod handlers {
    use super::*;

    pub unsafe extern "system" fn allocate(size: *mut ULONG) -> *mut MDL {
        unsafe {
            let mem: &'static mut [u8] = Box::leak(vec![0u8; *size as usize].into_boxed_slice());
            NdisAllocateMdl(core::ptr::null_mut(), mem.as_mut_ptr().cast(), *size)
        }
    }

    pub unsafe extern "system" fn free(mdl: *mut MDL) {
        unsafe {
            let (va, len) = (MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl));
            NdisFreeMdl(mdl);
            drop(Box::from_raw(core::ptr::slice_from_raw_parts_mut(va.cast::<u8>(), len as usize)));
        }
    }
}

#[test]
fn missing_free_mdl_handler() {
    breaks(Rule::MissingFreeMdlHandler, || unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        let nb = NdisAllocateNetBuffer(pool, buf.mdl, 0, 10);
        NdisRetreatNetBufferDataStart(nb, 8, 0, Some(handlers::allocate));
        let head = *NET_BUFFER_FIRST_MDL(nb);
        NdisAdvanceNetBufferDataStart(nb, 8, 1, None);
        handlers::free(head); // what the missing handler would have done
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    });
    clean(|| unsafe {
        let buf = Buffer::new(&[0; 10]);
        let pool = nb_pool(0);
        let nb = NdisAllocateNetBuffer(pool, buf.mdl, 0, 10);
        NdisRetreatNetBufferDataStart(nb, 8, 0, Some(handlers::allocate));
        NdisAdvanceNetBufferDataStart(nb, 8, 1, Some(handlers::free));
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
        drop(buf);
    });
}

#[test]
fn dereference_without_reference() {
    breaks(Rule::DereferenceWithoutReference, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        FwpsDereferenceNetBufferList0(indicated.as_ptr(), 0);
    });
    clean(|| unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        FwpsReferenceNetBufferList0(indicated.as_ptr(), 0);
        FwpsDereferenceNetBufferList0(indicated.as_ptr(), 0);
    });
}

#[test]
fn net_buffer_list_owned_by_the_stack_while_injected() {
    unsafe extern "system" fn complete(_: *mut core::ffi::c_void, nbl: *mut NET_BUFFER_LIST, _: BOOLEAN) {
        unsafe { FwpsFreeNetBufferList0(nbl) };
    }
    let inject = |nbl, h| unsafe {
        FwpsInjectNetworkSendAsync0(h, core::ptr::null_mut(), 0, 1, nbl, Some(complete), core::ptr::null_mut())
    };
    breaks(Rule::NetBufferListOwnedByStack, || unsafe {
        let pool = nbl_pool(true, 0, 64);
        let mut h = core::ptr::null_mut();
        FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_NETWORK, &mut h);
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 64, &mut nbl);
        assert_eq!(inject(nbl, h), STATUS_SUCCESS);
        FwpsFreeNetBufferList0(nbl); // the stack owns it
        assert_ne!(inject(nbl, h), STATUS_SUCCESS); // injected twice
        ndis_sim::complete_all(STATUS_SUCCESS);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let pool = nbl_pool(true, 0, 64);
        let mut h = core::ptr::null_mut();
        FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_NETWORK, &mut h);
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 64, &mut nbl);
        assert_eq!(inject(nbl, h), STATUS_SUCCESS);
        ndis_sim::complete_all(STATUS_SUCCESS);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    });
}

#[test]
fn invalid_injection_handle() {
    breaks(Rule::InvalidInjectionHandle, || unsafe {
        let mut h = core::ptr::null_mut();
        FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_NETWORK, &mut h);
        assert_eq!(FwpsInjectionHandleDestroy0(h), STATUS_SUCCESS);
        assert_eq!(FwpsInjectionHandleDestroy0(h), STATUS_INVALID_PARAMETER);
    });
}

#[test]
fn stack_net_buffer_list_returned_modified() {
    breaks(Rule::StackNetBufferListModified, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        NdisRetreatNetBufferDataStart(first_nb(indicated.as_ptr()), 20, 0, None);
        indicated.complete();
    });
    clean(|| unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        NdisRetreatNetBufferDataStart(first_nb(indicated.as_ptr()), 20, 0, None);
        NdisAdvanceNetBufferDataStart(first_nb(indicated.as_ptr()), 20, 0, None);
        indicated.complete();
    });
}

#[test]
fn a_referenced_lent_nbl_is_checked_when_the_stack_regains_it() {
    // Referenced, retreated, given back, never advanced: the stack regains
    // it at the last dereference, and reports it there.
    let msgs = breaks(Rule::StackNetBufferListModified, || unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let nbl = indicated.as_ptr();
        FwpsReferenceNetBufferList0(nbl, 1);
        NdisRetreatNetBufferDataStart(first_nb(nbl), 20, 0, None);
        indicated.complete(); // classify returns: the reference keeps it
        FwpsDereferenceNetBufferList0(nbl, 0);
    });
    assert!(msgs.iter().all(|m| m.contains("in FwpsDereferenceNetBufferList0")), "{msgs:?}");
    // The twin: it goes back to the stack as lent, though it was not yet
    // when classify returned.
    clean(|| unsafe {
        let indicated = StackNbl::indicate(&[0; 40], 20);
        let nbl = indicated.as_ptr();
        FwpsReferenceNetBufferList0(nbl, 1);
        NdisRetreatNetBufferDataStart(first_nb(nbl), 20, 0, None);
        indicated.complete();
        NdisAdvanceNetBufferDataStart(first_nb(nbl), 20, 0, None);
        FwpsDereferenceNetBufferList0(nbl, 0);
    });
}

#[test]
fn a_lent_nbl_still_referenced_at_the_end_is_a_leak() {
    let s = Session::collecting();
    let indicated = StackNbl::indicate(&[0; 40], 20);
    let nbl = indicated.as_ptr();
    unsafe { FwpsReferenceNetBufferList0(nbl, 0) };
    indicated.complete();
    let leaks = s.leaks();
    assert_eq!(leaks.len(), 1, "{leaks}");
    assert!(leaks.to_string().contains("lent by the stack; 1 references never released"), "{leaks}");
    unsafe { FwpsDereferenceNetBufferList0(nbl, 0) };
    assert!(s.leaks().is_empty(), "{}", s.leaks());
    assert!(s.reports().is_empty());
}
