//! The inspect sample under malformed packets on the simulated filter
//! engine: IPv4 and IPv6 datagrams and segments, inbound and outbound,
//! with truncated and lying headers (IPv4 IHL and total length, IPv6
//! payload length, UDP length), IPv4 options and IPv6 extension headers,
//! zero length, metadata whose header sizes lie or are absent, and the
//! bytes split across many MDLs at random points. Each packet goes through
//! the callout (which references, retreats, clones, advances and injects
//! it), then its injection back through the engine. Verifier on and
//! collecting: no panic, no report, no leak; and where the metadata tells
//! the truth, what reaches the socket or the wire is the packet itself.
//!
//! By default a fixed seed and a few hundred episodes (an ordinary test);
//! `NDIS_RS_INSPECT_FUZZ_SEED` and `NDIS_RS_INSPECT_FUZZ_SECONDS` change
//! the run (`cargo xtask fuzz` runs it with a fresh seed for part of its
//! time).
#![allow(missing_docs, reason = "test")]
#![cfg(not(feature = "raw"))]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::{Mutex, OnceLock};

use fwps_sys::GUID;
use ndis_safe::NdisHandle;
use ndis_safe::wfp::callout::DeviceObject;
use ndis_safe::wfp::layer::{InboundTransportV4, InboundTransportV6, Layer, OutboundTransportV4, OutboundTransportV6};
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_sim::rng::Rng;
use ndis_sim::wfp::{Endpoints, Metadata};
use wfp_inspect::callout::{self, Callouts, Inspector};

static SERIAL: Mutex<()> = Mutex::new(());

fn inspector() -> &'static Inspector {
    static INSPECTOR: OnceLock<Inspector> = OnceLock::new();
    INSPECTOR.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| Inspector::new(&owner)).expect("the simulator makes the pool and the handle")
    })
}

/// A packet, as built: its bytes, the true IP header size and transport
/// header size (as far as the bytes go), and whether the headers tell the
/// truth about the lengths.
struct Built {
    bytes: Vec<u8>,
    ip: u32,
    transport: u32,
    honest: bool,
}

/// A random IPv4 or IPv6 packet with a UDP or TCP header, often malformed.
fn build(rng: &mut Rng, v6: bool) -> Built {
    let tcp = rng.chance(2);
    let payload_len = match rng.below(8) {
        0 => 0,
        1 => 1 + rng.index(3),
        7 => 1_000 + rng.index(if cfg!(miri) { 100 } else { 9_000 }),
        _ => rng.index(200),
    };
    let payload = rng.bytes(payload_len);
    let mut honest = true;
    let mut transport = Vec::new();
    transport.extend_from_slice(&(rng.next_u64() as u16).to_be_bytes());
    transport.extend_from_slice(&(rng.next_u64() as u16).to_be_bytes());
    if tcp {
        transport.extend_from_slice(&rng.bytes(8));
        let words = if rng.chance(6) {
            honest = false;
            rng.below(16) as u8
        } else {
            5
        };
        transport.push(words << 4);
        transport.extend_from_slice(&rng.bytes(7));
    } else {
        let mut len = (8 + payload.len()) as u16;
        if rng.chance(5) {
            len = rng.next_u64() as u16; // a lying UDP length
            honest = false;
        }
        transport.extend_from_slice(&len.to_be_bytes());
        transport.extend_from_slice(&[0, 0]);
    }
    let transport_len = transport.len() as u32;
    let body_len = transport.len() + payload.len();
    let proto = if tcp { 6 } else { 17 };
    let mut bytes = if v6 {
        // Extension headers: hop-by-hop, destination options, routing,
        // fragment, each 8 bytes here, chained by their next-header byte.
        let exts = if rng.chance(3) { 1 + rng.index(4) } else { 0 };
        let kinds = [0u8, 60, 43, 44];
        let mut chain = Vec::new();
        let mut next = proto;
        for i in (0..exts).rev() {
            let kind = kinds[i % kinds.len()];
            let mut h = vec![next, 0];
            h.extend_from_slice(&rng.bytes(6));
            h.extend_from_slice(&chain);
            chain = h;
            next = kind;
        }
        let mut plen = (chain.len() + body_len) as u16;
        if rng.chance(5) {
            plen = rng.next_u64() as u16; // a lying payload length
            honest = false;
        }
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&plen.to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        h.extend_from_slice(&rng.bytes(32));
        h.extend_from_slice(&chain);
        h
    } else {
        let options = if rng.chance(3) { 4 * (1 + rng.index(10)) } else { 0 };
        let mut ihl = ((20 + options) / 4) as u8;
        if rng.chance(6) {
            ihl = rng.below(16) as u8; // a lying IHL
            honest = false;
        }
        let mut total = (20 + options + body_len) as u16;
        if rng.chance(5) {
            total = rng.next_u64() as u16; // a lying total length
            honest = false;
        }
        let mut h = vec![0x40 | ihl, 0];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
        h.extend_from_slice(&rng.bytes(8));
        h.extend_from_slice(&rng.bytes(options));
        h
    };
    let ip = bytes.len() as u32;
    bytes.extend_from_slice(&transport);
    bytes.extend_from_slice(&payload);
    // Zero length, or truncated anywhere.
    if rng.chance(25) {
        bytes.clear();
        honest = false;
    } else if rng.chance(6) {
        let keep = rng.index(bytes.len() + 1);
        bytes.truncate(keep);
        honest = false;
    }
    Built { bytes, ip, transport: transport_len, honest }
}

fn ends(v6: bool) -> Endpoints {
    let (local, remote) = if v6 {
        (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6("2001:db8::7".parse().unwrap()))
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))
    };
    Endpoints {
        protocol: 17,
        local,
        remote,
        local_port: 5353,
        remote_port: 53,
        interface_index: 3,
        sub_interface_index: 1,
    }
}

#[derive(Debug, Default)]
struct Stats {
    packets: u64,
    split: u64,
    absorbed: u64,
    honest_checked: u64,
}

/// A header size for the metadata: the truth, a lie, or absent.
fn size(rng: &mut Rng, truth: u32, lies: &mut bool) -> Option<u32> {
    match rng.below(8) {
        0 => {
            *lies = true;
            None
        }
        1 => {
            *lies = true;
            Some(rng.below(120) as u32)
        }
        _ => Some(truth),
    }
}

/// One packet through the engine and back.
fn one(rng: &mut Rng, stats: &mut Stats) {
    let v6 = rng.chance(2);
    let inbound = rng.chance(2);
    let built = build(rng, v6);
    let len = built.bytes.len() as u32;
    // The stack's data offset: after both headers inbound, after the IP
    // header outbound (as far as the bytes go).
    let true_offset = if inbound { built.ip + built.transport } else { built.ip };
    let offset = true_offset.min(len);
    let mut lies = !built.honest || offset != true_offset;
    let ip_size = size(rng, built.ip, &mut lies);
    let transport_size = if inbound { size(rng, built.transport, &mut lies) } else { None };
    let meta = Metadata {
        ip_header_size: ip_size,
        transport_header_size: transport_size,
        remote_scope_id: v6.then_some(2),
        control_data: rng.chance(3).then(|| vec![16, 0, 0, 0, 0, 0, 0, 0, 41, 0, 0, 0, 50, 0, 0, 0]),
        ..Metadata::default()
    };
    // Many MDLs, cut at random points.
    let cuts: Vec<usize> = if rng.chance(3) {
        Vec::new()
    } else {
        (0..1 + rng.index(12)).map(|_| rng.index(built.bytes.len() + 1)).collect()
    };
    stats.split += u64::from(!cuts.is_empty());
    let layer = match (v6, inbound) {
        (false, true) => InboundTransportV4::ID,
        (true, true) => InboundTransportV6::ID,
        (false, false) => OutboundTransportV4::ID,
        (true, false) => OutboundTransportV6::ID,
    };
    let e = ends(v6);
    let first = ndis_sim::wfp::packet_split(layer, e, &meta, &built.bytes, offset, &cuts, inbound);
    let back = ndis_sim::wfp::reclassify_injections(layer, e, &meta, inbound);
    let reached = if inbound { ndis_sim::wfp::take_socket() } else { ndis_sim::wfp::take_wire() };
    let _ = ndis_sim::wfp::inject::take_transport_injections();
    stats.packets += 1;
    if first.absorbed {
        stats.absorbed += 1;
        assert_eq!(back.len(), 1, "the absorbed packet's clone came back");
    }
    if !lies && first.absorbed {
        // The clone starts at the IP header inbound, at the transport
        // header outbound: what arrives is the packet from there.
        let from = if inbound { 0 } else { built.ip as usize };
        assert_eq!(reached, [built.bytes[from..].to_vec()], "v6 {v6} inbound {inbound}");
        stats.honest_checked += 1;
    }
}

/// Registers the callouts as DriverEntry does, runs `packets` packets,
/// unloads.
fn episode(rng: &mut Rng, stats: &mut Stats, packets: u64) {
    let ins = inspector();
    ndis_sim::wfp::reset_filters();
    callout::install(ins);
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let callouts = Callouts::register(device).unwrap();
    {
        let engine = Engine::open(false).unwrap();
        let sublayer = SubLayer::add(&engine, GUID { Data1: 0xF022, ..GUID::default() }, 0x100).unwrap();
        let filters = (
            Filter::add(
                &engine,
                &sublayer,
                1,
                &[],
                FilterAction::callout(&callouts.inbound_v4, callout::key(false, false)),
                0,
            )
            .unwrap(),
            Filter::add(
                &engine,
                &sublayer,
                1,
                &[],
                FilterAction::callout(&callouts.inbound_v6, callout::key(false, true)),
                0,
            )
            .unwrap(),
            Filter::add(
                &engine,
                &sublayer,
                1,
                &[],
                FilterAction::callout(&callouts.outbound_v4, callout::key(true, false)),
                0,
            )
            .unwrap(),
            Filter::add(
                &engine,
                &sublayer,
                1,
                &[],
                FilterAction::callout(&callouts.outbound_v6, callout::key(true, true)),
                0,
            )
            .unwrap(),
        );
        for _ in 0..packets {
            one(rng, stats);
        }
        drop(filters);
        drop(sublayer);
    }
    assert!(callouts.unregister());
    callout::uninstall();
}

fn run(seed: u64, seconds: Option<u64>, episodes: u64, packets: u64) -> (Stats, ndis_sim::rng::Fuzzed) {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Made outside any session (its pool lives as long as the program).
    let _ = inspector();
    let mut stats = Stats::default();
    let fuzzed = ndis_sim::rng::episodes(seed, seconds, episodes, |rng| episode(rng, &mut stats, packets));
    (stats, fuzzed)
}

#[test]
fn malformed_packets_through_the_inspect_callouts_leave_no_report_and_no_leak() {
    let (seed, seconds) = ndis_sim::rng::from_env("NDIS_RS_INSPECT_FUZZ", 0x1_5BEC7);
    let (episodes, packets) = if cfg!(miri) { (2, 4) } else { (100, 40) };
    let (stats, fuzzed) = run(seed, seconds, episodes, packets);
    if !cfg!(miri) {
        assert!(stats.packets >= 1_000 && stats.split > 300 && stats.honest_checked > 50, "{stats:?}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "inspect fuzz: {} episodes, {} packets ({} split across MDLs, {} absorbed and reinjected, {} checked byte for byte), {} verifier reports, {} leaks (seed {seed})",
        fuzzed.episodes,
        stats.packets,
        stats.split,
        stats.absorbed,
        stats.honest_checked,
        fuzzed.reports,
        fuzzed.leaks
    );
}
