//! NET_BUFFER_LIST records are allocated at the newest NDIS layout on every
//! allocation path, so a driver built for NDIS 6.82+ that writes
//! `NetBufferListInfo` past the 6.30 bindings' 24 slots stays in bounds
//! (Miri checks every write below).
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;
use ndis_sim::{NET_BUFFER_LIST_SIZE, Session, StackNbl};

const NULL: NDIS_HANDLE = core::ptr::null_mut();

/// Writes and reads back every `NetBufferListInfo` slot the newest layout
/// has room for, up to and including slot 27; returns how many.
fn touch_every_info_slot(nbl: *mut NET_BUFFER_LIST) -> usize {
    let first = core::mem::offset_of!(NET_BUFFER_LIST, NetBufferListInfo);
    let slots = (NET_BUFFER_LIST_SIZE - first) / size_of::<PVOID>();
    unsafe {
        let info = (&raw mut (*nbl).NetBufferListInfo).cast::<PVOID>();
        for i in 0..slots {
            info.add(i).write(core::ptr::without_provenance_mut(i + 1));
        }
        for i in 0..slots {
            assert_eq!(info.add(i).read(), core::ptr::without_provenance_mut(i + 1));
            info.add(i).write(core::ptr::null_mut());
        }
    }
    slots
}

#[test]
fn the_record_is_the_newest_layout() {
    if cfg!(target_pointer_width = "64") {
        assert_eq!(size_of::<NET_BUFFER_LIST>(), 336, "the bindings are NDIS 6.30's");
        assert_eq!(NET_BUFFER_LIST_SIZE, 368);
    }
    assert!(NET_BUFFER_LIST_SIZE > size_of::<NET_BUFFER_LIST>());
}

#[test]
fn every_allocation_path_has_room_for_slot_27() {
    let s = Session::new();
    unsafe {
        let pool = nbl_pool(true, 0, 64);
        let bare_pool = nbl_pool(false, 0, 0);
        let nbl = NdisAllocateNetBufferList(bare_pool, 0, 0);
        let with_nb = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, core::ptr::null_mut(), 0, 64);
        let mut fwps = core::ptr::null_mut();
        assert_eq!(FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 64, &mut fwps), 0);
        let clone = NdisAllocateCloneNetBufferList(with_nb, NULL, NULL, 0);
        let mut fclone = core::ptr::null_mut();
        assert_eq!(FwpsAllocateCloneNetBufferList0(fwps, NULL, NULL, 0, &mut fclone), 0);
        let lent = StackNbl::indicate(&[0x45; 40], 20);
        for p in [nbl, with_nb, fwps, clone, fclone, lent.as_ptr()] {
            assert!(!p.is_null());
            let slots = touch_every_info_slot(p);
            assert!(slots >= 28, "slot 27 is in the record ({slots} slots)");
        }
        lent.complete();
        FwpsFreeCloneNetBufferList0(fclone, 0);
        NdisFreeCloneNetBufferList(clone, 0);
        FwpsFreeNetBufferList0(fwps);
        NdisFreeNetBufferList(with_nb);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(bare_pool);
        NdisFreeNetBufferListPool(pool);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
