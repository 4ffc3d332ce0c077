//! Part 1: packets through the simulated filter engine. A driver's entry
//! registers a typed callout at the outbound and inbound transport layers
//! (IPv4 and IPv6) and adds its filters through the management API; a UDP
//! association is opened and datagrams go both ways. The callout reads the
//! layer's incoming values and metadata through typed accessors, draws the
//! NBL the engine lends it, and decides; the engine's verdict and what
//! reached the wire or the socket are printed after each.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;

use fwps_sys::GUID;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{InboundTransportV4, InboundTransportV6, OutboundTransportV4, OutboundTransportV6};
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_sim::wfp::{Connection, Endpoints, UDP, Verdict};

use crate::draw;

/// The remote port the callout blocks.
const BLOCKED_PORT: u16 = 9;

macro_rules! inspect_callout {
    ($name:ident, $layer:ident, $what:literal) => {
        /// Prints what the engine gives it, draws the packet, and blocks
        /// datagrams whose remote port is the discard port.
        struct $name;
        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(mut c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let port = c.get($layer::IP_REMOTE_PORT);
                println!(
                    "== classify at {}: remote {:?} port {:?}, protocol {:?}, interface {:?}; \
                     metadata: IP header {:?} bytes, transport header {:?} bytes",
                    $what,
                    c.get($layer::IP_REMOTE_ADDRESS),
                    port,
                    c.get($layer::IP_PROTOCOL),
                    c.get($layer::INTERFACE_INDEX),
                    c.ip_header_size(),
                    c.transport_header_size(),
                );
                if let Some(lent) = c.data() {
                    draw("the NBL the engine lends the callout (its data at the layer's offset)", lent);
                }
                let w = match action {
                    Action::Writable(w) => w,
                    Action::ReadOnly(r) => {
                        println!("== no write right: the callout leaves the decision as it is");
                        return r.leave();
                    }
                };
                if port == Some(BLOCKED_PORT) {
                    println!("== the callout decides: block (remote port {BLOCKED_PORT})");
                    w.block()
                } else {
                    println!("== the callout decides: permit");
                    w.permit()
                }
            }
        }
    };
}
inspect_callout!(Out4, OutboundTransportV4, "OUTBOUND_TRANSPORT_V4");
inspect_callout!(In4, InboundTransportV4, "INBOUND_TRANSPORT_V4");
inspect_callout!(Out6, OutboundTransportV6, "OUTBOUND_TRANSPORT_V6");
inspect_callout!(In6, InboundTransportV6, "INBOUND_TRANSPORT_V6");

fn key(n: u32) -> GUID {
    GUID { Data1: 0x1A5B_0000 + n, Data2: 0x4e61, Data3: 0x6e64, Data4: *b"inspect!" }
}

fn action(a: u32) -> &'static str {
    match a {
        fwps_sys::FWP_ACTION_PERMIT => "PERMIT",
        fwps_sys::FWP_ACTION_BLOCK => "BLOCK",
        fwps_sys::FWP_ACTION_CONTINUE => "CONTINUE",
        _ => "?",
    }
}

fn verdict(what: &str, v: &Verdict) {
    let filters: Vec<String> = v.trace.iter().map(|(id, a)| format!("filter {id} said {}", action(*a))).collect();
    let action = action(v.action);
    println!("== the engine's verdict on the {what}: {action} (absorbed: {}; {})", v.absorbed, filters.join(", "));
    let (wire, socket) = (ndis_sim::wfp::take_wire(), ndis_sim::wfp::take_socket());
    println!("== reached the wire: {} packet(s); the socket: {} packet(s)", wire.len(), socket.len());
}

/// Registers the callouts (as a DriverEntry does), adds a filter per layer
/// in one transaction, runs datagrams both ways over IPv4 and IPv6, then
/// unloads: filters deleted, callouts unregistered.
pub fn run() -> Result<(), ndis_safe::Error> {
    ndis_sim::wfp::reset_filters();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let flags = CalloutFlags::NONE;
    let out4 = Registration::<Out4>::register(device, key(1), flags, Version::V1)?;
    let in4 = Registration::<In4>::register(device, key(2), flags, Version::V1)?;
    let out6 = Registration::<Out6>::register(device, key(3), flags, Version::V1)?;
    let in6 = Registration::<In6>::register(device, key(4), flags, Version::V1)?;
    let engine = Engine::open(false)?;
    let sublayer = SubLayer::add(&engine, key(5), 0x100)?;
    let filters = engine.transaction(|_| {
        Ok((
            Filter::add(&engine, &sublayer, 10, &[], FilterAction::callout(&out4, key(1)), 0)?,
            Filter::add(&engine, &sublayer, 10, &[], FilterAction::callout(&in4, key(2)), 0)?,
            Filter::add(&engine, &sublayer, 10, &[], FilterAction::callout(&out6, key(3)), 0)?,
            Filter::add(&engine, &sublayer, 10, &[], FilterAction::callout(&in6, key(4)), 0)?,
        ))
    })?;
    println!("== callouts registered (FwpsCalloutRegister1) and four filters added in one transaction");

    let ipv4 = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let ipv6 = (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6("2001:db8::7".parse().unwrap_or(Ipv6Addr::UNSPECIFIED)));
    for (family, (local, remote)) in [("IPv4", ipv4), ("IPv6", ipv6)] {
        for remote_port in [53, BLOCKED_PORT] {
            let ends = Endpoints {
                protocol: UDP,
                local,
                remote,
                local_port: 50000,
                remote_port,
                interface_index: 4,
                sub_interface_index: 1,
            };
            println!("\n######## {family} UDP {local}:50000 <-> {remote}:{remote_port}");
            let Ok(conn) = Connection::open(ends, true, b"") else {
                println!("== the connection was refused at ALE");
                continue;
            };
            verdict("datagram sent", &conn.send(b"query"));
            verdict("datagram received", &conn.receive(b"answer"));
            conn.close();
        }
    }

    drop(filters);
    drop(sublayer);
    drop(engine);
    let all =
        [out4.unregister().is_ok(), in4.unregister().is_ok(), out6.unregister().is_ok(), in6.unregister().is_ok()];
    println!("\n== unload: filters deleted, callouts unregistered: {}", all.iter().all(|ok| *ok));
    Ok(())
}
