//! The NDIS DDIs' documented behaviour, through the raw -sys functions.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;
use ndis_sim::Session;

#[test]
fn nbl_without_nb_has_the_requested_context_and_no_nb() {
    let s = Session::new();
    let pool = nbl_pool(false, 32, 0);
    unsafe {
        let nbl = NdisAllocateNetBufferList(pool, 16, 16);
        assert!(!nbl.is_null());
        assert!(first_nb(nbl).is_null());
        let ctx = (*nbl).Context;
        assert_eq!(((*ctx).Size, (*ctx).Offset), (32, 16), "used data at the end, backfill before it");
        assert_eq!(NET_BUFFER_LIST_CONTEXT_DATA_START(nbl) as usize % MEMORY_ALLOCATION_ALIGNMENT, 0);
        assert_eq!(NdisGetPoolFromNetBufferList(nbl), pool);
        // A request larger than the pool's area gets its own block.
        let big = NdisAllocateNetBufferList(pool, 64, 16);
        assert_eq!(((*(*big).Context).Size, (*(*big).Context).Offset), (80, 16));
        NdisFreeNetBufferList(big);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn pool_with_net_buffer_and_data_preallocates_both() {
    let s = Session::new();
    let pool = nbl_pool(true, 0, 128);
    unsafe {
        let nbl = NdisAllocateNetBufferList(pool, 0, 0);
        let nb = first_nb(nbl);
        assert!(!nb.is_null());
        let (off, len, cur, cur_off) = offsets(nb);
        assert_eq!((off, len, cur_off), (0, 128, 0));
        assert_eq!(cur, *NET_BUFFER_FIRST_MDL(nb));
        assert_eq!(MmGetMdlByteCount(cur), 128);
        assert_eq!(NdisGetPoolFromNetBuffer(nb), pool);
        // The data is writable memory NDIS owns.
        let p = NdisGetDataBuffer(nb, 128, core::ptr::null_mut(), 1, 0).cast::<u8>();
        assert!(!p.is_null());
        p.write_bytes(0xAB, 128);
        assert!(read(nb).iter().all(|&b| b == 0xAB));
        // With a NULL chain, the NBL-and-NB allocator takes offsets into the pool's data.
        let nbl2 = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, core::ptr::null_mut(), 28, 100);
        assert_eq!(offsets(first_nb(nbl2)).0, 28);
        NdisFreeNetBufferList(nbl2);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn net_buffer_over_a_two_mdl_chain_locates_its_current_mdl() {
    let s = Session::new();
    let a = Buffer::new(&[1; 10]);
    let b = Buffer::new(&(0..20).collect::<Vec<u8>>());
    a.link(&b);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let nbl = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, a.mdl, 14, 16);
        let nb = first_nb(nbl);
        let (off, len, cur, cur_off) = offsets(nb);
        assert_eq!((off, len, cur, cur_off), (14, 16, b.mdl, 4));
        assert_eq!(read(nb), (4..20).collect::<Vec<u8>>());
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    drop((a, b));
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn net_buffer_pools_allocate_over_caller_mdls_or_with_their_own_data() {
    let s = Session::new();
    let buf = Buffer::new(b"hello, world");
    let plain = nb_pool(0);
    let with_data = nb_pool(64);
    unsafe {
        let nb = NdisAllocateNetBuffer(plain, buf.mdl, 7, 5);
        assert_eq!(read(nb), b"world");
        assert_eq!(NdisGetPoolFromNetBuffer(nb), plain);
        let empty = NdisAllocateNetBuffer(plain, core::ptr::null_mut(), 0, 0);
        assert_eq!(offsets(empty).1, 0);
        let nb2 = NdisAllocateNetBufferMdlAndData(with_data);
        assert_eq!(offsets(nb2).0..offsets(nb2).1, 0..64);
        NdisFreeNetBuffer(nb);
        NdisFreeNetBuffer(empty);
        NdisFreeNetBuffer(nb2);
        NdisFreeNetBufferPool(plain);
        NdisFreeNetBufferPool(with_data);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn contexts_stack_use_backfill_first_and_pop_lifo() {
    let s = Session::new();
    let pool = nbl_pool(false, 0, 0);
    unsafe {
        let nbl = NdisAllocateNetBufferList(pool, 16, 32);
        let base = (*nbl).Context;
        assert_eq!(((*base).Size, (*base).Offset), (48, 32));
        // Fits the backfill: same block, Offset moves down.
        assert_eq!(NdisAllocateNetBufferListContext(nbl, 16, 0, TAG), NDIS_STATUS_SUCCESS);
        assert_eq!((*nbl).Context, base);
        assert_eq!((*base).Offset, 16);
        // Does not fit what is left (16): a new block on top, with its own backfill.
        assert_eq!(NdisAllocateNetBufferListContext(nbl, 24, 8, TAG), NDIS_STATUS_SUCCESS);
        let top = (*nbl).Context;
        assert_ne!(top, base);
        assert_eq!(((*top).Size, (*top).Offset, (*top).Next), (32, 8, base));
        NET_BUFFER_LIST_CONTEXT_DATA_START(nbl).write_bytes(7, 24);
        NdisFreeNetBufferListContext(nbl, 24);
        assert_eq!((*nbl).Context, base);
        NdisFreeNetBufferListContext(nbl, 16);
        assert_eq!((*base).Offset, 32);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn retreat_into_unused_space_and_advance_back() {
    let s = Session::new();
    let packet: Vec<u8> = (0..60).collect();
    let buf = Buffer::new(&packet);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let nbl = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 20, 40);
        let nb = first_nb(nbl);
        assert_eq!(NdisRetreatNetBufferDataStart(nb, 20, 0, None), NDIS_STATUS_SUCCESS);
        assert_eq!(offsets(nb), (0, 60, buf.mdl, 0));
        assert_eq!(read(nb), packet);
        NdisAdvanceNetBufferDataStart(nb, 20, 0, None);
        assert_eq!(offsets(nb), (20, 40, buf.mdl, 20));
        // The NBL-wide forms do the same to every NB.
        assert_eq!(NdisRetreatNetBufferListDataStart(nbl, 8, 0, None, None), NDIS_STATUS_SUCCESS);
        assert_eq!(offsets(nb).0, 12);
        NdisAdvanceNetBufferListDataStart(nbl, 8, 0, None);
        assert_eq!(offsets(nb).0, 20);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn retreat_past_the_unused_space_allocates_an_mdl_that_advance_frees() {
    let s = Session::new();
    let packet: Vec<u8> = (100..140).collect();
    let buf = Buffer::new(&packet);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let nbl = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 4, 36);
        let nb = first_nb(nbl);
        // 10 bytes back, only 4 unused: a new 6 + 16 byte MDL at the head.
        assert_eq!(NdisRetreatNetBufferDataStart(nb, 10, 16, None), NDIS_STATUS_SUCCESS);
        let head = *NET_BUFFER_FIRST_MDL(nb);
        assert_ne!(head, buf.mdl);
        assert_eq!(*NDIS_MDL_LINKAGE(head), buf.mdl);
        assert_eq!(MmGetMdlByteCount(head), 22);
        assert_eq!(offsets(nb), (16, 46, head, 16));
        let data = read(nb);
        assert_eq!(&data[6..], &packet[..]);
        // Advancing back with FreeMdl frees it and restores the chain.
        NdisAdvanceNetBufferDataStart(nb, 10, 1, None);
        assert_eq!(*NET_BUFFER_FIRST_MDL(nb), buf.mdl);
        assert_eq!(offsets(nb), (4, 36, buf.mdl, 4));
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

mod handlers {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
    pub static FREED: AtomicUsize = AtomicUsize::new(0);

    pub unsafe extern "system" fn allocate(size: *mut ULONG) -> *mut MDL {
        ALLOCATED.fetch_add(1, Ordering::SeqCst);
        unsafe {
            *size = (*size).next_multiple_of(32);
            let mem: &'static mut [u8] = Box::leak(vec![0u8; *size as usize].into_boxed_slice());
            NdisAllocateMdl(core::ptr::null_mut(), mem.as_mut_ptr().cast(), *size)
        }
    }

    pub unsafe extern "system" fn free(mdl: *mut MDL) {
        FREED.fetch_add(1, Ordering::SeqCst);
        unsafe {
            let (va, len) = (MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl));
            NdisFreeMdl(mdl);
            drop(Box::from_raw(core::ptr::slice_from_raw_parts_mut(va.cast::<u8>(), len as usize)));
        }
    }
}

#[test]
fn retreat_uses_the_callers_mdl_handlers() {
    use std::sync::atomic::Ordering;
    let s = Session::new();
    let buf = Buffer::new(&[9; 16]);
    let pool = nbl_pool(true, 0, 0);
    let (a0, f0) = (handlers::ALLOCATED.load(Ordering::SeqCst), handlers::FREED.load(Ordering::SeqCst));
    unsafe {
        let nbl = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 0, 16);
        let nb = first_nb(nbl);
        assert_eq!(NdisRetreatNetBufferDataStart(nb, 14, 0, Some(handlers::allocate)), NDIS_STATUS_SUCCESS);
        let head = *NET_BUFFER_FIRST_MDL(nb);
        assert_eq!(MmGetMdlByteCount(head), 32, "the handler rounded the size up");
        assert_eq!(offsets(nb), (18, 30, head, 18), "the data ends where the MDL does");
        NdisAdvanceNetBufferDataStart(nb, 14, 1, Some(handlers::free));
        assert_eq!(*NET_BUFFER_FIRST_MDL(nb), buf.mdl);
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    assert_eq!(handlers::ALLOCATED.load(Ordering::SeqCst) - a0, 1);
    assert_eq!(handlers::FREED.load(Ordering::SeqCst) - f0, 1);
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn get_data_buffer_points_copies_or_refuses() {
    let s = Session::new();
    let a = Buffer::new(b"abcdef");
    let b = Buffer::new(b"ghijkl");
    a.link(&b);
    let pool = nb_pool(0);
    unsafe {
        let nb = NdisAllocateNetBuffer(pool, a.mdl, 2, 8);
        let mut storage = [0u8; 8];
        // Contiguous in the current MDL: a pointer into it.
        let p = NdisGetDataBuffer(nb, 4, storage.as_mut_ptr().cast(), 1, 0);
        assert_eq!(p.cast::<u8>(), a.as_ptr().add(2));
        // Spanning two MDLs: a copy into the storage.
        let p = NdisGetDataBuffer(nb, 8, storage.as_mut_ptr().cast(), 1, 0);
        assert_eq!(p.cast::<u8>(), storage.as_mut_ptr());
        assert_eq!(&storage, b"cdefghij");
        // …or NULL without storage; NULL beyond the data, and for 0 bytes.
        assert!(NdisGetDataBuffer(nb, 8, core::ptr::null_mut(), 1, 0).is_null());
        assert!(NdisGetDataBuffer(nb, 9, storage.as_mut_ptr().cast(), 1, 0).is_null());
        assert!(NdisGetDataBuffer(nb, 0, storage.as_mut_ptr().cast(), 1, 0).is_null());
        // An alignment the data does not have: a copy.
        let start = a.as_ptr().add(2) as usize;
        let align = if start % 8 == 0 { 16 } else { 8 };
        let p = NdisGetDataBuffer(nb, 2, storage.as_mut_ptr().cast(), align, 0);
        assert_eq!(p.cast::<u8>() == storage.as_mut_ptr(), start % align as usize != 0);
        NdisFreeNetBuffer(nb);
        NdisFreeNetBufferPool(pool);
    }
    drop((a, b));
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn copy_between_net_buffers_stops_at_either_end() {
    let s = Session::new();
    let src = Buffer::new(b"0123456789");
    let dst = Buffer::new(&[b'.'; 6]);
    let pool = nb_pool(0);
    unsafe {
        let from = NdisAllocateNetBuffer(pool, src.mdl, 0, 10);
        let to = NdisAllocateNetBuffer(pool, dst.mdl, 0, 6);
        let mut copied = 0;
        assert_eq!(NdisCopyFromNetBufferToNetBuffer(to, 1, 3, from, 4, &mut copied), NDIS_STATUS_SUCCESS);
        assert_eq!((copied, dst.bytes()), (3, b".456..".to_vec()));
        assert_eq!(NdisCopyFromNetBufferToNetBuffer(to, 2, 10, from, 0, &mut copied), NDIS_STATUS_FAILURE);
        assert_eq!((copied, dst.bytes()), (4, b".40123".to_vec()));
        NdisFreeNetBuffer(from);
        NdisFreeNetBuffer(to);
        NdisFreeNetBufferPool(pool);
    }
    drop((src, dst));
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn clones_share_data_count_as_children_and_free_in_order() {
    let s = Session::new();
    let buf = Buffer::new(b"the packet's bytes");
    let pool = nbl_pool(true, 0, 0);
    let clone_pool = nbl_pool(false, 16, 0);
    unsafe {
        let parent = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 4, 14);
        // New MDLs over the same memory by default…
        let c1 = NdisAllocateCloneNetBufferList(parent, clone_pool, core::ptr::null_mut(), 0);
        let nb1 = first_nb(c1);
        assert_ne!(*NET_BUFFER_FIRST_MDL(nb1), buf.mdl);
        assert_eq!(read(nb1), read(first_nb(parent)));
        assert_eq!(*NET_BUFFER_LIST_PARENT(c1), parent);
        // …the original MDLs on request.
        let c2 = NdisAllocateCloneNetBufferList(
            parent,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS,
        );
        assert_eq!(*NET_BUFFER_FIRST_MDL(first_nb(c2)), buf.mdl);
        assert_eq!(*NET_BUFFER_LIST_CHILD_REF_COUNT(parent), 2);
        // A clone from a pool with a context area has it as backfill.
        assert_eq!(((*(*c1).Context).Size, (*(*c1).Context).Offset), (16, 16));
        // Writing through the clone is writing the shared data.
        *NdisGetDataBuffer(nb1, 1, core::ptr::null_mut(), 1, 0).cast::<u8>() = b'P';
        assert_eq!(buf.bytes()[4], b'P');
        NdisFreeCloneNetBufferList(c1, 0);
        NdisFreeCloneNetBufferList(c2, 0);
        assert_eq!(*NET_BUFFER_LIST_CHILD_REF_COUNT(parent), 0);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferListPool(clone_pool);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn a_modified_clone_restored_frees_cleanly() {
    let s = Session::new();
    let buf = Buffer::new(&[0; 40]);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let parent = NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, buf.mdl, 20, 20);
        let clone = NdisAllocateCloneNetBufferList(parent, core::ptr::null_mut(), core::ptr::null_mut(), 0);
        let nb = first_nb(clone);
        assert_eq!(NdisRetreatNetBufferDataStart(nb, 30, 0, None), NDIS_STATUS_SUCCESS);
        NdisAdvanceNetBufferDataStart(nb, 30, 1, None);
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn leaks_are_reported_by_pool_and_tag() {
    let s = Session::new();
    let pool = nbl_pool(true, 0, 0);
    let nbl = unsafe { NdisAllocateNetBufferList(pool, 0, 0) };
    let leaks = s.leaks();
    assert_eq!(leaks.len(), 2, "{leaks}");
    let text = leaks.to_string();
    assert!(text.contains("tag 'Test'") && text.contains("nbl#"), "{text}");
    unsafe {
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    assert!(s.leaks().is_empty());
}

#[test]
fn drawing_shows_nbls_nbs_mdls_contexts_and_clones() {
    let s = Session::new();
    let a = Buffer::new(&[0x45, 0, 0, 0x1c, 1, 2, 3, 4]);
    let b = Buffer::new(&[5; 20]);
    a.link(&b);
    let pool = nbl_pool(true, 16, 0);
    unsafe {
        let parent = NdisAllocateNetBufferAndNetBufferList(pool, 16, 0, a.mdl, 2, 26);
        let clone = NdisAllocateCloneNetBufferList(
            parent,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS,
        );
        let text = ndis_sim::draw(parent);
        assert!(text.contains("(NdisAllocateNetBufferList) from nbl-pool#"), "{text}");
        assert!(text.contains("'Test', ChildRefCount 1"), "{text}");
        assert!(text.contains("contexts: [16 used of 16]"), "{text}");
        assert!(text.contains("DataOffset 2, DataLength 26"), "{text}");
        assert!(text.contains("8 bytes: 2 unused, 6 data: 00 1c 01 02 03 04"), "{text}");
        assert!(text.contains("20 bytes: 20 data: 05 05"), "{text}");
        let text = ndis_sim::draw(clone);
        assert!(text.contains("(NdisAllocateCloneNetBufferList) parent nbl#"), "{text}");
        NdisFreeCloneNetBufferList(clone, 0);
        NdisFreeNetBufferList(parent);
        NdisFreeNetBufferListPool(pool);
    }
    drop((a, b));
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
