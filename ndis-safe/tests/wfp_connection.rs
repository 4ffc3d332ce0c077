//! Connections through the simulated engine: an application firewall at
//! the ALE connect layers (typed, app id read from the classify), then
//! datagrams and TCP segments sent and received at the transport layers,
//! IPv4 and IPv6, reaching the wire and the socket.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;

use fwps_sys::{FWP_ACTION_BLOCK, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{AleAuthConnectV4, AleAuthConnectV6, InboundTransportV6};
use ndis_safe::wfp::mgmt::{Condition, Engine, Filter, FilterAction, SubLayer};
use ndis_sim::wfp::{Connection, Endpoints, TCP, UDP};

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

macro_rules! app_firewall {
    ($name:ident, $layer:ident) => {
        /// Blocks connects by `bad.exe`.
        struct $name;
        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let bad = c.get($layer::ALE_APP_ID).is_some_and(|app| app == utf16("\\device\\bad.exe"));
                match action {
                    Action::Writable(w) if bad => w.block(),
                    Action::Writable(w) => w.permit(),
                    Action::ReadOnly(r) => r.leave(),
                }
            }
        }
    };
}
app_firewall!(Apps4, AleAuthConnectV4);
app_firewall!(Apps6, AleAuthConnectV6);

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn ends(v6: bool, protocol: u8, remote_port: u16) -> Endpoints {
    let (local, remote) = if v6 {
        (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6("2001:db8::80".parse().unwrap()))
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)), IpAddr::V4(Ipv4Addr::new(198, 51, 100, 80)))
    };
    Endpoints { protocol, local, remote, local_port: 49152, remote_port, interface_index: 5, sub_interface_index: 5 }
}

#[test]
fn connections_open_send_and_receive_through_the_engine() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let key = |n: u32| GUID { Data1: 0xC0AA + n, ..GUID::default() };
    let apps4 = Registration::<Apps4>::register(device(), key(1), CalloutFlags::NONE, Version::V2).unwrap();
    let apps6 = Registration::<Apps6>::register(device(), key(2), CalloutFlags::NONE, Version::V3).unwrap();
    let engine = Engine::open(true).unwrap();
    let sublayer = SubLayer::add(&engine, key(3), 0x10).unwrap();
    let filters = engine
        .transaction(|_| {
            Ok((
                Filter::add(&engine, &sublayer, 2, &[], FilterAction::callout(&apps4, key(1)), 0)?,
                Filter::add(&engine, &sublayer, 2, &[], FilterAction::callout(&apps6, key(2)), 0)?,
                // Inbound telnet over IPv6 is blocked by a plain filter.
                Filter::<InboundTransportV6>::add(
                    &engine,
                    &sublayer,
                    1,
                    &[Condition::local_port(23)],
                    FilterAction::block(),
                    0,
                )?,
            ))
        })
        .unwrap();

    for v6 in [false, true] {
        for protocol in [UDP, TCP] {
            let good = Connection::open(ends(v6, protocol, 80), true, &utf16("\\device\\good.exe")).unwrap();
            assert!(good.send(b"request").passes());
            assert!(good.receive(b"response").passes());
            let (wire, socket) = (ndis_sim::wfp::take_wire(), ndis_sim::wfp::take_socket());
            assert_eq!((wire.len(), socket.len()), (1, 1));
            assert_eq!(wire[0][0] >> 4, if v6 { 6 } else { 4 }, "the IP header is first on the wire");
            assert!(wire[0].ends_with(b"request") && socket[0].ends_with(b"response"));
            good.close();

            let refused = Connection::open(ends(v6, protocol, 80), true, &utf16("\\device\\bad.exe")).unwrap_err();
            assert_eq!(refused.0.action, FWP_ACTION_BLOCK);
        }
    }
    // An inbound telnet connection accepted (no ALE filter at accept), its
    // segments blocked at the transport layer by the port condition.
    let mut telnet = ends(true, TCP, 50000);
    telnet.local_port = 23;
    let conn = Connection::open(telnet, false, &utf16("\\device\\telnetd.exe")).unwrap();
    assert_eq!(conn.receive(b"login").action, FWP_ACTION_BLOCK);
    assert!(ndis_sim::wfp::take_socket().is_empty());
    assert!(conn.send(b"banner").passes());
    assert_eq!(ndis_sim::wfp::take_wire().len(), 1);
    conn.close();

    drop(filters);
    drop(sublayer);
    drop(engine);
    apps4.unregister().unwrap();
    apps6.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
