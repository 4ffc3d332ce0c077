//! Typed OID requests, status indications and PnP events on the simulated
//! filter stack: pass-through (answered at once and later, through two
//! modules), answers written through the typed accessors, the status each
//! handler call returned (the proof of the request's end), a cancel, status
//! and PnP events seen, absorbed and vetoed. A request forgotten or
//! dropped in its handler does not compile (ui-tests `filter/forget_oid`,
//! `filter/oid_proof_of_another_call`).
#![allow(missing_docs, reason = "test")]
#![cfg(feature = "filter")]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use ndis_safe::filter::{
    AttachParameters, DevicePnPEvent, Filter, FilterDriver, Forward, Module, Name, NetPnPEvent, OidHandled, OidKind,
    OidRequest, Registration, StatusIndication,
};
use ndis_safe::{NoContext, Status, Tag, utf16};
use ndis_sim::Session;
use ndis_sim::lwf::Stack;
use ndis_sys::*;

const REG: Registration = Registration {
    friendly: Name(utf16!("ndis-rs OID test filter")),
    unique: Name(utf16!("{0a7c3f52-51a8-4d0e-9d7e-2b1f6c8e4a10}")),
    service: Name(utf16!("ndisrsoid")),
    version: (1, 0),
};

/// An OID the filter fails.
const FAILED: u32 = 0xff00_0003;
/// The frame size the filter answers itself.
const OWN_FRAME_SIZE: u32 = 9000;

// Tests share the statics: sessions run one at a time.
/// The packet filter the filter accepted (not passed down).
static ACCEPTED: AtomicU32 = AtomicU32::new(0);
/// The OID and the status each `Answering` handler call returned.
static HANDLED: Mutex<Vec<(u32, NDIS_STATUS)>> = Mutex::new(Vec::new());
/// What the filter saw: status codes, PnP codes.
static SEEN: Mutex<Vec<(&'static str, i32, Vec<u8>)>> = Mutex::new(Vec::new());

/// Passes everything down.
struct Through;

impl Filter for Through {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"OidP");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(Through)
    }
}

/// Answers some OIDs itself, fails another, passes the rest down; records
/// what each handler call returned; looks at status and PnP.
struct Answering;

impl Filter for Answering {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"OidA");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(Answering)
    }

    fn oid_request<'c>(&'c self, _: &'c Module<Self>, request: OidRequest<'c, Self>) -> OidHandled<'c> {
        let oid = request.oid();
        let handled = match (request.kind(), oid) {
            (OidKind::Query, OID_GEN_MAXIMUM_FRAME_SIZE) => request.answer_query(&OWN_FRAME_SIZE.to_le_bytes()),
            (OidKind::Set, OID_GEN_CURRENT_PACKET_FILTER) => {
                let v = request.data().and_then(|d| d.try_into().ok()).map(u32::from_le_bytes);
                match v {
                    Some(v) => {
                        ACCEPTED.store(v, Ordering::SeqCst);
                        request.accept_set()
                    }
                    None => request.fail(Status(NDIS_STATUS_INVALID_LENGTH)),
                }
            }
            (_, FAILED) => request.fail(Status(NDIS_STATUS_NOT_SUPPORTED)),
            _ => request.pass_down(),
        };
        HANDLED.lock().unwrap().push((oid, handled.status()));
        handled
    }

    fn status(&self, _: &Module<Self>, indication: &StatusIndication<'_>) -> Forward {
        SEEN.lock().unwrap().push(("status", indication.code(), indication.buffer().to_vec()));
        if indication.code() == NDIS_STATUS_MEDIA_CONNECT { Forward::Absorb } else { Forward::Pass }
    }

    fn net_pnp_event(&self, _: &Module<Self>, event: &NetPnPEvent<'_>) -> Result<Forward, Status> {
        SEEN.lock().unwrap().push(("net pnp", event.code(), event.buffer().to_vec()));
        if event.code() == NetEventQueryPower { Err(Status::FAILURE) } else { Ok(Forward::Pass) }
    }

    fn device_pnp_event(&self, _: &Module<Self>, event: &DevicePnPEvent<'_>) -> Forward {
        SEEN.lock().unwrap().push(("device pnp", event.event(), event.buffer().to_vec()));
        Forward::Pass
    }
}

// The request is bound to its handler call: not sendable to another
// thread, not shareable.
static_assertions::assert_not_impl_any!(OidRequest<'static, Through>: Send, Sync);
// The proof is made only by ending a request: not copied, cloned or made.
static_assertions::assert_not_impl_any!(OidHandled<'static>: Clone, Copy, Default);

fn register<F: Filter>() -> FilterDriver<F> {
    // SAFETY: the simulator takes any driver object.
    unsafe { FilterDriver::<F>::register(core::ptr::null_mut(), &REG) }.expect("registered")
}

fn running(drivers: &[NDIS_HANDLE]) -> Stack {
    let stack = Stack::new(drivers);
    stack.attach().unwrap();
    assert!(stack.restart());
    stack
}

fn end(stack: Stack) {
    assert!(stack.pause());
    stack.detach();
    assert!(stack.held().is_empty(), "{:?}", stack.held());
}

#[test]
fn pass_through_answered_at_once_and_later_through_two_modules() {
    let session = Session::new();
    let (a, b) = (register::<Through>(), register::<Through>());
    let stack = running(&[a.as_raw(), b.as_raw()]);
    let mac = stack.oid_result(stack.query_oid(OID_802_3_CURRENT_ADDRESS, 8)).expect("at once");
    assert_eq!((mac.status, mac.bytes, mac.data), (NDIS_STATUS_SUCCESS, 6, vec![0x02, 0, 0x5e, 0x10, 0, 1]));
    let short = stack.oid_result(stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 3)).unwrap();
    assert_eq!((short.status, short.bytes, short.bytes_needed), (NDIS_STATUS_BUFFER_TOO_SHORT, 0, 4));
    let bad = stack.oid_result(stack.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &[1, 2])).unwrap();
    assert_eq!((bad.status, bad.bytes, bad.bytes_needed), (NDIS_STATUS_INVALID_LENGTH, 0, 4));

    stack.set_miniport_pends(true);
    let set = stack.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &0x2fu32.to_le_bytes());
    let query = stack.query_oid(OID_GEN_CURRENT_PACKET_FILTER, 4);
    assert_eq!(stack.oid_result(set), None);
    assert_eq!(stack.held().len(), 2, "a clone out per module: {:?}", stack.held());
    assert!(stack.complete_miniport_oid());
    let set = stack.oid_result(set).unwrap();
    assert_eq!((set.status, set.bytes), (NDIS_STATUS_SUCCESS, 4), "BytesRead copied back through both clones");
    assert_eq!(stack.oid_result(query), None, "issued after the set completed, pending below");
    assert!(stack.complete_miniport_oid());
    assert_eq!(stack.oid_result(query).unwrap().data, 0x2fu32.to_le_bytes());
    end(stack);
    drop((a, b));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn answers_written_through_the_typed_accessors() {
    let session = Session::new();
    let (a, b) = (register::<Answering>(), register::<Through>());
    let stack = running(&[a.as_raw(), b.as_raw()]);
    let fits = stack.oid_result(stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 8)).unwrap();
    assert_eq!((fits.status, fits.bytes, fits.data), (NDIS_STATUS_SUCCESS, 4, OWN_FRAME_SIZE.to_le_bytes().to_vec()));
    let short = stack.oid_result(stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 2)).unwrap();
    assert_eq!((short.status, short.bytes, short.bytes_needed), (NDIS_STATUS_BUFFER_TOO_SHORT, 0, 4));
    let set = stack.oid_result(stack.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &7u32.to_le_bytes())).unwrap();
    assert_eq!((set.status, set.bytes), (NDIS_STATUS_SUCCESS, 4));
    assert_eq!(ACCEPTED.load(Ordering::SeqCst), 7);
    assert_eq!(stack.miniport_oid_value(OID_GEN_CURRENT_PACKET_FILTER).unwrap(), [0; 4], "answered above it");
    let failed = stack.oid_result(stack.query_oid(FAILED, 4)).unwrap();
    assert_eq!(failed.status, NDIS_STATUS_NOT_SUPPORTED);
    let mac = stack.oid_result(stack.query_oid(OID_802_3_CURRENT_ADDRESS, 6)).unwrap();
    assert_eq!(mac.data, [0x02, 0, 0x5e, 0x10, 0, 1], "the rest passes down");
    end(stack);
    drop((a, b));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// Each handler call returns the status of the request's end (the
/// proof's): answers and failures at once, a pass-down that pends
/// `NDIS_STATUS_PENDING` (completed later by the library, once); the
/// verifier sees every request completed exactly once.
#[test]
fn each_handler_call_returns_its_requests_end_and_every_request_completes_once() {
    let session = Session::collecting();
    HANDLED.lock().unwrap().clear();
    let a = register::<Answering>();
    let stack = running(&[a.as_raw()]);
    let fits = stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let failed = stack.query_oid(FAILED, 4);
    let at_once = stack.query_oid(OID_802_3_CURRENT_ADDRESS, 6);
    stack.set_miniport_pends(true);
    let pends = stack.query_oid(OID_802_3_CURRENT_ADDRESS, 6);
    assert_eq!(stack.oid_result(pends), None);
    assert!(stack.complete_miniport_oid());
    assert_eq!(
        *HANDLED.lock().unwrap(),
        vec![
            (OID_GEN_MAXIMUM_FRAME_SIZE, NDIS_STATUS_SUCCESS),
            (FAILED, NDIS_STATUS_NOT_SUPPORTED),
            (OID_802_3_CURRENT_ADDRESS, NDIS_STATUS_SUCCESS),
            (OID_802_3_CURRENT_ADDRESS, NDIS_STATUS_PENDING),
        ]
    );
    let statuses: Vec<_> = [fits, failed, at_once, pends].map(|q| stack.oid_result(q).unwrap().status).into();
    assert_eq!(statuses, [NDIS_STATUS_SUCCESS, NDIS_STATUS_NOT_SUPPORTED, NDIS_STATUS_SUCCESS, NDIS_STATUS_SUCCESS]);
    end(stack);
    drop(a);
    assert_eq!(session.rules(), vec![], "nothing completed twice, nothing left uncompleted");
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn a_cancel_is_passed_down_and_the_original_completes_once() {
    let session = Session::collecting();
    let a = register::<Through>();
    let stack = running(&[a.as_raw()]);
    stack.set_miniport_pends(true);
    let q = stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    stack.cancel_oid(q);
    assert_eq!(stack.oid_cancels(), 1);
    assert_eq!(stack.oid_result(q).unwrap().status, NDIS_STATUS_REQUEST_ABORTED);
    assert!(!stack.complete_miniport_oid(), "the miniport no longer holds it");
    end(stack);
    drop(a);
    assert_eq!(session.rules(), vec![]);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn status_and_pnp_seen_passed_absorbed_and_vetoed() {
    let session = Session::new();
    SEEN.lock().unwrap().clear();
    let (a, b) = (register::<Through>(), register::<Answering>());
    let stack = running(&[a.as_raw(), b.as_raw()]);
    stack.indicate_status(NDIS_STATUS_LINK_STATE, &[9, 8, 7]);
    stack.indicate_status(NDIS_STATUS_MEDIA_CONNECT, &[]);
    assert_eq!(stack.statuses(), vec![(NDIS_STATUS_LINK_STATE, vec![9, 8, 7])], "the media connect absorbed");
    assert_eq!(stack.net_pnp_event(NetEventSetPower, &[3]), NDIS_STATUS_SUCCESS);
    assert_eq!(stack.net_pnp_event(NetEventQueryPower, &[]), NDIS_STATUS_FAILURE, "vetoed below the protocol");
    assert_eq!(stack.net_pnp_events(), vec![(NetEventSetPower, vec![3])]);
    stack.device_pnp_event(NdisDevicePnPEventSurpriseRemoved, &[5]);
    assert_eq!(stack.device_pnp_events(), vec![(NdisDevicePnPEventSurpriseRemoved, vec![5])]);
    let seen: Vec<_> = SEEN.lock().unwrap().iter().map(|(k, c, _)| (*k, *c)).collect();
    assert_eq!(
        seen,
        vec![
            ("status", NDIS_STATUS_LINK_STATE),
            ("status", NDIS_STATUS_MEDIA_CONNECT),
            ("net pnp", NetEventSetPower),
            ("net pnp", NetEventQueryPower),
            ("device pnp", NdisDevicePnPEventSurpriseRemoved),
        ]
    );
    end(stack);
    drop((a, b));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// OIDs from one thread (answered at once and pending, completed by
/// another) while a third sends and receives through two filters: every
/// request completes once with the miniport's answer, nothing reported,
/// nothing leaked.
#[test]
fn oids_under_traffic_from_several_threads() {
    let session = Session::new();
    let (a, b) = (register::<Answering>(), register::<Through>());
    let stack = running(&[a.as_raw(), b.as_raw()]);
    let rounds = if cfg!(miri) { 6 } else { 300 };
    let done = core::sync::atomic::AtomicBool::new(false);
    let ids = std::thread::scope(|s| {
        let (st, done) = (&stack, &done);
        s.spawn(move || {
            let f = vec![0u8; 60];
            for i in 0..rounds {
                st.send(&[&f]);
                st.receive(&[&f], i % 3 == 0);
                st.complete_sends();
                st.return_receives();
            }
        });
        s.spawn(move || {
            while !done.load(Ordering::Relaxed) {
                st.complete_miniport_oid();
                std::thread::yield_now();
            }
        });
        let mut ids = Vec::new();
        for i in 0..rounds {
            st.set_miniport_pends(i % 2 == 0);
            ids.push(st.query_oid(OID_802_3_CURRENT_ADDRESS, 6 + i % 3));
        }
        while st.oid_result(*ids.last().unwrap()).is_none() {
            std::thread::yield_now();
        }
        done.store(true, Ordering::Relaxed);
        ids
    });
    for id in ids {
        let r = stack.oid_result(id).expect("completed");
        assert_eq!((r.status, r.data), (NDIS_STATUS_SUCCESS, vec![0x02, 0, 0x5e, 0x10, 0, 1]));
    }
    end(stack);
    drop((a, b));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
