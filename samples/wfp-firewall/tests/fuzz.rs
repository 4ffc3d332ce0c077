//! The firewall under random traffic on the simulated filter engine: in
//! each episode the driver is loaded, then connects and accepts (IPv4 and
//! IPv6, TCP and UDP, random ports and hosts, application ids of any
//! length, odd ones and none), classifies with malformed incoming values
//! (fields missing or of the wrong type), rules, redirect and bind rules
//! added at random moments, ticks, waiting connections resumed in random
//! order, datagrams of random — truncated, empty, oversized — payloads sent
//! and received on the open connections, binds, closes; then unload.
//! Verifier on and collecting: no panic, no report, no leak, no pend left
//! (the engine's watchdog silent), every pend completed exactly once, a
//! completed connect never left waiting, a connect that waited opened or
//! refused as its completion said (outbound: the re-authorization answered
//! with the kept decision), and the open connections' packets untouched.
//!
//! The firewall reads no packet data (its layers are the ALE ones): what
//! is attacker-controlled for it are the connections' values, which this
//! fuzz varies. By default a fixed seed and a few hundred episodes;
//! `NDIS_RS_FIREWALL_FUZZ_SEED` and `NDIS_RS_FIREWALL_FUZZ_SECONDS` change
//! the run (`cargo xtask fuzz` runs it with a fresh seed for part of its
//! time).
#![allow(missing_docs, reason = "test")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::DeviceObject;
use ndis_safe::wfp::layer::{AleAuthConnectV4, AleAuthConnectV6, AleAuthRecvAcceptV4, AleAuthRecvAcceptV6, Layer};
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_sim::rng::Rng;
use ndis_sim::wfp::{Connect, Connection, Endpoints, Incoming, Metadata, Pending, Value};
use wfp_firewall::callout::{Driver, Which, key};
use wfp_firewall::firewall::Stats as Counters;
use wfp_firewall::{App, FIREWALL, Match, Verdict};

static SERIAL: Mutex<()> = Mutex::new(());

const HOSTS4: [Ipv4Addr; 3] = [Ipv4Addr::new(203, 0, 113, 1), Ipv4Addr::new(198, 51, 100, 2), Ipv4Addr::LOCALHOST];

fn host(rng: &mut Rng, v6: bool) -> IpAddr {
    if v6 {
        let all: [Ipv6Addr; 3] =
            [Ipv6Addr::LOCALHOST, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), Ipv6Addr::UNSPECIFIED];
        IpAddr::V6(all[rng.index(3)])
    } else {
        IpAddr::V4(HOSTS4[rng.index(3)])
    }
}

fn app(rng: &mut Rng) -> Vec<u8> {
    match rng.below(5) {
        0 => Vec::new(),
        1 => (0..rng.index(7)).map(|_| rng.next_u64() as u8).collect(), // odd, short
        2 => vec![0xAB; 2_000 + rng.index(3_000)],                      // very long
        n => format!("\\device\\harddiskvolume2\\app{n}.exe").encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// Local ports, one per connection of an episode: no two connections
/// share their endpoints, as no two sockets do.
static NEXT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);

fn ends(rng: &mut Rng) -> Endpoints {
    let v6 = rng.chance(2);
    Endpoints {
        protocol: [6, 17, 1, 58][rng.index(4)],
        local: if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)) },
        remote: host(rng, v6),
        local_port: NEXT_PORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        remote_port: [0, 53, 80, 443, 65535][rng.index(5)],
        interface_index: rng.below(4) as u32,
        sub_interface_index: 0,
    }
}

fn a_match(rng: &mut Rng, apps: &[Vec<u8>]) -> Match {
    let v6 = rng.chance(2);
    Match {
        remote: rng.chance(2).then(|| host(rng, v6)),
        remote_port: rng.chance(2).then(|| [53, 80, 443][rng.index(3)]),
        protocol: rng.chance(3).then(|| [6, 17][rng.index(2)]),
        app: (rng.chance(3) && !apps.is_empty()).then(|| App::of(&apps[rng.index(apps.len())])),
    }
}

/// An ALE classify with malformed incoming values: each field left out,
/// or of another type, at random.
fn malformed(rng: &mut Rng) {
    let layers = [AleAuthConnectV4::ID, AleAuthConnectV6::ID, AleAuthRecvAcceptV4::ID, AleAuthRecvAcceptV6::ID];
    let layer = layers[rng.index(4)];
    let e = ends(rng);
    let mut incoming = Incoming::with_endpoints(layer, e, Some(&[1, 2, 3])).unwrap();
    for i in 0..incoming.values.len() as u32 {
        match rng.below(4) {
            0 => {
                incoming.set(i, Value::Empty);
            }
            1 => {
                incoming.set(
                    i,
                    [
                        Value::U8(7),
                        Value::U16(7),
                        Value::U32(7),
                        Value::U64(7),
                        Value::Bytes16([7; 16]),
                        Value::Blob(vec![]),
                    ][rng.index(6)]
                    .clone(),
                );
            }
            _ => {}
        }
    }
    let meta = Metadata { flow_handle: Some(rng.next_u64()), process_id: Some(4), ..Metadata::default() };
    // SAFETY: no layer data at the authorization layers here.
    let _ = unsafe { ndis_sim::wfp::classify_layer(&incoming, &meta, std::ptr::null_mut()) };
}

#[derive(Debug, Default)]
struct Stats {
    connects: u64,
    opened_after_waiting: u64,
    refused: u64,
    ticks: u64,
    datagrams: u64,
}

fn episode(rng: &mut Rng, stats: &mut Stats) {
    ndis_sim::wfp::reset_filters();
    let _ = ndis_sim::wfp::completions();
    let _ = ndis_sim::wfp::redirections();
    let _ = ndis_sim::wfp::bind_redirections();
    FIREWALL.reset();
    FIREWALL.set_timeout(1 + rng.below(5));
    FIREWALL.set_default(if rng.chance(2) { Verdict::Permit } else { Verdict::Block });
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let driver = Driver::load(device).unwrap();
    {
        let c = driver.callouts();
        let engine = Engine::open(false).unwrap();
        let sublayer = SubLayer::add(&engine, GUID { Data1: 0xF2F2, ..GUID::default() }, 0x100).unwrap();
        let filters = (
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.connect_v4, key(Which::ConnectV4)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.connect_v6, key(Which::ConnectV6)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.accept_v4, key(Which::AcceptV4)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.accept_v6, key(Which::AcceptV6)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.redirect_v4, key(Which::RedirectV4)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.redirect_v6, key(Which::RedirectV6)), 0)
                .unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.bind_v4, key(Which::BindV4)), 0).unwrap(),
            Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.bind_v6, key(Which::BindV6)), 0).unwrap(),
        );
        let apps: Vec<Vec<u8>> = (0..4).map(|_| app(rng)).collect();
        let mut waiting: Vec<Pending> = Vec::new();
        let mut open: Vec<Connection> = Vec::new();
        let steps = rng.below(if cfg!(miri) { 12 } else { 80 });
        for _ in 0..steps {
            match rng.below(14) {
                0..=2 => {
                    let a = &apps[rng.index(apps.len())];
                    let records = open.get(rng.index(open.len() + 1)).and_then(Connection::records);
                    let connect = if rng.chance(4) {
                        Connection::accept(ends(rng), a)
                    } else {
                        Connection::connect(ends(rng), a, records.filter(|_| rng.chance(2)))
                    };
                    stats.connects += 1;
                    match connect {
                        Connect::Pending(p) => waiting.push(p),
                        Connect::Open(c) => open.push(c),
                        Connect::Refused(_) => stats.refused += 1,
                    }
                }
                3 => {
                    let m = a_match(rng, &apps);
                    FIREWALL.add_rule(m, if rng.chance(2) { Verdict::Permit } else { Verdict::Block });
                }
                4 => {
                    let m = a_match(rng, &apps);
                    let v6 = rng.chance(2);
                    let to = SocketAddr::new(host(rng, v6), rng.next_u64() as u16);
                    FIREWALL.add_redirect(m, to, rng.below(10_000) as u32);
                }
                5 => {
                    let v6 = rng.chance(2);
                    FIREWALL.add_bind(App::of(&apps[rng.index(apps.len())]), host(rng, v6));
                }
                6 | 7 => {
                    FIREWALL.tick();
                    stats.ticks += 1;
                }
                8 => {
                    if !waiting.is_empty() {
                        let p = waiting.swap_remove(rng.index(waiting.len()));
                        let completed = p.completed_with();
                        match p.resume() {
                            Connect::Pending(p) => {
                                assert!(completed.is_none(), "a completed connect goes on");
                                waiting.push(p);
                            }
                            Connect::Open(c) => {
                                // Outbound, the re-authorization decided:
                                // with the decision kept at the completion.
                                assert_eq!(completed, Some(FWP_ACTION_PERMIT), "opened as completed");
                                stats.opened_after_waiting += 1;
                                open.push(c);
                            }
                            Connect::Refused(_) => {
                                assert_eq!(completed, Some(FWP_ACTION_BLOCK), "refused as completed");
                                stats.refused += 1;
                            }
                        }
                    }
                }
                9 | 10 => {
                    if !open.is_empty() {
                        let c = &open[rng.index(open.len())];
                        let len = match rng.below(4) {
                            0 => 0,
                            1 => 60_000 + rng.index(5_000),
                            _ => rng.index(1_500),
                        };
                        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                        let v = if rng.chance(2) { c.send(&payload) } else { c.receive(&payload) };
                        assert!(v.passes(), "the firewall does not touch an open connection's packets");
                        stats.datagrams += 1;
                        let _ = (ndis_sim::wfp::take_socket(), ndis_sim::wfp::take_wire());
                    }
                }
                11 => {
                    if !open.is_empty() {
                        open.swap_remove(rng.index(open.len())).close();
                    }
                }
                12 => {
                    let v6 = rng.chance(2);
                    let local = SocketAddr::new(host(rng, v6), rng.next_u64() as u16);
                    let _ = ndis_sim::wfp::bind(local, [6, 17][rng.index(2)], &apps[rng.index(apps.len())]);
                }
                _ => malformed(rng),
            }
        }
        for c in open {
            c.close();
        }
        drop(waiting); // unload completes them
        drop(filters);
        drop(sublayer);
    }
    assert!(driver.unload());
    let pended = Counters::get(&FIREWALL.stats.pended);
    let completed = Counters::get(&FIREWALL.stats.permitted) + Counters::get(&FIREWALL.stats.blocked);
    assert_eq!(pended, completed, "every pend completed once");
    assert!(ndis_sim::wfp::outstanding_pends().is_empty(), "{:?}", ndis_sim::wfp::outstanding_pends());
    assert_eq!(ndis_sim::wfp::redirect_handles(), 0);
}

#[test]
fn random_connections_through_the_firewall_leave_no_report_no_leak_and_no_pend() {
    let (seed, seconds) = ndis_sim::rng::from_env("NDIS_RS_FIREWALL_FUZZ", 0xF12E_3A11);
    let episodes = if cfg!(miri) { 2 } else { 200 };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut stats = Stats::default();
    let fuzzed = ndis_sim::rng::episodes(seed, seconds, episodes, |rng| episode(rng, &mut stats));
    if !cfg!(miri) {
        assert!(stats.connects >= 1_000 && stats.opened_after_waiting > 50 && stats.ticks > 500, "{stats:?}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "firewall fuzz: {} episodes, {} connects ({} opened after waiting, {} refused), {} ticks, {} datagrams, {} verifier reports, {} leaks (seed {seed})",
        fuzzed.episodes,
        stats.connects,
        stats.opened_after_waiting,
        stats.refused,
        stats.ticks,
        stats.datagrams,
        fuzzed.reports,
        fuzzed.leaks
    );
}
