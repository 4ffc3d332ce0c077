//! The sample end to end on the simulated filter engine: its callouts
//! registered as the driver registers them, filters added through the
//! management API, IPv4 and IPv6 datagrams sent inbound and outbound, what
//! reaches the socket and the wire — and what each injection was given —
//! read back. Verifier on: no report, no leak.
//!
//! One test per bug the typed rewrite fixed: each fails on the old callout
//! (inbound retreat by the IP header only; outbound injection with no send
//! parameters; the source interface index read from the metadata without
//! its presence bit).
#![allow(missing_docs, reason = "tests")]
#![cfg(not(feature = "raw"))]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock};

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::NdisHandle;
use ndis_safe::wfp::callout::DeviceObject;
use ndis_safe::wfp::layer::{InboundTransportV4, InboundTransportV6, Layer, OutboundTransportV4, OutboundTransportV6};
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_sim::wfp::inject::{TransportInjection, take_transport_injections};
use ndis_sim::wfp::{Endpoints, Metadata};
use wfp_inspect::callout::{self, Callouts, Inspector};

/// The socket's control data (one `WSACMSGHDR`), as the engine passes it.
const CONTROL: [u8; 16] = [16, 0, 0, 0, 0, 0, 0, 0, 41, 0, 0, 0, 50, 0, 0, 0];
/// The interface and sub-interface the datagrams arrive on.
const INTERFACE: (u32, u32) = (7, 3);

/// The engine is one per process: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The inspector lives as long as the program, as a driver's lives in its
/// device extension until unload.
fn inspector() -> &'static Inspector {
    static INSPECTOR: OnceLock<Inspector> = OnceLock::new();
    INSPECTOR.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| Inspector::new(&owner)).expect("the simulator makes the pool and the handle")
    })
}

fn v4_header() -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0];
    h.extend_from_slice(&[192, 0, 2, 1, 10, 0, 0, 1]);
    h
}

fn v6_header() -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
    h.resize(40, 0);
    h
}

fn datagram(v6: bool) -> Vec<u8> {
    let mut p = if v6 { v6_header() } else { v4_header() };
    p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 12, 0, 0]);
    p.extend_from_slice(b"data");
    p
}

fn remote(v6: bool) -> IpAddr {
    if v6 { IpAddr::V6("fe80::1".parse().unwrap()) } else { IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)) }
}

fn ends(v6: bool) -> Endpoints {
    let local = if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)) };
    Endpoints {
        protocol: 17,
        local,
        remote: remote(v6),
        local_port: 12345,
        remote_port: 53,
        interface_index: INTERFACE.0,
        sub_interface_index: INTERFACE.1,
    }
}

/// What one datagram did: the verdict on the original, the verdicts on
/// what the callout injected, what reached the socket (inbound) or the
/// wire (outbound), and what the injections were given.
struct Run {
    first: u32,
    absorbed: bool,
    back: Vec<u32>,
    reached: Vec<Vec<u8>>,
    injections: Vec<TransportInjection>,
}

/// Registers the sample's callouts as its DriverEntry does, adds a filter
/// per layer through the management API, sends `packet` through `layer`
/// (its data at `offset`, with `meta`), brings back what the callout
/// injected, then unloads as the driver does. Verifier on: no report, no
/// leak.
fn through_the_engine(v6: bool, inbound: bool, meta: &Metadata) -> Run {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let ins = inspector();
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let _ = take_transport_injections();
    callout::install(ins);
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let callouts = Callouts::register(device).unwrap();
    let engine = Engine::open(false).unwrap();
    let key = GUID { Data1: 0x1A5B, ..GUID::default() };
    let sublayer = SubLayer::add(&engine, key, 0x100).unwrap();
    let filters = engine
        .transaction(|_| {
            Ok((
                Filter::add(
                    &engine,
                    &sublayer,
                    1,
                    &[],
                    FilterAction::callout(&callouts.inbound_v4, callout::key(false, false)),
                    0,
                )?,
                Filter::add(
                    &engine,
                    &sublayer,
                    1,
                    &[],
                    FilterAction::callout(&callouts.inbound_v6, callout::key(false, true)),
                    0,
                )?,
                Filter::add(
                    &engine,
                    &sublayer,
                    1,
                    &[],
                    FilterAction::callout(&callouts.outbound_v4, callout::key(true, false)),
                    0,
                )?,
                Filter::add(
                    &engine,
                    &sublayer,
                    1,
                    &[],
                    FilterAction::callout(&callouts.outbound_v6, callout::key(true, true)),
                    0,
                )?,
            ))
        })
        .unwrap();
    let layer = match (v6, inbound) {
        (false, true) => InboundTransportV4::ID,
        (true, true) => InboundTransportV6::ID,
        (false, false) => OutboundTransportV4::ID,
        (true, false) => OutboundTransportV6::ID,
    };
    let packet = datagram(v6);
    let ip = if v6 { 40 } else { 20 };
    // The layer's documented offset: after the IP and UDP headers inbound,
    // at the UDP header outbound.
    let offset = if inbound { ip + 8 } else { ip };
    let before = ins.completed.load(Ordering::Relaxed);
    let first = ndis_sim::wfp::packet(layer, ends(v6), meta, &packet, offset, inbound);
    let back = ndis_sim::wfp::reclassify_injections(layer, ends(v6), meta, inbound);
    let reached = if inbound { ndis_sim::wfp::take_socket() } else { ndis_sim::wfp::take_wire() };
    assert_eq!(ins.completed.load(Ordering::Relaxed) - before, back.len() as u64, "each injection completed");

    drop(filters);
    drop(sublayer);
    assert!(callouts.unregister(), "no filter left referencing the callouts");
    callout::uninstall();
    drop(engine);
    assert_eq!(ndis_sim::registered_callouts(), 0);
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
    Run {
        first: first.action,
        absorbed: first.absorbed,
        back: back.iter().map(|v| v.action).collect(),
        reached,
        injections: take_transport_injections(),
    }
}

fn inbound_meta(v6: bool) -> Metadata {
    let ip = if v6 { 40 } else { 20 };
    Metadata { ip_header_size: Some(ip), transport_header_size: Some(8), ..Metadata::default() }
}

/// Bug (a): at the inbound transport layer the data starts after the
/// transport header; the clone must start at the IP header — the whole
/// datagram reaches the socket, not a datagram cut 8 bytes into its IP
/// header.
#[test]
fn inbound_the_whole_datagram_is_reinjected_from_its_ip_header() {
    for v6 in [false, true] {
        let run = through_the_engine(v6, true, &inbound_meta(v6));
        assert!(run.first == FWP_ACTION_BLOCK && run.absorbed, "v6 {v6}: the original is absorbed");
        assert_eq!(run.back, [FWP_ACTION_PERMIT], "v6 {v6}: its clone, recognised, permitted");
        assert_eq!(run.reached, [datagram(v6)], "v6 {v6}: the socket got the datagram from its IP header");
    }
}

/// An inbound classify without the transport header size cannot be
/// retreated to the IP header: the datagram passes uninspected.
#[test]
fn inbound_without_the_header_sizes_the_datagram_passes_uninspected() {
    for v6 in [false, true] {
        let meta = Metadata { transport_header_size: None, ..inbound_meta(v6) };
        let run = through_the_engine(v6, true, &meta);
        assert!(run.first == FWP_ACTION_PERMIT && !run.absorbed, "v6 {v6}");
        assert!(run.back.is_empty() && run.injections.is_empty(), "v6 {v6}: nothing injected");
        assert_eq!(run.reached, [datagram(v6)]);
    }
}

/// Bug (b): outbound, the clone is injected with the remote address (from
/// the incoming values), scope and control data (from the metadata).
#[test]
fn outbound_the_clone_is_sent_with_the_classify_send_parameters() {
    for v6 in [false, true] {
        let ip = if v6 { 40 } else { 20 };
        let meta = Metadata {
            ip_header_size: Some(ip),
            remote_scope_id: Some(if v6 { 2 } else { 0 }),
            control_data: Some(CONTROL.to_vec()),
            ..Metadata::default()
        };
        let run = through_the_engine(v6, false, &meta);
        assert!(run.first == FWP_ACTION_BLOCK && run.absorbed, "v6 {v6}");
        assert_eq!(run.back, [FWP_ACTION_PERMIT]);
        assert_eq!(run.reached, [datagram(v6)[ip as usize..].to_vec()], "v6 {v6}: the UDP datagram reached the wire");
        let remote = match remote(v6) {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        let expected = TransportInjection::Send { remote, scope: if v6 { 2 } else { 0 }, control: CONTROL.to_vec() };
        assert_eq!(run.injections, [expected], "v6 {v6}");
    }
}

/// Bug (c): inbound injection takes the layer's interface and
/// sub-interface indices (incoming values), not a metadata field read
/// without its presence bit.
#[test]
fn inbound_the_clone_is_received_on_the_layer_interface() {
    for v6 in [false, true] {
        let run = through_the_engine(v6, true, &inbound_meta(v6));
        let expected = TransportInjection::Receive { interface: INTERFACE.0, sub_interface: INTERFACE.1 };
        assert_eq!(run.injections, [expected], "v6 {v6}");
    }
}
