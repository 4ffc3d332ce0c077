//! Every ndis-safe API on the host simulator, each test ending with no
//! verifier report and no leak.
#![allow(missing_docs, reason = "tests")]

use core::num::NonZeroU32;

use ndis_safe::clone::{Fwps, Ndis};
use ndis_safe::{
    ContextArea, Error, Mdl, MdlChain, NbPool, NblPool, NblPoolOptions, NdisHandle, NoContext, PushedContext, Tag,
};

#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Flow {
    id: u64,
    bytes: u64,
}

#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[context_area(backfill = 32)]
#[repr(C, align(16))]
struct WithRoom {
    seq: [u32; 4],
}

#[derive(PushedContext, Debug, PartialEq)]
#[repr(C)]
struct Mark(u64);

#[derive(PushedContext, Debug, PartialEq)]
#[repr(C)]
struct Pair(u32, u32, u64);

const TAG: Tag = Tag(*b"Test");

fn owner() -> NdisHandle {
    // SAFETY: the simulator takes any handle.
    unsafe { NdisHandle::from_raw(core::ptr::null_mut()) }
}

/// Runs `f` in a collecting session; asserts no report and no leak.
fn clean(f: impl FnOnce()) {
    let s = ndis_sim::Session::collecting();
    f();
    assert!(s.reports().is_empty(), "{:#?}", s.reports());
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn nbl_from_a_plain_pool_has_a_typed_context_and_no_nb() {
    clean(|| {
        let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
        let mut nbl = pool.allocate(Flow { id: 1, bytes: 2 }).unwrap();
        assert_eq!(*nbl.context(), Flow { id: 1, bytes: 2 });
        nbl.context_mut().bytes = 40;
        assert_eq!(nbl.context().bytes, 40);
        assert!(nbl.first().is_none());
        assert!(!nbl.is_clone());
    });
}

#[test]
fn pool_with_data_gives_writable_data() {
    clean(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(TAG).with_data(NonZeroU32::new(64).unwrap())).unwrap();
        let mut nbl = pool.allocate(NoContext).unwrap();
        assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(64));
        nbl.write(10, b"hello").unwrap();
        let mut storage = [0; 15];
        assert_eq!(&nbl.first().unwrap().peek(&mut storage).unwrap()[10..], b"hello");
        assert_eq!(nbl.write(60, b"hello"), Err(Error::OutOfRange));
        let ranged = pool.allocate_range(14, 50, NoContext).unwrap();
        assert_eq!(ranged.first().map(|nb| (nb.data_offset(), nb.data_length())), Some((14, 50)));
        assert!(matches!(pool.allocate_range(14, 51, NoContext), Err(Error::OutOfRange)));
    });
}

#[test]
fn nbl_over_a_chain_of_two_mdls_reads_across_them() {
    clean(|| {
        let pool: NblPool<WithRoom, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
        let (mut a, mut b) = (*b"0123456789", *b"abcdefghij");
        let mut ma = Mdl::new(&owner(), &mut a).unwrap();
        let mut mb = Mdl::new(&owner(), &mut b).unwrap();
        let mut chain = MdlChain::new(&mut ma).then(&mut mb);
        assert_eq!(chain.byte_count(), 20);
        assert!(matches!(pool.allocate_over(&mut chain, 15, 6, WithRoom { seq: [0; 4] }), Err(Error::OutOfRange)));
        let nbl = pool.allocate_over(&mut chain, 6, 8, WithRoom { seq: [1, 2, 3, 4] }).unwrap();
        let nb = nbl.first().unwrap();
        assert_eq!(nb.mdls().map(|m| m.byte_count()).collect::<Vec<_>>(), [10, 10]);
        assert_eq!(nb.peek_contiguous(4), Some(&b"6789"[..]));
        assert_eq!(nb.peek_contiguous(5), None, "spans two MDLs");
        let mut storage = [0; 8];
        assert_eq!(nb.peek(&mut storage), Some(&b"6789abcd"[..]));
        assert_eq!(nbl.context().seq, [1, 2, 3, 4]);
        let empty = pool.allocate_empty(WithRoom { seq: [0; 4] }).unwrap();
        assert_eq!(empty.first().map(|nb| nb.data_length()), Some(0));
    });
}

#[test]
fn fwps_nbls_from_a_pool_with_net_buffers() {
    clean(|| {
        let pool: NblPool<Flow, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
        let mut bytes = [7u8; 32];
        let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        let nbl = pool.fwps_allocate_over(&mut chain, 4, 28, Flow { id: 9, bytes: 28 }).unwrap();
        assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(28));
        assert_eq!(nbl.context().id, 9);
        let empty = pool.fwps_allocate_empty(Flow { id: 0, bytes: 0 }).unwrap();
        assert_eq!(empty.first().map(|nb| nb.data_length()), Some(0));
    });
}

#[test]
fn net_buffers_from_nb_pools() {
    clean(|| {
        let plain = NbPool::new(&owner(), TAG).unwrap();
        let with_data = NbPool::with_data(&owner(), TAG, NonZeroU32::new(16).unwrap()).unwrap();
        let mut bytes = *b"abcdef";
        let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        let nb = plain.allocate_over(&mut chain, 1, 4).unwrap();
        assert_eq!(nb.peek_contiguous(4), Some(&b"bcde"[..]));
        let empty = plain.allocate_empty().unwrap();
        assert_eq!(empty.data_length(), 0);
        let mut own = with_data.allocate().unwrap();
        own.write(0, b"0123456789abcdef").unwrap();
        assert_eq!(own.peek_contiguous(16), Some(&b"0123456789abcdef"[..]));
    });
}

#[test]
fn retreat_guards_advance_back_and_advance_checks_length() {
    clean(|| {
        let pool: NblPool<NoContext, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
        let mut bytes = [0u8; 40];
        let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        let mut nbl = pool.allocate_over(&mut chain, 20, 20, NoContext).unwrap();
        {
            let r = nbl.retreat(30).unwrap(); // 10 more than the unused space: NDIS adds an MDL
            assert_eq!(r.first().map(|nb| (nb.data_offset(), nb.data_length())), Some((0, 50)));
            assert_eq!(r.first().map(|nb| nb.mdls().count()), Some(2));
        }
        assert_eq!(nbl.first().map(|nb| (nb.data_offset(), nb.data_length(), nb.mdls().count())), Some((20, 20, 1)));
        assert_eq!(nbl.advance(21), Err(Error::OutOfRange));
        nbl.advance(5).unwrap();
        assert_eq!(nbl.first().map(|nb| nb.data_offset()), Some(25));
    });
}

#[test]
fn pushed_contexts_nest_and_pop_in_order() {
    clean(|| {
        let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
        let mut nbl = pool.allocate(Flow { id: 3, bytes: 0 }).unwrap();
        {
            let mut mark = nbl.push_context(TAG, Mark(11)).unwrap();
            mark.0 += 1;
            {
                let pair = mark.push_context(TAG, Pair(1, 2, 3)).unwrap();
                assert_eq!(*pair, Pair(1, 2, 3));
            }
            assert_eq!(*mark, Mark(12));
        }
        assert_eq!(nbl.context().id, 3, "the typed area is back on top");
    });
}

#[test]
fn clones_borrow_the_parent_and_carry_their_pool_context() {
    clean(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(TAG).with_data(NonZeroU32::new(32).unwrap())).unwrap();
        let clones: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
        let mut parent = pool.allocate(NoContext).unwrap();
        parent.write(0, b"ABCD").unwrap();
        let a = parent.clone_nbl::<Ndis>().unwrap();
        let mut b = parent.clone_nbl_in::<Fwps, _>(&clones, Flow { id: 5, bytes: 32 }).unwrap();
        assert!(a.is_clone() && b.is_clone());
        assert_eq!(b.context().id, 5);
        b.context_mut().bytes = 1;
        let mut storage = [0; 4];
        assert_eq!(a.first().unwrap().peek(&mut storage), Some(&b"ABCD"[..]));
        drop((a, b));
    });
}

#[test]
fn clone_changes_are_undone_before_the_free() {
    clean(|| {
        let pool: NblPool<NoContext, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
        let (mut body, mut header) = ([1u8; 20], [9u8; 8]);
        let mut mdl = Mdl::new(&owner(), &mut body).unwrap();
        let mut hdr = Mdl::new(&owner(), &mut header).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        let parent = pool.allocate_over(&mut chain, 0, 20, NoContext).unwrap();
        let mut clone = parent.clone_nbl::<Fwps>().unwrap();
        clone.modify(|mut c| {
            let undo_advance = c.advance(4).unwrap();
            c.undo(undo_advance).unwrap();
            let _retreated = c.retreat(12).unwrap(); // a new MDL: kept, undone at the free
        });
        assert!(clone.is_modified());
        assert_eq!(clone.first().map(|nb| nb.data_length()), Some(32));
        clone.undo_all();
        clone.modify(|mut c| {
            let prepended = c.prepend(&mut hdr).unwrap();
            assert_eq!(c.clone_view().first().map(|nb| (nb.data_length(), nb.mdls().count())), Some((28, 2)));
            let more = c.retreat(2).unwrap();
            assert_eq!(c.undo(prepended), Err(Error::UndoOutOfOrder));
            c.undo(more).unwrap();
        });
        let mut storage = [0; 10];
        assert_eq!(clone.first().unwrap().peek(&mut storage), Some(&[9, 9, 9, 9, 9, 9, 9, 9, 1, 1][..]));
        drop(clone); // undoes the prepend, then frees
        let mut full = parent.clone_nbl::<Ndis>().unwrap();
        full.modify(|mut c| {
            for _ in 0..ndis_safe::clone::MAX_CHANGES {
                let _ = c.advance(1).unwrap();
            }
            assert!(matches!(c.advance(1), Err(Error::TooManyChanges)));
        });
    });
}

#[test]
fn a_lent_nbl_is_retreated_cloned_and_given_back_as_it_came() {
    clean(|| {
        let mut packet = [0u8; 48];
        packet[0] = 0x45;
        let lent = ndis_sim::StackNbl::indicate(&packet, 20);
        {
            // SAFETY: the simulated stack lends it for this block.
            let mut nbl = unsafe { ndis_safe::BorrowedNbl::from_raw(lent.as_ptr()) }.unwrap();
            assert!(matches!(nbl.retreat(21), Err(Error::OutOfRange)), "no new MDLs on a lent NBL");
            let clone = nbl.retreat_and_clone::<Fwps, NoContext>(20, None, NoContext).unwrap();
            assert_eq!(nbl.first().map(|nb| nb.data_offset()), Some(20), "back as it came");
            let mut storage = [0; 1];
            assert_eq!(clone.first().unwrap().peek(&mut storage), Some(&[0x45][..]));
            let plain = nbl.clone_nbl::<Ndis>().unwrap();
            assert_eq!(plain.first().map(|nb| nb.data_length()), Some(28));
            drop((clone, plain));
        }
        lent.complete();
    });
}

#[test]
fn allocation_failures_are_errors_not_panics() {
    let s = ndis_sim::Session::collecting();
    // An MDL over nothing is refused before the DDI.
    assert!(matches!(Mdl::new(&owner(), &mut []), Err(Error::InvalidArgument)));
    assert!(s.reports().is_empty());
}
