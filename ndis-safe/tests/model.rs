//! A model-based randomized test: thousands of operations through the safe
//! API — allocate, clone, modify, undo, free, push and pop contexts,
//! retreat and advance — each checked against a model of what the NBLs
//! should look like, ending with no verifier report and no leak.
//!
//! Between those rounds, leak rounds do the same kind of work but leak at
//! random — `mem::forget` of every guard and owned type (retreats, chains,
//! clones, NBLs, NBs, MDLs, pools, references, packets, completions,
//! injection handles), `Box::leak`, and panics unwinding through the
//! library's scopes — and must end with no verifier report and only leaks,
//! all of them objects of the leak rounds' own pools (tag `Lost`) or
//! objects with no pool (MDLs, the stack's NBLs, injection handles).
//!
//! `NDIS_RS_MODEL_ROUNDS` and `NDIS_RS_MODEL_SEED` change the run (the
//! fuzz command runs it long); by default a fixed seed, so a failure
//! reproduces.
#![allow(missing_docs, reason = "test")]

use core::mem::forget;
use core::num::NonZeroU32;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ndis_safe::clone::{Fwps, Ndis};
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport};
use ndis_safe::{
    BorrowedNbl, ContextArea, Mdl, MdlChain, NbPool, NblClone, NblPool, NblPoolOptions, NdisHandle, NoContext,
    PushedContext, Tag,
};
use ndis_sim::rng::Rng;

#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Ctx {
    id: u64,
    ops: u64,
}

#[derive(PushedContext, Debug, PartialEq)]
#[repr(C)]
struct Mark(u64);

/// The context of injected clones.
#[derive(ContextArea, Debug, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
struct Packet {
    seq: u64,
    changes: u64,
}

static COMPLETED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

fn completed(c: Completed<ClonedPacket<Fwps, Packet>>) {
    COMPLETED.fetch_add(1, Ordering::Relaxed);
    if c.status().is_err() {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The injected clones' pool: static, as a driver's, made before any session.
fn packet_pool() -> &'static NblPool<Packet> {
    static POOL: OnceLock<NblPool<Packet>> = OnceLock::new();
    POOL.get_or_init(|| ndis_sim::untracked(|| NblPool::new(&owner(), NblPoolOptions::new(Tag(*b"Pkts"))).unwrap()))
}

/// A WFP round: packets lent by the stack, some marked as our own, cloned
/// with a reference, changed, injected under a random injection mode,
/// completed with random statuses in random batches.
fn wfp_round(rng: &mut Rng, stats: &mut Stats) {
    let pool = packet_pool();
    let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
    let (mut attempts, mut refused, mut own) = (0u64, 0u64, 0u64);
    let before = COMPLETED.load(Ordering::Relaxed);
    for seq in 0..(1 + rng.below(12)) {
        let len = 28 + rng.below(40) as usize;
        let offset = rng.below(len as u64 - 8) as u32;
        let bytes: Vec<u8> = (0..len).map(|i| i as u8 ^ seq as u8).collect();
        let mut indicated = ndis_sim::StackNbl::indicate(&bytes, offset);
        if rng.below(6) == 0 {
            indicated = indicated.injected_by(handle.as_raw(), core::ptr::null_mut());
        }
        ndis_sim::set_injection_mode(match rng.below(8) {
            0 => ndis_sim::InjectionMode::FailSynchronously(ndis_sys::STATUS_INSUFFICIENT_RESOURCES),
            1 => ndis_sim::InjectionMode::Immediate(0),
            _ => ndis_sim::InjectionMode::Deferred,
        });
        {
            // SAFETY: the simulated stack lends it for this block.
            let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
            if handle.state(&lent).is_self_injected() {
                own += 1;
            } else {
                let delta = rng.below(u64::from(offset) + 1) as u32;
                let mut packet =
                    lent.reference_and_clone::<Fwps, Packet>(delta, Some(pool), Packet { seq, changes: 0 }).unwrap();
                assert_eq!(lent.first().map(|nb| nb.data_offset()), Some(offset), "lent NBL as it came");
                let expected = (len as u32 - offset) + delta;
                assert_eq!(packet.first().map(|nb| nb.data_length()), Some(expected));
                for _ in 0..rng.below(3) {
                    let d = rng.below(24) as u32;
                    let changed = if rng.below(2) == 0 {
                        packet.modify(|mut c| c.retreat(d).map(drop)).is_ok()
                    } else {
                        packet.modify(|mut c| c.advance(d).map(drop)).is_ok()
                    };
                    packet.context_mut().changes += u64::from(changed);
                    stats.operations += 1;
                }
                attempts += 1;
                let to = if rng.below(2) == 0 { Transport::receive(AF_INET) } else { Transport::send(AF_INET, None) };
                if handle.inject(packet, to, completed).is_err() {
                    refused += 1;
                }
            }
        }
        indicated.complete();
        stats.operations += 4;
        if rng.below(3) == 0 {
            let status = if rng.below(4) == 0 { ndis_sys::STATUS_UNSUCCESSFUL } else { 0 };
            ndis_sim::complete_next(status);
        }
    }
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Deferred);
    ndis_sim::complete_all(0);
    assert_eq!(
        COMPLETED.load(Ordering::Relaxed) - before,
        attempts - refused,
        "every accepted injection completed once"
    );
    let _ = own;
    drop(handle);
}

/// The model of a clone: its data length and how many changes it records.
struct ClonedModel {
    length: u32,
    changes: Vec<i64>, // +d retreat/prepend, -d advance
}

enum AnyClone<'p> {
    Ndis(NblClone<'p, Ndis, Ctx>),
    Fwps(NblClone<'p, Fwps>),
}

impl AnyClone<'_> {
    fn data_length(&self) -> u32 {
        match self {
            AnyClone::Ndis(c) => c.first().map_or(0, |nb| nb.data_length()),
            AnyClone::Fwps(c) => c.first().map_or(0, |nb| nb.data_length()),
        }
    }
}

/// The stats a run reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub operations: u64,
    pub reports: usize,
    /// Leaks of the ordinary rounds (must be 0).
    pub leaks: usize,
    /// Objects the leak rounds forgot or leaked on purpose.
    pub forgotten: u64,
    /// Objects the simulator listed as leaked after them.
    pub leaked: usize,
}

fn owner() -> NdisHandle {
    // SAFETY: the simulator accepts any handle.
    unsafe { NdisHandle::from_raw(core::ptr::null_mut()) }
}

/// One round: a batch of parents, clones changed at random, everything
/// freed in a random order.
fn round(rng: &mut Rng, stats: &mut Stats, header: &mut [u8; 8]) {
    let tag = Tag(*b"Modl");
    let data_pool: NblPool<Ctx, _> =
        NblPool::new(&owner(), NblPoolOptions::new(tag).with_data(NonZeroU32::new(96).unwrap())).unwrap();
    let clone_pool: NblPool<Ctx> = NblPool::new(&owner(), NblPoolOptions::new(tag)).unwrap();
    let mut hdr = Mdl::new(&owner(), header).unwrap();

    // Parents: data, with offsets chosen at random; pushes, retreats and
    // advances on them while no clone exists.
    let n = 1 + rng.below(4) as usize;
    let mut parents = Vec::new();
    let mut model_len = Vec::new();
    for i in 0..n {
        let offset = rng.below(32) as u32;
        let len = 8 + rng.below(u64::from(96 - offset - 8)) as u32;
        let mut nbl = data_pool.allocate_range(offset, len, Ctx { id: i as u64, ops: 0 }).unwrap();
        stats.operations += 1;
        let pattern: Vec<u8> = (0..len).map(|b| (b as u8) ^ (i as u8)).collect();
        nbl.write(0, &pattern).unwrap();
        for _ in 0..rng.below(4) {
            match rng.below(3) {
                0 => {
                    let nested = rng.below(2) == 0;
                    let first = rng.next_u64();
                    let inner = nbl
                        .with_context(tag, Mark(first), |m| {
                            m.0 = m.0.wrapping_add(1);
                            let inner = if nested { m.with_context(tag, Mark(7), |i| i.0).unwrap() } else { 0 };
                            assert_eq!(m.0, first.wrapping_add(1), "the outer context is back on top");
                            inner
                        })
                        .unwrap();
                    if nested {
                        assert_eq!(inner, 7);
                        stats.operations += 1;
                    }
                }
                1 => {
                    let d = rng.below(48) as u32;
                    let r = nbl.retreat(d).unwrap();
                    assert_eq!(r.first().map(|nb| nb.data_length()), Some(len + d));
                }
                _ => {
                    let d = rng.below(u64::from(len) + 8) as u32;
                    let ok = nbl.advance(d).is_ok();
                    assert_eq!(ok, d <= len);
                    if ok {
                        // Back to where the model has it: a retreat into the bytes just skipped.
                        let back = nbl.retreat(d).unwrap();
                        forget(back); // kept: an owned NBL may stay retreated
                    }
                }
            }
            stats.operations += 1;
            nbl.context_mut().ops += 1;
        }
        let mut storage = vec![0; len as usize];
        assert_eq!(nbl.first().unwrap().peek(&mut storage), Some(&pattern[..]));
        model_len.push(len);
        parents.push(nbl);
    }

    // Clones of the parents, changed and freed at random.
    {
        let mut clones: Vec<(AnyClone<'_>, ClonedModel)> = Vec::new();
        for _ in 0..(8 + rng.below(24)) {
            stats.operations += 1;
            match rng.below(6) {
                0 | 1 => {
                    let p = rng.below(n as u64) as usize;
                    let clone = if rng.below(2) == 0 {
                        AnyClone::Ndis(
                            parents[p].clone_nbl_in::<Ndis, Ctx>(&clone_pool, Ctx { id: 99, ops: 0 }).unwrap(),
                        )
                    } else {
                        AnyClone::Fwps(parents[p].clone_nbl::<Fwps>().unwrap())
                    };
                    clones.push((clone, ClonedModel { length: model_len[p], changes: Vec::new() }));
                }
                2 if !clones.is_empty() => {
                    let i = rng.below(clones.len() as u64) as usize;
                    let (_clone, _model) = clones.swap_remove(i); // Drop undoes, then frees
                }
                _ if !clones.is_empty() => {
                    let i = rng.below(clones.len() as u64) as usize;
                    let (clone, model) = &mut clones[i];
                    let choice = rng.below(4);
                    let delta = rng.below(40) as u32;
                    let apply = |changes: &mut ndis_safe::clone::Changes<'_, '_, '_>| -> Option<i64> {
                        match choice {
                            0 => changes.retreat(delta).ok().map(|_| i64::from(delta)),
                            1 => {
                                let r = changes.advance(delta);
                                r.ok().map(|_| -i64::from(delta))
                            }
                            _ => None,
                        }
                    };
                    let did = match clone {
                        AnyClone::Ndis(c) => c.modify(|mut ch| {
                            let d = apply(&mut ch);
                            if choice == 2 {
                                // retreat then undo at once: no net change
                                if let Ok(u) = ch.retreat(delta) {
                                    ch.undo(u).unwrap();
                                }
                            }
                            d
                        }),
                        AnyClone::Fwps(c) => c.modify(|mut ch| apply(&mut ch)),
                    };
                    match did {
                        Some(d) => {
                            model.length = (i64::from(model.length) + d) as u32;
                            model.changes.push(d);
                        }
                        None if choice == 3 => {
                            match clone {
                                AnyClone::Ndis(c) => c.undo_all(),
                                AnyClone::Fwps(c) => c.undo_all(),
                            }
                            let total: i64 = model.changes.drain(..).sum();
                            model.length = (i64::from(model.length) - total) as u32;
                        }
                        None => {}
                    }
                    assert_eq!(clone.data_length(), model.length, "model and clone agree");
                }
                _ => {}
            }
        }
        // One clone a round gets a header MDL in front: retreat to the
        // chain's start, then prepend.
        let p = rng.below(n as u64) as usize;
        let mut framed = parents[p].clone_nbl::<Fwps>().unwrap();
        let offset = framed.first().map_or(0, |nb| nb.data_offset());
        framed.modify(|mut ch| {
            let _to_start = ch.retreat(offset).unwrap();
            let _header = ch.prepend(&mut hdr).unwrap();
        });
        assert_eq!(framed.first().map(|nb| nb.data_length()), Some(model_len[p] + offset + 8));
        let mut first = [0u8; 9];
        assert_eq!(framed.first().unwrap().peek(&mut first).map(|b| b[..8].to_vec()), Some(vec![0xEE; 8]));
        stats.operations += 3;
        clones.push((AnyClone::Fwps(framed), ClonedModel { length: model_len[p] + offset + 8, changes: Vec::new() }));
        // Whatever is left is dropped in a random order.
        while !clones.is_empty() {
            let i = rng.below(clones.len() as u64) as usize;
            drop(clones.swap_remove(i));
            stats.operations += 1;
        }
    }
    // The parents are as they were.
    for (p, nbl) in parents.iter().enumerate() {
        assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(model_len[p]));
    }
    while !parents.is_empty() {
        let i = rng.below(parents.len() as u64) as usize;
        drop(parents.swap_remove(i));
        stats.operations += 1;
    }
    drop(hdr);
}

const LOST: Tag = Tag(*b"Lost");

/// The leak rounds' own injection pool (static, as a driver's).
fn lost_packet_pool() -> &'static NblPool<Packet> {
    static POOL: OnceLock<NblPool<Packet>> = OnceLock::new();
    POOL.get_or_init(|| ndis_sim::untracked(|| NblPool::new(&owner(), NblPoolOptions::new(LOST)).unwrap()))
}

fn forget_completed(c: Completed<ClonedPacket<Fwps, Packet>>) {
    forget(c);
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

/// Runs `f`, which panics; the panic is caught (and not printed).
fn unwinds(f: impl FnOnce()) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    assert!(r.is_err(), "the closure panics");
}

/// A leak round: a random sequence of operations, each of which leaks
/// something (or unwinds through a library scope), then whatever is left
/// dropped. Returns how many objects it leaked on purpose.
fn leak_round(rng: &mut Rng, stats: &mut Stats) -> u64 {
    let mut forgotten = 0u64;
    let data: NblPool<Ctx, _> =
        NblPool::new(&owner(), NblPoolOptions::new(LOST).with_data(NonZeroU32::new(64).unwrap())).unwrap();
    let chained: NblPool<Ctx, _> = NblPool::new(&owner(), NblPoolOptions::new(LOST).with_net_buffer()).unwrap();
    let clones: NblPool<Ctx> = NblPool::new(&owner(), NblPoolOptions::new(LOST)).unwrap();
    let nbs = NbPool::with_data(&owner(), LOST, NonZeroU32::new(32).unwrap()).unwrap();
    let (mut a, mut b, mut h) = ([1u8; 16], [2u8; 16], [3u8; 8]);
    let mut ma = Mdl::new(&owner(), &mut a).unwrap();
    let mut mb = Mdl::new(&owner(), &mut b).unwrap();
    let mut mh = Mdl::new(&owner(), &mut h).unwrap();
    let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Deferred);
    let ctx = Ctx { id: 0, ops: 0 };
    for _ in 0..(1 + rng.below(8)) {
        stats.operations += 1;
        match rng.below(16) {
            0 => {
                forget(data.allocate(ctx).unwrap());
                forgotten += 1;
            }
            1 => {
                let mut nbl = data.allocate_range(16, 48, ctx).unwrap();
                let delta = rng.below(40) as u32; // past 16: NDIS chains an MDL
                forget(nbl.retreat(delta).unwrap());
                assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(48 + delta));
            }
            2 => {
                let parent = data.allocate(ctx).unwrap();
                let clone = parent.clone_nbl_in::<Ndis, Ctx>(&clones, ctx).unwrap();
                forget(clone); // the parent and both pools leak with it
                forgotten += 1;
            }
            3 => {
                let parent = data.allocate(ctx).unwrap();
                let mut clone = parent.clone_nbl::<Fwps>().unwrap();
                clone.modify(|mut c| c.prepend(&mut mh).map(drop)).unwrap();
                forget(clone);
                forgotten += 1;
            }
            4 => {
                forget(MdlChain::new(&mut ma).then(&mut mb)); // links left in place
                let mut chain =
                    if rng.below(2) == 0 { MdlChain::new(&mut mb).then(&mut ma) } else { MdlChain::new(&mut ma) };
                let total = chain.byte_count();
                assert!(total == 16 || total == 32, "no stale link followed");
                let nbl = chained.allocate_over(&mut chain, 0, total as u32, ctx).unwrap();
                if rng.below(2) == 0 {
                    forget(nbl);
                    forgotten += 1;
                }
            }
            5 => {
                forget(nbs.allocate().unwrap());
                forgotten += 1;
            }
            6 => {
                forget(chained.fwps_allocate_empty(ctx).unwrap());
                forgotten += 1;
            }
            7 => {
                let mut buffer = [0u8; 4];
                forget(Mdl::new(&owner(), &mut buffer).unwrap());
                forgotten += 1;
            }
            8 => {
                let mut nbl = data.allocate(Ctx { id: 5, ops: 0 }).unwrap();
                unwinds(|| {
                    let _ = nbl.with_context(LOST, Mark(1), |m| {
                        let _ = m.with_context(LOST, Mark(2), |_| panic!("unwinds through two pushes"));
                    });
                });
                assert_eq!(nbl.context().id, 5, "the typed area is back on top");
            }
            9 | 10 => {
                let indicated = ndis_sim::StackNbl::indicate(&[0x45; 40], 20);
                {
                    // SAFETY: the simulated stack lends it for this block.
                    let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
                    match rng.below(6) {
                        0 => {
                            forget(lent.reference());
                            forgotten += 1;
                        }
                        1 => {
                            let packet = lent
                                .reference_and_clone::<Fwps, Packet>(
                                    20,
                                    Some(lost_packet_pool()),
                                    Packet { seq: 1, changes: 0 },
                                )
                                .unwrap();
                            forget(packet);
                            forgotten += 1;
                        }
                        2 => {
                            let mut packet = lent
                                .reference_and_clone::<Fwps, Packet>(
                                    20,
                                    Some(lost_packet_pool()),
                                    Packet { seq: 2, changes: 1 },
                                )
                                .unwrap();
                            packet.modify(|mut c| c.retreat(8).map(drop)).unwrap();
                            let done = forget_completed;
                            if handle.inject(packet, Transport::receive(AF_INET), done).is_ok() {
                                forgotten += 1;
                            }
                        }
                        3 => unwinds(|| {
                            let _ = lent.with_retreat(20, |_| panic!("unwinds through the retreat"));
                        }),
                        4 => unwinds(|| {
                            let _ = lent.with_clone::<Ndis, Ctx, _>(10, Some(&clones), ctx, |c| {
                                let _ = c.modify(|mut ch| ch.retreat(64).map(drop));
                                panic!("unwinds through the clone's scope")
                            });
                        }),
                        _ => {
                            let length = lent
                                .with_clone::<Fwps, NoContext, _>(20, None, NoContext, |c| {
                                    let _ = c.modify(|mut ch| ch.advance(4).map(drop));
                                    c.first().map(|nb| nb.data_length())
                                })
                                .unwrap();
                            assert_eq!(length, Some(36));
                        }
                    }
                    assert_eq!(lent.first().map(|nb| nb.data_offset()), Some(20), "back as it came");
                }
                indicated.complete();
            }
            11 => {
                let parent = Box::leak(Box::new(data.allocate(ctx).unwrap()));
                reachable(&raw const *parent);
                let _clone = parent.clone_nbl::<Ndis>().unwrap(); // freed; the parent is leaked
                forgotten += 1;
            }
            _ => {
                // Nothing leaked: an ordinary clone, changed and freed.
                let parent = data.allocate(ctx).unwrap();
                let mut clone = parent.clone_nbl_in::<Fwps, Ctx>(&clones, ctx).unwrap();
                let _ = clone.modify(|mut c| c.retreat(rng.below(80) as u32).map(drop));
            }
        }
    }
    if rng.below(4) == 0 {
        reachable(handle.as_raw());
        forget(handle); // pending injections still complete below
        forgotten += 1;
    } else {
        ndis_sim::complete_all(0);
        drop(handle);
    }
    ndis_sim::complete_all(0);
    match rng.below(6) {
        0 => {
            forget(clones);
            forgotten += 1;
        }
        1 => {
            forget(nbs);
            forgotten += 1;
        }
        2 => {
            forget(chained);
            forgotten += 1;
        }
        _ => {}
    } // what is not forgotten is dropped when the round ends: freed, or leaked if it has allocations out
    drop(data);
    drop((ma, mb, mh));
    forgotten
}

/// Runs `rounds` rounds, or until `seconds` have passed when given: first
/// the ordinary rounds (three quarters), then the leak rounds — so that
/// what the leak rounds leave in the simulator does not slow the ordinary
/// rounds' leak checks. Each round is a session of its own.
pub fn run(seed: u64, rounds: u64, seconds: Option<u64>) -> Stats {
    let _ = packet_pool(); // made before the sessions: it lives for the run
    let _ = lost_packet_pool();
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let mut header = [0xEEu8; 8];
    let start = std::time::Instant::now();
    let ordinary = |n: u64| match seconds {
        Some(s) => start.elapsed().as_millis() < u128::from(s) * 750,
        None => n < rounds - rounds / 4,
    };
    let mut n = 0u64;
    while ordinary(n) {
        let session = ndis_sim::Session::collecting();
        round(&mut rng, &mut stats, &mut header);
        wfp_round(&mut rng, &mut stats);
        let reports = session.reports();
        stats.reports += reports.len();
        stats.leaks += session.leaks().len();
        assert!(reports.is_empty(), "{reports:#?}");
        assert!(session.leaks().is_empty(), "{}", session.leaks());
        n += 1;
    }
    loop {
        match seconds {
            Some(s) if start.elapsed().as_secs() >= s => break,
            None if n >= rounds => break,
            _ => {}
        }
        let session = ndis_sim::Session::collecting();
        let forgotten = leak_round(&mut rng, &mut stats);
        let reports = session.reports();
        stats.reports += reports.len();
        assert!(reports.is_empty(), "only leaks may follow a leak: {reports:#?}");
        let leaks = session.leaks();
        stats.leaked += leaks.len();
        stats.forgotten += forgotten;
        for l in &leaks.leaks {
            // A forgotten packet keeps its reference on the NBL the stack
            // lent: the stack never regains that NBL, which the simulator
            // lists as a leak of the stack's (not as a report).
            let lent = l.pool.as_deref().is_some_and(|p| p.contains("lent by the stack"));
            assert!(l.tag == "Lost" || l.pool.is_none() || lent, "a leak outside the leak round's pools: {leaks}");
        }
        assert_eq!(forgotten == 0, leaks.is_empty(), "what was forgotten leaks, and only that: {leaks}");
        n += 1;
    }
    stats
}

#[test]
fn thousands_of_random_operations_leave_no_report_and_no_leak() {
    let rounds = std::env::var("NDIS_RS_MODEL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(if cfg!(miri) {
        8
    } else {
        400
    });
    let seed = std::env::var("NDIS_RS_MODEL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_1234);
    let seconds = std::env::var("NDIS_RS_MODEL_SECONDS").ok().and_then(|v| v.parse().ok());
    let stats = run(seed, rounds, seconds);
    if !cfg!(miri) {
        assert!(stats.operations >= 5_000, "{stats:?}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "model: {} operations, {} verifier reports, {} leaks; {} objects forgotten on purpose, {} objects leaked \
         after them and nothing else (seed {seed}, {})",
        stats.operations,
        stats.reports,
        stats.leaks,
        stats.forgotten,
        stats.leaked,
        seconds.map_or(format!("{rounds} rounds"), |s| format!("{s} s"))
    );
}
