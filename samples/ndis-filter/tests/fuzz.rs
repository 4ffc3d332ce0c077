//! The sample filter under random traffic on the simulated filter stack:
//! chains of random length, frames truncated (shorter than an Ethernet
//! header, or empty) or oversized (jumbo and beyond), sends completed by
//! the miniport and receives returned by the protocol in random order with
//! random statuses, lent and low-resources receives, pause and restart at
//! random moments (with traffic while the pause waits), OID queries and
//! sets through the filter answered at once or pending in the miniport,
//! and detach at the end of an episode of random length. Verifier on and collecting: no
//! panic, no report, no leak, every frame accounted for.
//!
//! By default a fixed seed and a few hundred episodes (an ordinary test);
//! `NDIS_RS_FILTER_FUZZ_SEED` and `NDIS_RS_FILTER_FUZZ_SECONDS` change the
//! run (`cargo xtask fuzz` runs it with a fresh seed for part of its time).
//!
//! Each frame is one NBL with one NB whose data the stack splits across
//! MDLs at random points (`Stack::send_split`, `Stack::receive_split`:
//! up to three cuts, often inside the EtherType), so the filter reads its
//! EtherType across an MDL boundary; a blocked frame that crossed the
//! filter would show on the wire. The classification alone is also fuzzed
//! apart: random frames split at random points across up to three MDLs,
//! at a random data offset, against the same frame in one piece.
#![allow(missing_docs, reason = "test")]

use core::sync::atomic::Ordering;

use ndis_filter::filter::{BLOCKED, COUNTED, DETACHED, EtherFilter, HEARTBEAT, REGISTRATION};
use ndis_safe::filter::FilterDriver;
use ndis_sim::Session;
use ndis_sim::lwf::Stack;
use ndis_sim::rng::Rng;
use ndis_sys::{
    NDIS_STATUS_BUFFER_TOO_SHORT, NDIS_STATUS_FAILURE, NDIS_STATUS_INVALID_LENGTH, NDIS_STATUS_RESOURCES,
    NDIS_STATUS_SUCCESS, OID_802_3_CURRENT_ADDRESS, OID_GEN_CURRENT_PACKET_FILTER, OID_GEN_MAXIMUM_FRAME_SIZE,
};

/// A random frame: usually an Ethernet frame of one of the EtherTypes the
/// filter cares about, sometimes truncated or oversized. Never a heartbeat
/// (so every heartbeat on the wire is the filter's own).
fn frame(rng: &mut Rng, n: u8) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => rng.index(14), // truncated: no whole header (maybe empty)
        1 => 9_000 + rng.index(if cfg!(miri) { 1_000 } else { 60_000 }), // oversized: jumbo and beyond
        _ => 14 + rng.index(1_500),
    };
    let mut f = vec![n; len];
    let ethertype = match rng.below(5) {
        0 => BLOCKED,
        1 => COUNTED,
        2 => 0x0800,
        _ => rng.below(0x1_0000) as u16,
    };
    let ethertype = if ethertype == HEARTBEAT { 0x0806 } else { ethertype };
    if let Some(t) = f.get_mut(12..14) {
        t.copy_from_slice(&ethertype.to_be_bytes());
    }
    f
}

/// Random cut points for a frame of `len` bytes: none to three, often
/// inside or around the EtherType (bytes 12 and 13).
fn cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    (0..rng.below(4)).map(|_| if rng.below(2) == 0 { 11 + rng.index(4) } else { rng.index(len + 1) }).collect()
}

fn ethertype(f: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(12)?, *f.get(13)?]))
}

#[derive(Debug, Default)]
struct Stats {
    chains: u64,
    frames: u64,
    pauses: u64,
    /// Frames split across more than one MDL (at least one cut asked).
    split: u64,
    /// OID requests issued through the filter.
    oids: u64,
}

/// One episode: register, attach, random traffic and state changes,
/// drain, pause, detach, deregister; then the accounting.
fn episode(rng: &mut Rng, stats: &mut Stats) {
    let before = [&DETACHED.heartbeats, &DETACHED.heartbeats_back].map(|c| c.load(Ordering::Relaxed));
    // SAFETY: the simulator takes any driver object.
    let driver = unsafe { FilterDriver::<EtherFilter>::register(core::ptr::null_mut(), &REGISTRATION) }.unwrap();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    let mut sends = 0usize;
    let mut indicated = Vec::new();
    let mut oids = Vec::new();
    let steps = rng.below(64);
    for _ in 0..steps {
        match rng.below(14) {
            0..=2 => {
                let frames: Vec<Vec<u8>> = (0..1 + rng.below(16)).map(|i| frame(rng, i as u8)).collect();
                let cut: Vec<Vec<usize>> = frames.iter().map(|f| cuts(rng, f.len())).collect();
                let split: Vec<(&[u8], &[usize])> =
                    frames.iter().zip(&cut).map(|(f, c)| (f.as_slice(), c.as_slice())).collect();
                stack.send_split(&split);
                stats.split += cut.iter().filter(|c| !c.is_empty()).count() as u64;
                sends += frames.len();
                stats.chains += 1;
                stats.frames += frames.len() as u64;
            }
            3..=5 => {
                let frames: Vec<Vec<u8>> = (0..1 + rng.below(16)).map(|i| frame(rng, i as u8)).collect();
                let cut: Vec<Vec<usize>> = frames.iter().map(|f| cuts(rng, f.len())).collect();
                let split: Vec<(&[u8], &[usize])> =
                    frames.iter().zip(&cut).map(|(f, c)| (f.as_slice(), c.as_slice())).collect();
                stack.receive_split(&split, rng.below(3) == 0);
                stats.split += cut.iter().filter(|c| !c.is_empty()).count() as u64;
                indicated.extend(frames);
                stats.chains += 1;
            }
            6 | 7 => {
                if stack.pending_sends() > 0 {
                    let status = [NDIS_STATUS_SUCCESS, NDIS_STATUS_FAILURE, NDIS_STATUS_RESOURCES][rng.index(3)];
                    assert!(stack.complete_send(rng.index(stack.pending_sends()), status));
                }
            }
            8 | 9 => {
                if stack.pending_returns() > 0 {
                    assert!(stack.return_receive(rng.index(stack.pending_returns())));
                }
            }
            10 => {
                if stack.is_running() {
                    stack.pause();
                    stats.pauses += 1;
                }
            }
            11 => {
                if stack.is_paused() {
                    assert!(stack.restart());
                }
            }
            12 => {
                // An OID request through the filter, answered at once or
                // pending in the miniport (they queue behind each other).
                stack.set_miniport_pends(rng.below(2) == 0);
                let len = rng.index(9);
                let id = match rng.below(4) {
                    0 => stack.query_oid(OID_802_3_CURRENT_ADDRESS, len),
                    1 => stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, len),
                    2 => stack.query_oid(OID_GEN_CURRENT_PACKET_FILTER, len),
                    _ => stack.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &vec![0x0b; len]),
                };
                oids.push(id);
                stats.oids += 1;
            }
            _ => {
                stack.complete_miniport_oid();
            }
        }
    }
    // Every OID request is answered, through the filter, once.
    while stack.complete_miniport_oid() {}
    for id in &oids {
        let r = stack.oid_result(*id).expect("every OID request completes");
        assert!(
            [NDIS_STATUS_SUCCESS, NDIS_STATUS_BUFFER_TOO_SHORT, NDIS_STATUS_INVALID_LENGTH].contains(&r.status),
            "{r:?}"
        );
        assert!(r.status != NDIS_STATUS_SUCCESS || r.bytes > 0, "{r:?}");
    }
    // Drain in random order, so a pending pause completes; then detach.
    while stack.pending_sends() + stack.pending_returns() > 0 {
        if stack.pending_sends() > 0 && (stack.pending_returns() == 0 || rng.below(2) == 0) {
            assert!(stack.complete_send(rng.index(stack.pending_sends()), NDIS_STATUS_SUCCESS));
        } else {
            assert!(stack.return_receive(rng.index(stack.pending_returns())));
        }
    }
    stack.pause();
    assert!(stack.is_paused(), "a pause completes once every NBL is back");
    stack.detach();
    assert!(stack.held().is_empty(), "{:?}", stack.held());

    // Every frame the protocol sent completed exactly once; nothing blocked
    // crossed the filter either way; what came up was indicated.
    assert_eq!(stack.completed().len(), sends);
    let sent = stack.sent();
    let heartbeats = sent.iter().filter(|f| ethertype(f) == Some(HEARTBEAT)).count() as u64;
    assert!(sent.iter().all(|f| ethertype(f) != Some(BLOCKED)));
    let received = stack.received();
    assert!(received.iter().all(|f| ethertype(f) != Some(BLOCKED)));
    assert!(received.iter().all(|f| indicated.contains(f)));
    let after = [&DETACHED.heartbeats, &DETACHED.heartbeats_back].map(|c| c.load(Ordering::Relaxed));
    assert_eq!(after[0] - before[0], heartbeats, "every heartbeat made reached the miniport");
    assert_eq!(after[1] - before[1], heartbeats, "and came back to the filter");
    drop(stack);
    drop(driver);
}

#[test]
fn the_ethertype_of_a_frame_split_across_mdls_is_that_of_the_whole_frame() {
    use ndis_filter::filter::ethertype as classify;
    use ndis_safe::{Mdl, MdlChain, NblPool, NblPoolOptions, NdisHandle, NoContext, Tag};
    let _session = Session::new();
    // SAFETY: the simulator accepts any handle.
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    let pool: NblPool<NoContext, _> =
        NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Fuzz")).with_net_buffer()).unwrap();
    let mut rng = Rng::new(0x5A17_171D);
    let mut split = 0;
    for i in 0..if cfg!(miri) { 20 } else { 2_000 } {
        let offset = rng.index(8);
        let mut whole = vec![0xAA; offset];
        whole.extend(frame(&mut rng, i as u8));
        let len = whole.len();
        let expected = ethertype(&whole[offset..]);
        // Up to two cut points: one, two or three MDLs (none empty).
        let mut cuts = [rng.index(len + 1), rng.index(len + 1)];
        cuts.sort_unstable();
        let (a, rest) = whole.split_at_mut(cuts[0]);
        let (b, c) = rest.split_at_mut(cuts[1] - cuts[0]);
        let mut mdls: Vec<Mdl<'_>> =
            [a, b, c].into_iter().filter(|p| !p.is_empty()).map(|p| Mdl::new(&owner, p).unwrap()).collect();
        let Some((first, others)) = mdls.split_first_mut() else { continue };
        split += usize::from(!others.is_empty());
        let mut chain = others.iter_mut().fold(MdlChain::new(first), MdlChain::then);
        let nbl = pool.allocate_over(&mut chain, offset as u32, (len - offset) as u32, NoContext).unwrap();
        assert_eq!(classify(&nbl), expected, "offset {offset}, cuts {cuts:?}, length {len}");
    }
    assert!(cfg!(miri) || split > 1_000, "{split} frames split");
}

#[test]
fn random_traffic_through_the_sample_filter_leaves_no_report_and_no_leak() {
    let (seed, seconds) = ndis_sim::rng::from_env("NDIS_RS_FILTER_FUZZ", 0xF11_7E25);
    let episodes = if cfg!(miri) { 3 } else { 200 };
    let mut stats = Stats::default();
    let fuzzed = ndis_sim::rng::episodes(seed, seconds, episodes, |rng| episode(rng, &mut stats));
    if !cfg!(miri) {
        assert!(stats.frames >= 1_000 && stats.pauses > 0 && stats.split >= 500 && stats.oids >= 100, "{stats:?}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "filter fuzz: {} episodes, {} chains, {} frames sent, {} frames split across MDLs, {} OID requests, {} pauses, {} verifier reports, {} leaks (seed {seed})",
        fuzzed.episodes,
        stats.chains,
        stats.frames,
        stats.split,
        stats.oids,
        stats.pauses,
        fuzzed.reports,
        fuzzed.leaks
    );
}
