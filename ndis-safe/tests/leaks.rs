//! No safety property and no verifier-cleanliness rests on a destructor
//! running: each test leaks something through safe code — `mem::forget`,
//! `Box::leak`, an `Rc` cycle, or a panic that unwinds through a scope —
//! and then carries on as a driver would. Each ends with no verifier report
//! (and, under Miri, no undefined behaviour) and at most the leak it
//! asserts, which the simulator's leak report names.
#![allow(missing_docs, reason = "tests")]

use core::mem::forget;
use core::num::NonZeroU32;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use ndis_safe::clone::{Fwps, Ndis};
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport};
use ndis_safe::{
    BorrowedNbl, ContextArea, Mdl, MdlChain, NbPool, NblPool, NblPoolOptions, NdisHandle, NoContext, PushedContext, Tag,
};

#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[context_area(injectable)]
#[repr(C)]
struct Flow {
    id: u64,
    bytes: u64,
}

/// A pushed context smaller than `Flow`: read as `Flow`, it would be read
/// out of bounds.
#[derive(PushedContext, Debug, PartialEq)]
#[repr(C)]
struct Mark(u64);

fn owner() -> NdisHandle {
    // SAFETY: the simulator takes any handle.
    unsafe { NdisHandle::from_raw(core::ptr::null_mut()) }
}

/// Runs `f` in a collecting session; asserts no report and returns the
/// leak report.
fn leaking(f: impl FnOnce()) -> ndis_sim::LeakReport {
    let s = ndis_sim::Session::collecting();
    f();
    assert!(s.reports().is_empty(), "{:#?}", s.reports());
    s.leaks()
}

/// Whether `report` lists an object of `kind` (`nbl-pool`, `nbl`, …) tagged `tag`.
fn lists(report: &ndis_sim::LeakReport, kind: &str, tag: &[u8; 4]) -> bool {
    let tag = String::from_utf8_lossy(tag);
    report.leaks.iter().any(|l| l.object.starts_with(&format!("{kind}#")) && l.tag == tag)
}

/// Keeps `p` reachable from a static, so that Miri's own leak check — which
/// sees Rust memory that no static reaches, not NDIS objects — does not
/// count a leak made on purpose here, which the simulator's leak report
/// already lists and the test asserts. Changes nothing else: the object is
/// still never freed.
fn reachable<T: ?Sized>(p: *const T) {
    struct Kept(#[allow(dead_code, reason = "kept, never read")] *const ());
    // SAFETY: only stored, never dereferenced.
    unsafe impl Send for Kept {}
    static KEPT: std::sync::Mutex<Vec<Kept>> = std::sync::Mutex::new(Vec::new());
    KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Kept(p.cast()));
}

fn quiet_panic<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    r
}

// ---- pools: counted at creation ----

#[test]
fn a_forgotten_clone_made_in_a_callers_pool_leaks_the_pool_instead_of_freeing_it() {
    let leaks = leaking(|| {
        let data: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Data")).with_data(NonZeroU32::new(32).unwrap())).unwrap();
        let clones: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Clon"))).unwrap();
        let parent = data.allocate(NoContext).unwrap();
        let clone = parent.clone_nbl_in::<Ndis, Flow>(&clones, Flow { id: 1, bytes: 0 }).unwrap();
        forget(clone);
        drop(parent); // ChildRefCount 1: leaked, not freed
        drop(clones); // a clone outstanding: leaked, not freed
        drop(data); // the parent outstanding: leaked
    });
    assert!(lists(&leaks, "nbl-pool", b"Clon"), "{leaks}");
    assert!(lists(&leaks, "nbl-pool", b"Data"), "{leaks}");
}

#[test]
fn forgotten_nbls_and_nbs_leak_their_pools() {
    let leaks = leaking(|| {
        let nbls: NblPool<Flow, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Nbls")).with_net_buffer()).unwrap();
        let nbs = NbPool::with_data(&owner(), Tag(*b"NBuf"), NonZeroU32::new(16).unwrap()).unwrap();
        forget(nbls.allocate_empty(Flow { id: 1, bytes: 0 }).unwrap());
        forget(nbls.fwps_allocate_empty(Flow { id: 2, bytes: 0 }).unwrap());
        forget(nbs.allocate().unwrap());
        drop((nbls, nbs));
    });
    assert!(lists(&leaks, "nbl-pool", b"Nbls"), "{leaks}");
    assert!(lists(&leaks, "nb-pool", b"NBuf"), "{leaks}");
}

#[test]
fn a_clone_in_an_rc_cycle_leaks_its_parent_and_pools() {
    struct Node {
        _clone: ndis_safe::NblClone<'static, Fwps, Flow>,
        next: RefCell<Option<Rc<Node>>>,
    }
    let leaks = leaking(|| {
        let data: &'static NblPool<NoContext, _> = Box::leak(Box::new(
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Data")).with_data(NonZeroU32::new(32).unwrap())).unwrap(),
        ));
        let clones: &'static NblPool<Flow> =
            Box::leak(Box::new(NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Clon"))).unwrap()));
        let parent: &'static _ = Box::leak(Box::new(data.allocate(NoContext).unwrap()));
        reachable(data);
        reachable(clones);
        reachable(parent);
        let a = Rc::new(Node {
            _clone: parent.clone_nbl_in::<Fwps, Flow>(clones, Flow { id: 1, bytes: 0 }).unwrap(),
            next: RefCell::new(None),
        });
        let b = Rc::new(Node {
            _clone: parent.clone_nbl_in::<Fwps, Flow>(clones, Flow { id: 2, bytes: 0 }).unwrap(),
            next: RefCell::new(Some(a.clone())),
        });
        *a.next.borrow_mut() = Some(b.clone());
        reachable(Rc::as_ptr(&a));
        drop((a, b)); // a cycle: neither clone is ever dropped
    });
    assert!(lists(&leaks, "nbl-pool", b"Clon"), "{leaks}");
}

// ---- MDL chains: links set when built ----

#[test]
fn a_forgotten_chain_leaves_no_link_a_later_chain_follows() {
    let leaks = leaking(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Chan")).with_net_buffer()).unwrap();
        let (mut a, mut b, mut c) = (*b"aaaa", *b"bbbbbbbb", *b"cccccccccccc");
        let mut ma = Mdl::new(&owner(), &mut a).unwrap();
        let mut mc = Mdl::new(&owner(), &mut c).unwrap();
        {
            let mut mb = Mdl::new(&owner(), &mut b).unwrap();
            forget(MdlChain::new(&mut ma).then(&mut mb)); // ma -> mb left linked
        } // mb freed: ma's old link points at a freed MDL
        let mut chain = MdlChain::new(&mut ma); // clears it
        assert_eq!(chain.byte_count(), 4, "no walk into the freed MDL");
        let nbl = pool.allocate_over(&mut chain, 0, 4, NoContext).unwrap();
        assert_eq!(nbl.first().map(|nb| nb.mdls().count()), Some(1));
        drop(nbl);
        drop(chain);
        // A cycle: mc -> ma left linked, then a chain ma -> mc would close it.
        forget(MdlChain::new(&mut mc).then(&mut ma));
        let mut chain = MdlChain::new(&mut ma).then(&mut mc);
        assert_eq!(chain.byte_count(), 16, "no endless walk");
        let nbl = pool.allocate_over(&mut chain, 2, 14, NoContext).unwrap();
        let mut storage = [0; 4];
        assert_eq!(nbl.first().and_then(|nb| nb.peek(&mut storage)), Some(&b"aacc"[..]));
        drop(nbl);
        drop(chain);
    });
    assert!(leaks.is_empty(), "{leaks}");
}

#[test]
fn a_forgotten_nbl_over_a_chain_leaks_the_nbl_and_its_pool_only() {
    let leaks = leaking(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Over")).with_net_buffer()).unwrap();
        let mut bytes = [1u8; 24];
        let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        forget(pool.allocate_over(&mut chain, 0, 24, NoContext).unwrap());
        drop(chain);
        drop(mdl); // freed under the leaked NB, which nothing reads again
        drop(pool);
    });
    assert!(lists(&leaks, "nbl-pool", b"Over"), "{leaks}");
    assert!(!leaks.leaks.iter().any(|l| l.object.starts_with("mdl#")), "{leaks}");
}

#[test]
fn a_forgotten_clone_with_a_prepended_header_leaks_it_and_the_parent() {
    let leaks = leaking(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Prep")).with_data(NonZeroU32::new(32).unwrap())).unwrap();
        let mut header = [9u8; 8];
        let mut hdr = Mdl::new(&owner(), &mut header).unwrap();
        let parent = pool.allocate(NoContext).unwrap();
        let mut clone = parent.clone_nbl::<Fwps>().unwrap();
        clone.modify(|mut c| c.prepend(&mut hdr).map(drop)).unwrap();
        forget(clone);
        drop(hdr); // freed under the leaked clone, which nothing reads again
        // The header MDL, reused in a chain, is not linked into the leaked clone.
        let mut again = [7u8; 4];
        let mut m = Mdl::new(&owner(), &mut again).unwrap();
        assert_eq!(MdlChain::new(&mut m).byte_count(), 4);
        drop(parent);
        drop(pool);
    });
    assert!(lists(&leaks, "nbl-pool", b"Prep"), "{leaks}");
}

// ---- pushed contexts: popped by the scope ----

#[test]
fn a_pushed_context_is_popped_even_when_its_closure_panics_or_forgets() {
    let leaks = leaking(|| {
        let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Push"))).unwrap();
        let mut nbl = pool.allocate(Flow { id: 7, bytes: 70 }).unwrap();
        // The closure is given only a reference: there is no guard to leak.
        assert_eq!(nbl.with_context(Tag(*b"Mark"), Mark(1), |m| m.0).unwrap(), 1);
        assert_eq!(*nbl.context(), Flow { id: 7, bytes: 70 });
        let r = quiet_panic(|| {
            nbl.with_context(Tag(*b"Mark"), Mark(2), |m| {
                m.with_context(Tag(*b"Mark"), Mark(3), |_| panic!("unwinds through both scopes"))
            })
        });
        assert!(r.is_err());
        assert_eq!(*nbl.context(), Flow { id: 7, bytes: 70 }, "the typed area is back on top");
        nbl.context_mut().bytes += 1;
        drop(nbl); // no context left allocated
    });
    assert!(leaks.is_empty(), "{leaks}");
}

// ---- lent NBLs: restored by the scope ----

#[test]
fn a_lent_nbl_goes_back_as_it_came_whatever_the_closures_do() {
    let leaks = leaking(|| {
        let clones: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Lent"))).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&[0x45; 48], 20);
        {
            // SAFETY: the simulated stack lends it for this block.
            let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
            // The closures are given only references: there is no guard to leak.
            lent.with_retreat(20, |r| assert_eq!(r.first().map(|nb| nb.data_offset()), Some(0))).unwrap();
            let r = quiet_panic(|| lent.with_retreat(20, |_| panic!("unwinds through the retreat")));
            assert!(r.is_err());
            assert_eq!(lent.first().map(|nb| nb.data_offset()), Some(20));
            lent.with_clone::<Fwps, Flow, _>(20, Some(&clones), Flow { id: 1, bytes: 0 }, |c| {
                c.modify(|mut ch| ch.advance(4).map(drop)).unwrap(); // undone by the scope
            })
            .unwrap();
            let r = quiet_panic(|| {
                lent.with_clone::<Ndis, NoContext, _>(10, None, NoContext, |c| {
                    c.modify(|mut ch| ch.retreat(64).map(drop)).unwrap(); // NDIS chains an MDL
                    panic!("unwinds through the clone's scope")
                })
            });
            assert!(r.is_err());
            assert_eq!(lent.first().map(|nb| nb.data_offset()), Some(20));
        }
        indicated.complete(); // no live clone, offsets as they came
        drop(clones); // every clone freed: freed
    });
    assert!(leaks.is_empty(), "{leaks}");
}

// ---- owned NBLs: a forgotten retreat ----

#[test]
fn a_forgotten_retreat_of_an_owned_nbl_leaves_it_retreated_and_freeable() {
    let leaks = leaking(|| {
        let pool: NblPool<NoContext, _> =
            NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Retr")).with_data(NonZeroU32::new(32).unwrap())).unwrap();
        let mut nbl = pool.allocate_range(8, 24, NoContext).unwrap();
        forget(nbl.retreat(8).unwrap()); // into unused space
        assert_eq!(nbl.first().map(|nb| (nb.data_offset(), nb.data_length())), Some((0, 32)));
        forget(nbl.retreat(16).unwrap()); // past it: NDIS chains an MDL
        assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(48));
        let clone = nbl.clone_nbl::<Ndis>().unwrap();
        assert_eq!(clone.first().map(|nb| nb.data_length()), Some(48));
        drop(clone);
        drop(nbl);
        drop(pool);
    });
    println!("{leaks}");
    assert!(leaks.is_empty(), "{leaks}");
}

// ---- WFP: packets, completions and handles ----

fn clone_pool() -> &'static NblPool<Flow> {
    static POOL: std::sync::OnceLock<NblPool<Flow>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| ndis_sim::untracked(|| NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Wfpc"))).unwrap()))
}

fn forget_completed(c: Completed<ClonedPacket<Fwps, Flow>>) {
    forget(c);
}

fn drop_completed(c: Completed<ClonedPacket<Fwps, Flow>>) {
    drop(c);
}

#[test]
fn a_forgotten_packet_or_completion_keeps_the_lent_nbl_referenced() {
    let pool = clone_pool();
    let leaks = leaking(|| {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        for forget_in_completion in [false, true] {
            let indicated = ndis_sim::StackNbl::indicate(&[0x45; 40], 20);
            {
                // SAFETY: lent for this block.
                let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
                let mut packet =
                    lent.reference_and_clone::<Fwps, Flow>(20, Some(pool), Flow { id: 1, bytes: 0 }).unwrap();
                packet.modify(|mut c| c.advance(4).map(drop)).unwrap();
                if forget_in_completion {
                    let done = forget_completed;
                    handle.inject(packet, Transport::receive(AF_INET), done).map_err(|r| r.error).unwrap();
                } else {
                    forget(packet);
                }
            }
            indicated.complete(); // referenced: the stack waits for the reference
        }
        ndis_sim::complete_all(0);
        drop(handle);
    });
    assert!(lists(&leaks, "nbl", b"Wfpc"), "the forgotten clones: {leaks}");
}

#[test]
fn a_forgotten_injection_handle_still_completes_its_pending_injections() {
    let pool = clone_pool();
    let leaks = leaking(|| {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&[0x45; 40], 20);
        {
            // SAFETY: lent for this block.
            let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
            let packet = lent.reference_and_clone::<Fwps, Flow>(20, Some(pool), Flow { id: 2, bytes: 0 }).unwrap();
            handle.inject(packet, Transport::receive(AF_INET), drop_completed).map_err(|r| r.error).unwrap();
        }
        indicated.complete();
        reachable(handle.as_raw());
        forget(handle); // never destroyed: the handle leaks
        assert_eq!(ndis_sim::complete_all(0), 1, "the completion runs without the handle's destructor");
    });
    assert!(!lists(&leaks, "nbl", b"Wfpc"), "the packet was freed: {leaks}");
}
