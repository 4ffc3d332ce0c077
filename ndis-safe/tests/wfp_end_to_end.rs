//! End to end on the simulated engine: a driver's entry registers typed
//! callouts at the inbound and outbound transport layers, IPv4 and IPv6,
//! and adds their filters; packets go through the engine; what the
//! callouts decide is what reaches the socket and the wire; unload deletes
//! the filters and unregisters. Verifier on: no report, no leak.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{InboundTransportV4, InboundTransportV6, Layer, OutboundTransportV4, OutboundTransportV6};
use ndis_safe::wfp::mgmt::{Condition, Engine, Filter, FilterAction, Provider, SubLayer};
use ndis_sim::wfp::{Endpoints, Metadata};

/// The port the firewall blocks.
const TELNET: u16 = 23;

macro_rules! port_block {
    ($name:ident, $layer:ident) => {
        /// Blocks the telnet port at its layer; lets its own IP header
        /// check decide the rest: a packet whose IP version nibble is not
        /// the layer's family is blocked.
        struct $name;
        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(mut c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let w = match action {
                    Action::Writable(w) => w,
                    Action::ReadOnly(r) => return r.leave(),
                };
                if c.get($layer::IP_REMOTE_PORT) == Some(TELNET) {
                    return w.block();
                }
                let version =
                    if matches!(<$layer as Layer>::FAMILY, ndis_safe::wfp::layer::Family::V4) { 4 } else { 6 };
                let back = c.bytes_to_ip_header();
                let ok = match (back, c.data()) {
                    (Some(back), Some(lent)) => lent
                        .with_retreat(back, |nbl| {
                            let mut b = [0u8; 1];
                            nbl.first().and_then(|nb| nb.peek(&mut b).map(|s| s[0] >> 4 == version))
                        })
                        .ok()
                        .flatten()
                        .unwrap_or(false),
                    _ => false,
                };
                if ok { w.permit() } else { w.block() }
            }
        }
    };
}
port_block!(In4, InboundTransportV4);
port_block!(In6, InboundTransportV6);
port_block!(Out4, OutboundTransportV4);
port_block!(Out6, OutboundTransportV6);

/// What the driver keeps from its entry to its unload.
struct Driver<'e> {
    in4: Registration<In4>,
    in6: Registration<In6>,
    out4: Registration<Out4>,
    out6: Registration<Out6>,
    /// Filters, then their sublayer: dropped in this order.
    filters: Option<Filters<'e>>,
    _sublayer: SubLayer<'e>,
}

struct Filters<'e> {
    _in4: Filter<'e, InboundTransportV4>,
    _in6: Filter<'e, InboundTransportV6>,
    _out4: Filter<'e, OutboundTransportV4>,
    _out6: Filter<'e, OutboundTransportV6>,
}

fn key(n: u32) -> GUID {
    GUID { Data1: 0xE2E0 + n, Data2: 0xE2E, Data3: 0, Data4: *b"e2e-test" }
}

/// DriverEntry: the only `unsafe` is wrapping the device object. The
/// callouts are registered, then their policy is added through the
/// management API in one transaction.
fn driver_entry(engine: &Engine) -> Result<Driver<'_>, ndis_safe::Error> {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let flags = CalloutFlags::NONE;
    let in4 = Registration::<In4>::register(device, key(1), flags, Version::V0)?;
    let in6 = Registration::<In6>::register(device, key(2), flags, Version::V1)?;
    let out4 = Registration::<Out4>::register(device, key(3), flags, Version::V2)?;
    let out6 = Registration::<Out6>::register(device, key(4), flags, Version::V3)?;
    let sublayer = SubLayer::add(engine, key(5), 0x100)?;
    let filters = engine.transaction(|_txn| {
        Ok(Filters {
            _in4: Filter::add(engine, &sublayer, 10, &[], FilterAction::callout(&in4, key(1)), 0)?,
            _in6: Filter::add(engine, &sublayer, 10, &[], FilterAction::callout(&in6, key(2)), 0)?,
            _out4: Filter::add(engine, &sublayer, 10, &[], FilterAction::callout(&out4, key(3)), 0)?,
            _out6: Filter::add(engine, &sublayer, 10, &[], FilterAction::callout(&out6, key(4)), 0)?,
        })
    })?;
    Ok(Driver { in4, in6, out4, out6, filters: Some(filters), _sublayer: sublayer })
}

/// Unload: filters first (they reference the callouts), then unregister.
fn unload(mut driver: Driver<'_>) {
    drop(driver.filters.take());
    driver.in4.unregister().unwrap();
    driver.in6.unregister().unwrap();
    driver.out4.unregister().unwrap();
    driver.out6.unregister().unwrap();
}

fn udp(ip: &[u8], port: u16) -> Vec<u8> {
    let mut p = ip.to_vec();
    p.extend_from_slice(&[0x30, 0x39]);
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&[0, 12, 0, 0]);
    p.extend_from_slice(b"data");
    p
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

fn ends(v6: bool, remote_port: u16) -> Endpoints {
    let (local, remote) = if v6 {
        (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6("2001:db8::1".parse().unwrap()))
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
    };
    Endpoints {
        protocol: 17,
        local,
        remote,
        local_port: 12345,
        remote_port,
        interface_index: 4,
        sub_interface_index: 4,
    }
}

#[test]
fn packets_through_the_engine_ipv4_and_ipv6_inbound_and_outbound() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let engine = Engine::open(false).unwrap();
    let driver = driver_entry(&engine).unwrap();
    for v6 in [false, true] {
        let ip = if v6 { v6_header() } else { v4_header() };
        let ip_len = ip.len() as u32;
        let (inbound_layer, outbound_layer) = if v6 {
            (InboundTransportV6::ID, OutboundTransportV6::ID)
        } else {
            (InboundTransportV4::ID, OutboundTransportV4::ID)
        };
        let inbound_meta =
            Metadata { ip_header_size: Some(ip_len), transport_header_size: Some(8), ..Metadata::default() };
        let outbound_meta = Metadata { ip_header_size: Some(ip_len), ..Metadata::default() };
        for port in [53, TELNET] {
            let packet = udp(&ip, port);
            // Inbound: the layer's data starts after the UDP header.
            let v = ndis_sim::wfp::packet(inbound_layer, ends(v6, port), &inbound_meta, &packet, ip_len + 8, true);
            // Outbound: at the UDP header.
            let w = ndis_sim::wfp::packet(outbound_layer, ends(v6, port), &outbound_meta, &packet, ip_len, false);
            let expect = if port == TELNET { FWP_ACTION_BLOCK } else { FWP_ACTION_PERMIT };
            assert_eq!((v.action, w.action), (expect, expect), "v6 {v6}, port {port}");
            let (socket, wire) = (ndis_sim::wfp::take_socket(), ndis_sim::wfp::take_wire());
            if port == TELNET {
                assert!(socket.is_empty() && wire.is_empty());
            } else {
                assert_eq!((socket, wire), (vec![packet.clone()], vec![packet.clone()]));
            }
        }
        // A packet that lies about its version is blocked by the callout's check.
        let mut liar = udp(&ip, 53);
        liar[0] = if v6 { 0x45 } else { 0x65 };
        let v = ndis_sim::wfp::packet(inbound_layer, ends(v6, 53), &inbound_meta, &liar, ip_len + 8, true);
        assert_eq!(v.action, FWP_ACTION_BLOCK);
        assert!(ndis_sim::wfp::take_socket().is_empty());
    }
    unload(driver);
    drop(engine);
    assert_eq!(ndis_sim::registered_callouts(), 0);
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
}

#[test]
fn a_callout_still_referenced_by_its_filter_cannot_unload() {
    let _session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let engine = Engine::open(true).unwrap();
    let mut driver = driver_entry(&engine).unwrap();
    // Unregistering before deleting the filters: busy, handed back.
    let Err(busy) = driver.in4.unregister() else { panic!("unregistered while referenced") };
    driver.in4 = busy.registration;
    unload(driver);
}

#[test]
fn a_failed_transaction_adds_nothing() {
    let _session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let engine = Engine::open(false).unwrap();
    let sublayer = SubLayer::add(&engine, key(9), 1).unwrap();
    let r: Result<(), _> = engine.transaction(|_| {
        let f = Filter::<OutboundTransportV4>::add(
            &engine,
            &sublayer,
            1,
            &[Condition::remote_port(TELNET), Condition::remote_address(Ipv4Addr::new(192, 0, 2, 1))],
            FilterAction::block(),
            0,
        )?;
        std::mem::forget(f); // kept by the transaction, if it committed
        Err(ndis_safe::Error::InvalidArgument)
    });
    assert!(r.is_err());
    let w = ndis_sim::wfp::packet(
        OutboundTransportV4::ID,
        ends(false, TELNET),
        &Metadata { ip_header_size: Some(20), ..Metadata::default() },
        &udp(&v4_header(), TELNET),
        20,
        false,
    );
    assert_eq!(w.action, FWP_ACTION_PERMIT, "the aborted transaction's filter is gone");
    ndis_sim::wfp::take_wire();
    // Committed, the same filter blocks telnet to that address only.
    let f = engine
        .transaction(|_| {
            Filter::<OutboundTransportV4>::add(
                &engine,
                &sublayer,
                1,
                &[Condition::remote_port(TELNET), Condition::remote_address(Ipv4Addr::new(192, 0, 2, 1))],
                FilterAction::block(),
                0,
            )
        })
        .unwrap();
    let meta = Metadata { ip_header_size: Some(20), ..Metadata::default() };
    let blocked =
        ndis_sim::wfp::packet(OutboundTransportV4::ID, ends(false, TELNET), &meta, &udp(&v4_header(), 23), 20, false);
    assert_eq!(blocked.action, FWP_ACTION_BLOCK);
    let mut elsewhere = ends(false, TELNET);
    elsewhere.remote = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99));
    let passed = ndis_sim::wfp::packet(OutboundTransportV4::ID, elsewhere, &meta, &udp(&v4_header(), 23), 20, false);
    assert_eq!(passed.action, FWP_ACTION_PERMIT);
    assert_eq!(ndis_sim::wfp::take_wire().len(), 1);
    drop(f);
}

#[test]
fn providers_go_with_their_value_or_their_dynamic_session() {
    let _session = ndis_sim::Session::new();
    let before = ndis_sim::wfp::mgmt::providers();
    {
        let engine = Engine::open(false).unwrap();
        let provider = Provider::add(&engine, key(20)).unwrap();
        assert!(Provider::add(&engine, key(20)).is_err(), "one provider per key");
        assert_eq!(ndis_sim::wfp::mgmt::providers(), before + 1);
        drop(provider);
        assert_eq!(ndis_sim::wfp::mgmt::providers(), before);
    }
    let engine = Engine::open(true).unwrap();
    std::mem::forget(Provider::add(&engine, key(21)).unwrap());
    assert_eq!(ndis_sim::wfp::mgmt::providers(), before + 1);
    drop(engine);
    assert_eq!(ndis_sim::wfp::mgmt::providers(), before, "the dynamic session took it with it");
}
