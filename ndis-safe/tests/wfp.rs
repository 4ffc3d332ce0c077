//! The inspect flow on the simulator — classify, reference, retreat, clone,
//! advance, modify, inject, completion, undo, free, dereference — for
//! transport send and receive, with synchronous and asynchronous failures
//! and many packets in flight, each run ending with no verifier report and
//! no leak.
#![allow(missing_docs, reason = "tests")]

use std::sync::Mutex;

use ndis_safe::clone::{Fwps, Ndis};
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionState, InjectionTypes, Transport};
use ndis_safe::{BorrowedNbl, ContextArea, Error, NblPool, NblPoolOptions, NdisHandle, NoContext, Tag};

/// Per-packet state, kept in the clone's context area (no heap).
#[derive(ContextArea, Debug, Clone, Copy, PartialEq)]
#[context_area(injectable)]
#[repr(C)]
struct Flow {
    seq: u64,
    direction: u64,
}

/// What completions saw: (seq, status ok, data length).
static SEEN: Mutex<Vec<(u64, bool, u32)>> = Mutex::new(Vec::new());

fn seen() -> Vec<(u64, bool, u32)> {
    std::mem::take(&mut *SEEN.lock().unwrap())
}

fn done(mut c: Completed<ClonedPacket<Fwps, Flow>>) {
    let ok = c.status().is_ok();
    let packet = c.packet();
    let len = packet.first().map_or(0, |nb| nb.data_length());
    SEEN.lock().unwrap().push((packet.context().seq, ok, len));
    // Dropped here: the retreat undone (its MDL freed), the clone freed,
    // then the reference on the original released.
}

fn done_plain(c: Completed<ClonedPacket<Ndis>>) {
    SEEN.lock().unwrap().push((0, c.status().is_ok(), 0));
}

/// The clones' pool, kept for the test binary's life as a driver keeps its
/// pools; made between sessions, so no session counts it as a leak.
fn clone_pool() -> &'static NblPool<Flow> {
    static POOL: std::sync::OnceLock<NblPool<Flow>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Insp"))).unwrap())
    })
}

const IP_HEADER: u32 = 20;

fn ipv4_udp(seq: u8) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 36, 0, seq, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0]);
    p.extend_from_slice(&[seq; 8]);
    p
}

/// What a classify callout does with one packet: returns the status of its
/// injection (a rejected packet is dropped, which undoes and frees it).
fn classify(
    handle: &InjectionHandle,
    pool: &'static NblPool<Flow>,
    lent: *mut ndis_sys::NET_BUFFER_LIST,
    seq: u64,
    to: Transport,
) -> Result<(), Error> {
    // SAFETY: the simulated stack lends the NBL for this call.
    let Some(mut nbl) = (unsafe { BorrowedNbl::from_raw(lent) }) else { return Err(Error::InvalidArgument) };
    if handle.state(&nbl).is_self_injected() {
        return Ok(()); // our own, back again
    }
    let mut packet = nbl.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq, direction: 0 })?;
    assert_eq!(nbl.first().map(|nb| nb.data_offset()), Some(IP_HEADER), "the original is back as it came");
    // Modify the clone: 8 bytes in front of the IP header, past the start of
    // the packet's buffer, so NDIS chains an MDL; undone at completion.
    packet.modify(|mut c| c.retreat(8).map(drop))?;
    packet.context_mut().direction = 1;
    handle.inject(packet, to, done).map_err(|rejected| rejected.error)
}

fn inspect_flow(to: Transport) {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        for seq in 0..8u8 {
            let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(seq), IP_HEADER);
            classify(&handle, pool, indicated.as_ptr(), u64::from(seq), to).unwrap();
            indicated.complete(); // classify returns; the reference holds the original
            assert!(ndis_sim::complete_next(0));
        }
        let mut got = seen();
        got.sort_unstable();
        let expected: Vec<_> = (0..8).map(|s| (s, true, 36 + 8)).collect();
        assert_eq!(got, expected);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn inspect_flow_transport_send_with_remote_address() {
    inspect_flow(Transport::send(AF_INET, Some(([10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0))));
}

#[test]
fn inspect_flow_transport_receive() {
    inspect_flow(Transport::receive(AF_INET));
}

#[test]
fn inspect_flow_network_and_forward_paths() {
    inspect_flow(Transport::NetworkSend { compartment: 1 });
    inspect_flow(Transport::NetworkReceive { compartment: 1, interface: 3, sub_interface: 0 });
    inspect_flow(Transport::Forward { family: AF_INET, compartment: 1, interface: 4 });
}

#[test]
fn immediate_completion_runs_inside_the_inject_call() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Immediate(0));
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(1), IP_HEADER);
        classify(&handle, pool, indicated.as_ptr(), 1, Transport::receive(AF_INET)).unwrap();
        assert_eq!(seen(), [(1, true, 44)], "completed before classify returned");
        indicated.complete();
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn synchronous_failure_gives_the_packet_back_and_never_completes() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::FailSynchronously(ndis_sys::STATUS_INSUFFICIENT_RESOURCES));
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(2), IP_HEADER);
        let err = classify(&handle, pool, indicated.as_ptr(), 2, Transport::receive(AF_INET)).unwrap_err();
        assert_eq!(err, Error::Status(ndis_safe::Status::RESOURCES));
        assert!(seen().is_empty());
        assert_eq!(ndis_sim::pending_injections(), 0);
        indicated.complete();
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn asynchronous_failure_completes_with_the_failure_status() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(3), IP_HEADER);
        classify(&handle, pool, indicated.as_ptr(), 3, Transport::send(AF_INET, None)).unwrap();
        indicated.complete();
        assert!(ndis_sim::complete_next(ndis_sys::STATUS_UNSUCCESSFUL));
        assert_eq!(seen(), [(3, false, 44)]);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn many_packets_in_flight_complete_in_any_order() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    let n = if cfg!(miri) { 12 } else { 256 };
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let mut indicated = Vec::new();
        for seq in 0..n {
            let p = ndis_sim::StackNbl::indicate(&ipv4_udp(seq as u8), IP_HEADER);
            classify(&handle, pool, p.as_ptr(), seq, Transport::receive(AF_INET)).unwrap();
            indicated.push(p);
        }
        assert_eq!(ndis_sim::pending_injections(), n as usize);
        // Classify calls return in reverse order; completions come first-in first-out.
        while let Some(p) = indicated.pop() {
            p.complete();
        }
        assert_eq!(ndis_sim::complete_all(0), n as usize);
        assert_eq!(seen().len(), n as usize);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn dropping_the_handle_waits_for_pending_injections() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
    let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(4), IP_HEADER);
    classify(&handle, pool, indicated.as_ptr(), 4, Transport::receive(AF_INET)).unwrap();
    indicated.complete();
    drop(handle); // FwpsInjectionHandleDestroy0 returns once the completion ran
    assert_eq!(seen(), [(4, true, 44)]);
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn self_injected_packets_are_recognised_and_passed() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let ours = ndis_sim::StackNbl::indicate(&ipv4_udp(5), IP_HEADER)
            .injected_by(handle.as_raw(), core::ptr::without_provenance_mut(9));
        // SAFETY: lent for this block.
        let lent = unsafe { BorrowedNbl::from_raw(ours.as_ptr()) }.unwrap();
        assert_eq!(handle.state(&lent), InjectionState::InjectedBySelf(9));
        classify(&handle, pool, ours.as_ptr(), 5, Transport::receive(AF_INET)).unwrap();
        assert_eq!(ndis_sim::pending_injections(), 0, "passed, not injected again");
        ours.complete();
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn a_reference_cloned_later_and_an_ndis_clone_travel_too() {
    let _ = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::NETWORK).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(6), 0);
        // SAFETY: lent for this block.
        let lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        let reference = lent.reference();
        let packet = reference.into_clone::<Ndis, NoContext>(None, NoContext).unwrap();
        handle.inject(packet, Transport::NetworkSend { compartment: 1 }, done_plain).unwrap();
        indicated.complete();
        ndis_sim::complete_all(0);
        assert_eq!(seen(), [(0, true, 0)]);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

static OWNED_SEEN: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn done_owned(c: Completed<ndis_safe::FwpsNbl<'static, Flow>>) {
    let mut c = c;
    OWNED_SEEN.lock().unwrap().push(c.packet().context().seq);
}

#[test]
fn a_driver_allocated_nbl_is_injected_and_freed_by_its_completion() {
    // FwpsAllocateNetBufferAndNetBufferList0 takes a pool that preallocates
    // NET_BUFFERs (without data).
    static SEND: std::sync::OnceLock<NblPool<Flow, ndis_safe::pool::prealloc::WithNetBuffer>> =
        std::sync::OnceLock::new();
    let pool = SEND.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Send")).with_net_buffer()).unwrap())
    });
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::NETWORK).unwrap();
        let nbl = pool.fwps_allocate_empty(Flow { seq: 77, direction: 2 }).unwrap();
        handle.inject(nbl, Transport::NetworkSend { compartment: 1 }, done_owned).unwrap();
        ndis_sim::complete_all(0);
        assert_eq!(*OWNED_SEEN.lock().unwrap(), [77]);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

static PLAIN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn done_unmodifiable(mut c: Completed<ClonedPacket<Fwps, Flow, ndis_safe::clone::Unmodifiable>>) {
    assert!(c.status().is_ok());
    PLAIN.fetch_add(c.packet().context().seq, std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn an_unmodifiable_clone_is_injected_and_freed_without_a_record() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        for seq in 1..=3u64 {
            let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(seq as u8), IP_HEADER);
            // SAFETY: lent for this block.
            let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
            let packet = lent
                .reference_and_clone_unmodifiable::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq, direction: 0 })
                .unwrap();
            assert_eq!(packet.first().map(|nb| nb.data_length()), Some(36));
            handle.inject_transport_receive(packet, AF_INET, 1, 0, 0, done_unmodifiable).unwrap();
            indicated.complete();
        }
        ndis_sim::complete_all(0);
        assert_eq!(PLAIN.load(std::sync::atomic::Ordering::Relaxed), 6);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

static KEPT: Mutex<Vec<ClonedPacket<Fwps, Flow>>> = Mutex::new(Vec::new());

fn keep(c: Completed<ClonedPacket<Fwps, Flow>>) {
    KEPT.lock().unwrap().push(c.into_packet());
}

#[test]
fn a_packet_kept_past_its_completion_releases_its_reference_at_the_callers_irql() {
    // The completion runs at DISPATCH_LEVEL; the packet it keeps is dropped
    // later on a thread at PASSIVE_LEVEL, where FwpsDereferenceNetBufferList0
    // must not be told DISPATCH_LEVEL.
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(9), IP_HEADER);
        // SAFETY: lent for this block.
        let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        let packet =
            lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 9, direction: 0 }).unwrap();
        handle.inject(packet, Transport::receive(AF_INET), keep).ok();
        indicated.complete();
        assert_eq!(ndis_sim::complete_all(0), 1);
        assert_eq!(ndis_sim::irql::current(), ndis_sim::irql::PASSIVE_LEVEL);
        KEPT.lock().unwrap().clear();
    }
    let reports = session.reports();
    assert!(reports.is_empty(), "{reports:#?}");
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

static BY_CLOSURE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[test]
fn a_closure_that_captures_nothing_is_a_completion_for_both_routines() {
    // The completion is a type: the routine WFP calls is made for it. One
    // packet completes through the routine without a record (unmodifiable),
    // one through the routine that pops a record (a change to undo).
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(1), IP_HEADER);
        // SAFETY: lent for this block.
        let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        let plain = lent
            .reference_and_clone_unmodifiable::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 5, direction: 0 })
            .unwrap();
        let mut changed =
            lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 7, direction: 0 }).unwrap();
        changed.modify(|mut c| c.advance(4).map(drop)).unwrap();
        handle
            .inject_transport_receive(plain, AF_INET, 1, 0, 0, |mut c| {
                assert!(c.status().is_ok());
                BY_CLOSURE.fetch_add(c.packet().context().seq, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        handle
            .inject(changed, Transport::receive(AF_INET), |mut c: Completed<ClonedPacket<Fwps, Flow>>| {
                assert_eq!(c.packet().first().map(|nb| nb.data_length()), Some(32));
                BY_CLOSURE.fetch_add(c.packet().context().seq * 10, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        indicated.complete();
        assert_eq!(ndis_sim::complete_all(0), 2);
        assert_eq!(BY_CLOSURE.load(std::sync::atomic::Ordering::Relaxed), 75);
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

fn done_modified_or_free(mut c: Completed<ClonedPacket<Fwps, Flow>>) {
    SEEN.lock().unwrap().push((c.packet().context().seq, c.status().is_ok(), 0));
}

#[test]
fn a_refused_injection_frees_the_packet_itself_when_asked() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::FailSynchronously(ndis_sys::STATUS_INSUFFICIENT_RESOURCES));
    {
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        // A modified clone (its retreat recorded, an MDL chained): undone,
        // freed, its reference released.
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(4), IP_HEADER);
        // SAFETY: lent for this block.
        let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        let mut packet =
            lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 4, direction: 0 }).unwrap();
        packet.modify(|mut c| c.retreat(8).map(drop)).unwrap();
        let err = handle.inject_transport_receive_or_free(packet, AF_INET, 1, 2, 0, done_modified_or_free);
        assert_eq!(err, Err(Error::Status(ndis_safe::Status::RESOURCES)));
        // An unmodifiable one, through Send1's path.
        static SLOT: ndis_safe::wfp::send::SendSlot = ndis_safe::wfp::send::SendSlot::new();
        let packet = lent
            .reference_and_clone_unmodifiable::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 5, direction: 0 })
            .unwrap();
        let to = ndis_safe::wfp::send::SendTo { remote: [10, 0, 0, 1].into(), scope: 0, control: &[] };
        let err =
            handle.inject_transport_send1_or_free(packet, core::slice::from_ref(&SLOT), 0, 1, to, done_unmodifiable);
        assert_eq!(err, Err(Error::Status(ndis_safe::Status::RESOURCES)));
        assert!(!SLOT.is_busy(), "the slot is free again");
        assert!(seen().is_empty(), "no completion runs");
        assert_eq!(ndis_sim::pending_injections(), 0);
        indicated.complete();
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn send1_with_no_free_slot_frees_the_packet_itself_when_asked() {
    let pool = clone_pool();
    let session = ndis_sim::Session::collecting();
    {
        static SLOT: ndis_safe::wfp::send::SendSlot = ndis_safe::wfp::send::SendSlot::new();
        let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
        let to = ndis_safe::wfp::send::SendTo { remote: [10, 0, 0, 1].into(), scope: 0, control: &[] };
        let indicated = ndis_sim::StackNbl::indicate(&ipv4_udp(6), IP_HEADER);
        // SAFETY: lent for this block.
        let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
        let mut results = Vec::new();
        for seq in [6, 7] {
            let packet =
                lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq, direction: 0 }).unwrap();
            let slots = core::slice::from_ref(&SLOT);
            results.push(handle.inject_transport_send1_or_free(packet, slots, 0, 1, to, done_modified_or_free));
        }
        assert_eq!(results, [Ok(()), Err(Error::NoResources)], "one slot: the second is refused and freed");
        // Too much control data: refused before a slot is claimed, freed.
        let packet = lent.reference_and_clone::<Fwps, Flow>(IP_HEADER, Some(pool), Flow { seq: 8, direction: 0 });
        let big = [0u8; ndis_safe::wfp::send::SEND_CONTROL_MAX + 1];
        let too_much = ndis_safe::wfp::send::SendTo { control: &big, ..to };
        let slots = core::slice::from_ref(&SLOT);
        let err = handle.inject_transport_send1_or_free(packet.unwrap(), slots, 0, 1, too_much, done_modified_or_free);
        assert_eq!(err, Err(Error::InvalidArgument));
        indicated.complete();
        ndis_sim::complete_all(0);
        assert_eq!(seen(), [(6, true, 0)]);
        assert!(!SLOT.is_busy());
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
