//! Typed flow contexts on the simulated engine: associated at flow
//! establishment, read by another callout's classifies of the flow, freed
//! exactly once when the flow ends.

use std::net::{IpAddr, Ipv4Addr};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use fwps_sys::GUID;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::flow::{FlowCookie, FlowTable};
use ndis_safe::wfp::layer::{AleFlowEstablishedV4, InboundTransportV4, Layer};
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

/// What the driver tracks per connection.
struct Conn {
    packets: AtomicU64,
}

static DROPS: AtomicU32 = AtomicU32::new(0);

impl Drop for Conn {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

static FLOWS: FlowTable<Conn, 4> = FlowTable::new();
static COUNTER: Mutex<Option<Registration<Counter>>> = Mutex::new(None);
static COOKIES: Mutex<Vec<FlowCookie>> = Mutex::new(Vec::new());

/// At flow establishment: give the counter callout a context for the flow.
struct Established;
impl Callout for Established {
    type Layer = AleFlowEstablishedV4;
    fn classify<'c>(c: Classify<'c, AleFlowEstablishedV4>, action: Action<'c>) -> Decided<'c> {
        if let (Some(flow), Some(reg)) = (c.flow_handle(), COUNTER.lock().unwrap().as_ref()) {
            match FLOWS.associate(flow, reg, Conn { packets: AtomicU64::new(0) }) {
                Ok(cookie) => COOKIES.lock().unwrap().push(cookie),
                Err((_conn, e)) => panic!("not associated: {e}"),
            }
        }
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

/// Counts the flow's packets in its context.
struct Counter;
impl Callout for Counter {
    type Layer = InboundTransportV4;
    fn classify<'c>(c: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        FLOWS.with(&c, |conn| conn.packets.fetch_add(1, Ordering::SeqCst));
        match action {
            Action::Writable(w) => w.permit(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
    fn flow_delete(_layer: u16, context: u64) {
        FLOWS.delete(context);
    }
}

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn ends() -> Endpoints {
    Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)),
        local_port: 40000,
        remote_port: 80,
        interface_index: 2,
        sub_interface_index: 2,
    }
}

fn classify_at(id: u32, layer: u16, flow: u64) {
    let incoming = Incoming::with_endpoints(layer, ends(), None).unwrap_or_else(|| Incoming {
        layer,
        values: vec![ndis_sim::wfp::Value::Empty; AleFlowEstablishedV4::FIELD_COUNT as usize],
    });
    let meta = Metadata { flow_handle: Some(flow), ..Metadata::default() };
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &meta, std::ptr::null_mut(), Filter::default()) }.unwrap();
}

#[test]
fn a_flow_context_is_read_by_type_and_freed_once() {
    let session = ndis_sim::Session::new();
    let key = |n: u32| GUID { Data1: 0xF10 + n, ..GUID::default() };
    let est = Registration::<Established>::register(device(), key(1), CalloutFlags::NONE, Version::V1).unwrap();
    let counter = Registration::<Counter>::register(device(), key(2), CalloutFlags::NONE, Version::V1).unwrap();
    let counter_id = counter.id();
    *COUNTER.lock().unwrap() = Some(counter);
    DROPS.store(0, Ordering::SeqCst);

    classify_at(est.id(), AleFlowEstablishedV4::ID, 77);
    classify_at(est.id(), AleFlowEstablishedV4::ID, 78);
    assert_eq!(FLOWS.live(), 2);
    assert_eq!(ndis_sim::wfp::flow_contexts(counter_id), 2);
    for _ in 0..3 {
        classify_at(counter_id, InboundTransportV4::ID, 77);
    }
    classify_at(counter_id, InboundTransportV4::ID, 78);
    let cookies = COOKIES.lock().unwrap().clone();
    let count = |c| FLOWS.with_cookie(c, |conn: &Conn| conn.packets.load(Ordering::SeqCst));
    assert_eq!((count(cookies[0]), count(cookies[1])), (Some(3), Some(1)));

    // The connection closes: flowDeleteFn frees its context, once.
    assert_eq!(ndis_sim::wfp::end_flow(77), 1);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    assert!(!FLOWS.delete(cookies[0].0), "a second delete of the same cookie does nothing");
    assert_eq!(count(cookies[0]), None);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);

    // The driver removes the other before unloading.
    let counter = COUNTER.lock().unwrap().take().unwrap();
    FLOWS.remove(78, &counter).unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
    assert_eq!(FLOWS.live(), 0);
    counter.unregister().unwrap();
    est.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
}
