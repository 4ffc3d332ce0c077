//! A driver's classify and completions run on many processors at once:
//! several threads classify lent NBLs through ndis-safe (reference, clone
//! from a shared pool, modify, inject; an NDIS clone on the side), while
//! other threads complete the injections, with the verifier on. Nothing is
//! reported, nothing leaks, every packet comes back once.
//!
//! Under ThreadSanitizer (nightly, Linux x86_64):
//! `RUSTFLAGS=-Zsanitizer=thread cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu -p ndis-sim --test stress`
#![allow(missing_docs, reason = "test")]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ndis_safe::clone::{Fwps, Ndis};
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport};
use ndis_safe::{BorrowedNbl, ContextArea, NblPool, NblPoolOptions, NdisHandle, NoContext, Tag};
use ndis_sim::irql::{self, DISPATCH_LEVEL};

#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[context_area(injectable)]
#[repr(C)]
struct Flow {
    seq: u64,
    thread: u64,
}

const IP_HEADER: u32 = 20;
const CLASSIFIERS: u64 = 3;
const COMPLETERS: usize = 2;

fn packets_per_thread() -> u64 {
    if cfg!(miri) { 8 } else { 2_000 }
}

/// The clones' pool, shared by every thread for the binary's life.
fn pool() -> &'static NblPool<Flow> {
    static POOL: OnceLock<NblPool<Flow>> = OnceLock::new();
    POOL.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Strs"))).unwrap())
    })
}

fn packet(seq: u64) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0]);
    p.extend_from_slice(&seq.to_le_bytes());
    p
}

static COMPLETED: AtomicUsize = AtomicUsize::new(0);
/// Classify threads finished (or failed): completers then drain and stop.
static CLASSIFIERS_DONE: AtomicUsize = AtomicUsize::new(0);
static SEQ_SUM: AtomicU64 = AtomicU64::new(0);

fn done(mut c: Completed<ClonedPacket<Fwps, Flow>>) {
    assert!(c.status().is_ok());
    assert!(c.at_dispatch());
    assert_eq!(irql::current(), DISPATCH_LEVEL);
    SEQ_SUM.fetch_add(c.packet().context().seq, Ordering::Relaxed);
    COMPLETED.fetch_add(1, Ordering::Release);
    // Dropped here: the clone's retreat undone, the clone freed, the
    // reference on the lent NBL released (the stack may regain it now).
}

/// One classify call: what an inspect callout does with a packet.
fn classify(handle: &InjectionHandle, thread: u64, seq: u64) {
    let indicated = ndis_sim::StackNbl::indicate(&packet(seq), IP_HEADER);
    irql::at(DISPATCH_LEVEL, || {
        // SAFETY: the simulated stack lends the NBL for this call.
        let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        // An NDIS clone that lives only inside the call.
        lent.with_clone::<Ndis, NoContext, _>(0, None, NoContext, |side| {
            assert_eq!(side.first().map(|nb| nb.data_length()), Some(36 - IP_HEADER));
        })
        .unwrap();
        let mut packet = lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool()), Flow { seq, thread }).unwrap();
        packet.modify(|mut c| c.retreat(8).map(drop)).unwrap();
        if handle.inject(packet, Transport::receive(AF_INET), done).is_err() {
            panic!("the simulator accepts every injection in this test");
        }
    });
    indicated.complete(); // classify returns; the reference keeps the NBL
}

#[test]
fn classify_clone_inject_and_complete_on_many_threads() {
    let _ = pool();
    let session = ndis_sim::Session::collecting();
    let total = (CLASSIFIERS * packets_per_thread()) as usize;
    COMPLETED.store(0, Ordering::Relaxed);
    CLASSIFIERS_DONE.store(0, Ordering::Relaxed);
    SEQ_SUM.store(0, Ordering::Relaxed);
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        std::thread::scope(|s| {
            for t in 0..CLASSIFIERS {
                let handle = &handle;
                s.spawn(move || {
                    // Counted even if a classify panics, so completers stop.
                    struct Done;
                    impl Drop for Done {
                        fn drop(&mut self) {
                            CLASSIFIERS_DONE.fetch_add(1, Ordering::Release);
                        }
                    }
                    let _done = Done;
                    for i in 0..packets_per_thread() {
                        classify(handle, t, t * 1_000_000 + i);
                    }
                });
            }
            for _ in 0..COMPLETERS {
                s.spawn(move || {
                    loop {
                        let finished = CLASSIFIERS_DONE.load(Ordering::Acquire) == CLASSIFIERS as usize;
                        if !ndis_sim::complete_next(0) {
                            if finished {
                                break; // nothing more will be injected
                            }
                            std::thread::yield_now();
                        }
                    }
                });
            }
        });
        assert_eq!(ndis_sim::pending_injections(), 0);
    }
    assert_eq!(COMPLETED.load(Ordering::Relaxed), total);
    let expected: u64 = (0..CLASSIFIERS).flat_map(|t| (0..packets_per_thread()).map(move |i| t * 1_000_000 + i)).sum();
    assert_eq!(SEQ_SUM.load(Ordering::Relaxed), expected);
    let reports = session.reports();
    assert!(reports.is_empty(), "{reports:#?}");
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
