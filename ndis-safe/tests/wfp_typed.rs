//! Typed callouts on the simulated engine: registration with each DDI
//! version, typed fields and metadata, decisions and the write right,
//! pends, and unregistration while referenced.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT,
    FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT, GUID,
};
use ndis_safe::wfp::callout::{Busy, Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided, Decision};
use ndis_safe::wfp::layer::{AleAuthConnectV4, InboundTransportV4, InboundTransportV6, Layer, OutboundTransportV6};
use ndis_safe::wfp::pend::PendedClassify;
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata, Value};

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn key(n: u32) -> GUID {
    GUID { Data1: 0x1234_0000 + n, Data2: 1, Data3: 2, Data4: *b"ndissafe" }
}

fn v4(remote_port: u16) -> Endpoints {
    Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
        local_port: 50000,
        remote_port,
        interface_index: 3,
        sub_interface_index: 4,
    }
}

fn v6(remote_port: u16) -> Endpoints {
    Endpoints {
        protocol: 17,
        local: IpAddr::V6(Ipv6Addr::LOCALHOST),
        remote: IpAddr::V6("2001:db8::7".parse().unwrap()),
        local_port: 5353,
        remote_port,
        interface_index: 9,
        sub_interface_index: 1,
    }
}

fn run(id: u32, layer: u16, ends: Endpoints, meta: &Metadata, filter: Filter) -> ndis_sim::wfp::Outcome {
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, meta, std::ptr::null_mut(), filter) }.unwrap()
}

/// Blocks telnet (remote port 23), permits the rest; records what it read.
struct Telnet;
/// Remote address, remote port, protocol, interface index (field), source interface index (metadata).
type Seen = (Option<Ipv4Addr>, Option<u16>, Option<u8>, Option<u32>, Option<u32>);
static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

impl Callout for Telnet {
    type Layer = InboundTransportV4;
    fn classify<'c>(c: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        let port = c.get(InboundTransportV4::IP_REMOTE_PORT);
        SEEN.lock().unwrap().push((
            c.get(InboundTransportV4::IP_REMOTE_ADDRESS),
            port,
            c.get(InboundTransportV4::IP_PROTOCOL),
            c.get(InboundTransportV4::INTERFACE_INDEX),
            c.source_interface_index(),
        ));
        match (action, port) {
            (Action::Writable(w), Some(23)) => w.block(),
            (Action::Writable(w), Some(_)) => w.permit(),
            (Action::Writable(w), None) => w.continue_(),
            (Action::ReadOnly(r), _) => r.leave(),
        }
    }
}

#[test]
fn every_version_is_called_with_typed_values_and_decides() {
    for (n, version) in [Version::V0, Version::V1, Version::V2, Version::V3].into_iter().enumerate() {
        let session = ndis_sim::Session::new();
        SEEN.lock().unwrap().clear();
        let reg = Registration::<Telnet>::register(device(), key(n as u32), CalloutFlags::NONE, version).unwrap();
        let layer = InboundTransportV4::ID;
        let meta = Metadata { source_interface_index: Some(3), ..Metadata::default() };

        let blocked = run(reg.id(), layer, v4(23), &meta, Filter::default());
        assert_eq!(blocked.action, FWP_ACTION_BLOCK, "{version:?}");
        assert!(!blocked.write_right(), "a block clears the write right");

        let permitted = run(reg.id(), layer, v4(443), &Metadata::default(), Filter::default());
        assert_eq!(permitted.action, FWP_ACTION_PERMIT);
        assert!(permitted.write_right(), "a soft permit keeps the right");

        let hard = Filter { flags: FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT as u16, ..Filter::default() };
        assert!(!run(reg.id(), layer, v4(443), &meta, hard).write_right(), "the filter asks for a hard permit");

        let seen = SEEN.lock().unwrap().clone();
        assert_eq!(seen[0], (Some(Ipv4Addr::new(192, 0, 2, 7)), Some(23), Some(6), Some(3), Some(3)));
        assert_eq!(seen[1].4, None, "absent metadata reads as None");
        reg.unregister().unwrap();
        assert!(session.leaks().is_empty());
    }
}

#[test]
fn a_value_of_the_wrong_type_reads_as_none() {
    let _session = ndis_sim::Session::new();
    SEEN.lock().unwrap().clear();
    let reg = Registration::<Telnet>::register(device(), key(10), CalloutFlags::NONE, Version::V1).unwrap();
    let mut incoming = Incoming::with_endpoints(InboundTransportV4::ID, v4(23), None).unwrap();
    // A lying engine: the port as FWP_UINT32.
    incoming.set(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT as u32, Value::U32(23));
    // SAFETY: no layer data.
    let out = unsafe {
        ndis_sim::wfp::classify(reg.id(), &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    }
    .unwrap();
    assert_eq!(out.action, FWP_ACTION_CONTINUE, "no port read: the callout continues");
    assert_eq!(SEEN.lock().unwrap()[0].1, None);
    // Values of another layer are not read at all.
    let other = Incoming::with_endpoints(InboundTransportV6::ID, v6(23), None).unwrap();
    // SAFETY: no layer data.
    let out = unsafe {
        ndis_sim::wfp::classify(reg.id(), &other, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    }
    .unwrap();
    assert_eq!(out.action, FWP_ACTION_CONTINUE);
    assert_eq!(SEEN.lock().unwrap().len(), 1, "a classify at another layer is not the callout's");
}

/// Blocks DNS to one IPv6 server, whatever the rights: a veto without them.
struct NoDns;
static V6_SEEN: Mutex<Vec<(Option<Ipv6Addr>, Option<u16>)>> = Mutex::new(Vec::new());

impl Callout for NoDns {
    type Layer = OutboundTransportV6;
    fn classify<'c>(c: Classify<'c, OutboundTransportV6>, action: Action<'c>) -> Decided<'c> {
        let remote = c.get(OutboundTransportV6::IP_REMOTE_ADDRESS);
        V6_SEEN.lock().unwrap().push((remote, c.get(OutboundTransportV6::IP_REMOTE_PORT)));
        let decision = if remote == Some("2001:db8::7".parse().unwrap()) { Decision::Block } else { Decision::Permit };
        match action.decide(decision) {
            Ok(d) => d,
            Err(unchanged) => unchanged.decided,
        }
    }
}

#[test]
fn ipv6_outbound_decides_and_vetoes_without_the_right() {
    let session = ndis_sim::Session::new();
    V6_SEEN.lock().unwrap().clear();
    let reg = Registration::<NoDns>::register(device(), key(20), CalloutFlags::NONE, Version::V3).unwrap();
    let layer = OutboundTransportV6::ID;
    let out = run(reg.id(), layer, v6(53), &Metadata::default(), Filter::default());
    assert_eq!(out.action, FWP_ACTION_BLOCK);
    // A hard permit above: the callout may only veto, which it does…
    let read_only = Filter { write_right: false, ..Filter::default() };
    let out = run(reg.id(), layer, v6(53), &Metadata::default(), read_only);
    assert_eq!(out.action, FWP_ACTION_BLOCK);
    // …and a permit it cannot write is left alone.
    let mut other = v6(53);
    other.remote = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let out = run(reg.id(), layer, other, &Metadata::default(), read_only);
    assert_eq!(out.action, FWP_ACTION_CONTINUE);
    assert_eq!(V6_SEEN.lock().unwrap()[0], (Some("2001:db8::7".parse().unwrap()), Some(53)));
    drop(reg);
    assert!(session.reports().is_empty());
    assert_eq!(ndis_sim::registered_callouts(), 0);
}

#[test]
fn unregistering_a_referenced_callout_is_busy_until_its_filters_go() {
    let _session = ndis_sim::Session::new();
    let reg = Registration::<Telnet>::register(device(), key(30), CalloutFlags::NONE, Version::V2).unwrap();
    let id = reg.id();
    assert!(ndis_sim::wfp::filter_reference(id, true));
    let Err(Busy { registration }) = reg.unregister() else { panic!("a referenced callout unregistered") };
    assert!(ndis_sim::wfp::filter_reference(id, false));
    registration.unregister().unwrap();
    assert!(!ndis_sim::wfp::filter_reference(id, true), "gone");
}

/// Pends every connect; a test completes it later.
struct Firewall;
static PENDING: Mutex<Vec<PendedClassify>> = Mutex::new(Vec::new());
static APP_LEN: AtomicU32 = AtomicU32::new(0);

impl Callout for Firewall {
    type Layer = AleAuthConnectV4;
    fn classify<'c>(c: Classify<'c, AleAuthConnectV4>, action: Action<'c>) -> Decided<'c> {
        APP_LEN.store(c.get(AleAuthConnectV4::ALE_APP_ID).map_or(0, |a| a.len() as u32), Ordering::SeqCst);
        match action {
            Action::Writable(w) => match w.pend(&c) {
                Ok((decided, pended)) => {
                    PENDING.lock().unwrap().push(pended);
                    decided
                }
                Err(not) => not.action.block(),
            },
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

#[test]
fn a_pended_connect_completes_once_with_its_decision() {
    let session = ndis_sim::Session::new();
    let reg = Registration::<Firewall>::register(device(), key(40), CalloutFlags::NONE, Version::V1).unwrap();
    let app = "\\device\\app.exe".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let incoming = Incoming::with_endpoints(AleAuthConnectV4::ID, v4(443), Some(&app)).unwrap();
    // SAFETY: no layer data.
    let out = unsafe {
        ndis_sim::wfp::classify(reg.id(), &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    }
    .unwrap();
    assert!(out.pended && out.absorbed() && out.action == FWP_ACTION_BLOCK && !out.write_right());
    assert_eq!(APP_LEN.load(Ordering::SeqCst), app.len() as u32);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    // Later, from a worker: the user said yes.
    let pended = PENDING.lock().unwrap().pop().unwrap();
    pended.complete(Decision::Permit);
    let done = ndis_sim::wfp::completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1.action, FWP_ACTION_PERMIT);
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());

    // Dropped undecided: blocked, the default.
    // SAFETY: no layer data.
    unsafe {
        ndis_sim::wfp::classify(reg.id(), &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    };
    drop(PENDING.lock().unwrap().pop());
    assert_eq!(ndis_sim::wfp::completions()[0].1.action, FWP_ACTION_BLOCK);

    // Leaked: never completes — the watchdog sees it, the verifier does not.
    // SAFETY: no layer data.
    unsafe {
        ndis_sim::wfp::classify(reg.id(), &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    };
    std::mem::forget(PENDING.lock().unwrap().pop());
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    assert_eq!(ndis_sim::wfp::outstanding_pends()[0].state, "pended");
    assert!(session.reports().is_empty());
    reg.unregister().unwrap();
}

#[test]
fn a_version_0_callout_cannot_pend() {
    let _session = ndis_sim::Session::new();
    let reg = Registration::<Firewall>::register(device(), key(50), CalloutFlags::NONE, Version::V0).unwrap();
    let incoming = Incoming::with_endpoints(AleAuthConnectV4::ID, v4(443), None).unwrap();
    // SAFETY: no layer data.
    let out = unsafe {
        ndis_sim::wfp::classify(reg.id(), &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default())
    }
    .unwrap();
    assert!(!out.pended);
    assert_eq!(out.action, FWP_ACTION_BLOCK, "no classify context: the firewall blocks instead");
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
}
