//! The firewall end to end on the simulated filter engine: loaded as its
//! `DriverEntry` loads it (redirect handle, eight callouts), filters added
//! through the management API, connects and accepts over IPv4 and IPv6
//! that are pended, decided by the rule table at a tick, completed, and —
//! outbound — re-authorized with the kept decision; connections nobody
//! decides for completed with the default on timeout; connects redirected
//! (and the proxy's own connection left alone), binds redirected; then
//! unloaded as its unload does. Verifier on: no report, no leak, and the
//! engine's pend watchdog silent.
#![allow(missing_docs, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::DeviceObject;
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_sim::wfp::{Connect, Connection, Endpoints, TCP, UDP};
use wfp_firewall::callout::{Driver, Which, key};
use wfp_firewall::firewall::Stats;
use wfp_firewall::{App, FIREWALL, Match, Verdict};

/// The engine and the firewall are one per process: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn app(path: &str) -> Vec<u8> {
    path.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn browser() -> Vec<u8> {
    app("\\device\\harddiskvolume2\\apps\\browser.exe")
}

fn local(v6: bool) -> IpAddr {
    if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)) }
}

fn remote(v6: bool) -> IpAddr {
    if v6 { IpAddr::V6("2001:db8::80".parse().unwrap()) } else { IpAddr::V4(Ipv4Addr::new(203, 0, 113, 80)) }
}

fn ends(v6: bool, protocol: u8, remote_port: u16) -> Endpoints {
    Endpoints {
        protocol,
        local: local(v6),
        remote: remote(v6),
        local_port: 49_152,
        remote_port,
        interface_index: 4,
        sub_interface_index: 0,
    }
}

/// Loads the driver as `DriverEntry` does, adds a filter for each callout
/// through the management API, runs `f`, deletes the filters and unloads
/// as unload does; then the verifier's verdict, the watchdog's, and the
/// redirect handles'.
fn with_driver(f: impl FnOnce()) {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let _ = ndis_sim::wfp::completions();
    let _ = ndis_sim::wfp::redirections();
    let _ = ndis_sim::wfp::bind_redirections();
    FIREWALL.reset();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let driver = Driver::load(device).unwrap();
    assert_eq!(ndis_sim::wfp::redirect_handles(), 1);
    {
        let c = driver.callouts();
        let engine = Engine::open(false).unwrap();
        let sublayer = SubLayer::add(&engine, GUID { Data1: 0xF1AE, ..GUID::default() }, 0x200).unwrap();
        let filters = engine
            .transaction(|_| {
                Ok((
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.connect_v4, key(Which::ConnectV4)),
                        0,
                    )?,
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.connect_v6, key(Which::ConnectV6)),
                        0,
                    )?,
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.accept_v4, key(Which::AcceptV4)),
                        0,
                    )?,
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.accept_v6, key(Which::AcceptV6)),
                        0,
                    )?,
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.redirect_v4, key(Which::RedirectV4)),
                        0,
                    )?,
                    Filter::add(
                        &engine,
                        &sublayer,
                        1,
                        &[],
                        FilterAction::callout(&c.redirect_v6, key(Which::RedirectV6)),
                        0,
                    )?,
                    Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.bind_v4, key(Which::BindV4)), 0)?,
                    Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&c.bind_v6, key(Which::BindV6)), 0)?,
                ))
            })
            .unwrap();
        f();
        drop(filters);
        drop(sublayer);
        drop(engine);
    }
    assert!(driver.unload(), "no filter left referencing the callouts");
    assert_eq!(ndis_sim::registered_callouts(), 0);
    assert_eq!(ndis_sim::wfp::redirect_handles(), 0, "the redirect handle destroyed");
    assert!(ndis_sim::wfp::outstanding_pends().is_empty(), "{:?}", ndis_sim::wfp::outstanding_pends());
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

fn pending(c: Connect) -> ndis_sim::wfp::Pending {
    match c {
        Connect::Pending(p) => p,
        other => panic!("expected the connect to wait on the callout, got {other:?}"),
    }
}

fn count(c: &std::sync::atomic::AtomicU64) -> u64 {
    Stats::get(c)
}

#[test]
fn a_connect_a_rule_permits_is_pended_completed_once_and_reauthorized() {
    for v6 in [false, true] {
        with_driver(|| {
            let e = ends(v6, TCP, 443);
            let waiting = pending(Connection::connect(e, &browser(), None));
            assert_eq!(FIREWALL.waiting(), 1);
            assert!(!waiting.is_completed());
            // Nobody has decided yet: a tick with no rule leaves it waiting.
            assert_eq!(FIREWALL.tick(), 0);
            let waiting = pending(waiting.resume());
            // The rule arrives (as from the service); the next tick decides.
            assert!(FIREWALL.add_rule(
                Match { remote: Some(remote(v6)), remote_port: Some(443), ..Match::default() },
                Verdict::Permit
            ));
            assert_eq!(FIREWALL.tick(), 1);
            assert_eq!(FIREWALL.tick(), 0, "completed once");
            let completions = ndis_sim::wfp::completions();
            assert_eq!(completions.len(), 1, "v6 {v6}");
            assert_eq!(completions[0].1.action, FWP_ACTION_PERMIT);
            // The engine re-authorizes; the callout answers with the decision.
            let conn = waiting.resume().open().expect("the connection opens");
            assert_eq!(conn.ends(), e);
            assert_eq!(count(&FIREWALL.stats.reauthorized_as_decided), 1);
            assert_eq!(FIREWALL.waiting(), 0);
            conn.close();
        });
    }
}

#[test]
fn a_connect_a_rule_blocks_is_refused_after_its_reauthorization() {
    for v6 in [false, true] {
        with_driver(|| {
            assert!(FIREWALL.add_rule(Match { protocol: Some(UDP), ..Match::default() }, Verdict::Block));
            let waiting = pending(Connection::connect(ends(v6, UDP, 53), &browser(), None));
            assert_eq!(FIREWALL.tick(), 1);
            assert_eq!(ndis_sim::wfp::completions()[0].1.action, FWP_ACTION_BLOCK);
            match waiting.resume() {
                Connect::Refused(r) => assert_eq!(r.0.action, FWP_ACTION_BLOCK, "v6 {v6}"),
                other => panic!("v6 {v6}: {other:?}"),
            }
            assert_eq!(count(&FIREWALL.stats.blocked), 1);
            // A TCP connect to the same host is another connection: it waits.
            let other = pending(Connection::connect(ends(v6, TCP, 53), &browser(), None));
            assert_eq!(FIREWALL.tick(), 0);
            drop(other); // unload completes it with the default
        });
    }
}

#[test]
fn a_connect_nobody_decides_for_times_out_to_the_default() {
    for (v6, default) in
        [(false, Verdict::Block), (true, Verdict::Block), (false, Verdict::Permit), (true, Verdict::Permit)]
    {
        with_driver(|| {
            FIREWALL.set_timeout(3);
            FIREWALL.set_default(default);
            let waiting = pending(Connection::connect(ends(v6, TCP, 8080), &browser(), None));
            assert_eq!(FIREWALL.tick(), 0);
            assert_eq!(FIREWALL.tick(), 0);
            assert!(!waiting.is_completed());
            assert_eq!(FIREWALL.tick(), 1, "the third tick is the timeout");
            assert_eq!(count(&FIREWALL.stats.timed_out), 1);
            let result = waiting.resume();
            match default {
                Verdict::Permit => {
                    result.open().expect("permitted by default").close();
                }
                Verdict::Block => assert!(matches!(result, Connect::Refused(_)), "v6 {v6}: {result:?}"),
            }
        });
    }
}

#[test]
fn an_accept_is_pended_and_its_completion_decides() {
    for v6 in [false, true] {
        with_driver(|| {
            let trusted = Match { remote: Some(remote(v6)), protocol: Some(TCP), ..Match::default() };
            assert!(FIREWALL.add_rule(trusted, Verdict::Permit));
            let e = ends(v6, TCP, 50_000);
            let waiting = pending(Connection::accept(e, &app("\\device\\harddiskvolume2\\srv\\server.exe")));
            assert_eq!(FIREWALL.tick(), 1);
            let conn = waiting.resume().open().expect("accepted");
            assert_eq!(count(&FIREWALL.stats.reauthorized), 0, "no re-authorization inbound");
            conn.close();
            // From another host: nobody decides, the default blocks.
            let stranger = Endpoints {
                remote: if v6 { "2001:db8::bad".parse().unwrap() } else { Ipv4Addr::new(198, 51, 100, 66).into() },
                ..e
            };
            let waiting = pending(Connection::accept(stranger, &browser()));
            for _ in 0..wfp_firewall::firewall::DEFAULT_TIMEOUT {
                FIREWALL.tick();
            }
            assert!(matches!(waiting.resume(), Connect::Refused(_)));
        });
    }
}

#[test]
fn connects_are_redirected_to_the_proxy_and_the_proxy_connection_is_not_redirected_again() {
    for v6 in [false, true] {
        with_driver(|| {
            const PROXY_PID: u32 = 4711;
            let proxy = if v6 {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 8080)
            } else {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)
            };
            assert!(FIREWALL.add_rule(Match::default(), Verdict::Permit));
            let web = Match { remote_port: Some(80), protocol: Some(TCP), ..Match::default() };
            assert!(FIREWALL.add_redirect(web, proxy, PROXY_PID));

            let waiting = pending(Connection::connect(ends(v6, TCP, 80), &browser(), None));
            assert_eq!(waiting.ends().remote, proxy.ip(), "authorized at the proxy's address");
            assert_eq!(waiting.ends().remote_port, 8080);
            FIREWALL.tick();
            let conn = waiting.resume().open().unwrap();
            let r = ndis_sim::wfp::redirections();
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].remote, Some(proxy));
            assert_eq!(r[0].target_pid, PROXY_PID);
            assert_ne!(r[0].redirect_handle, 0, "marked with the driver's redirect handle");
            assert_eq!(count(&FIREWALL.stats.redirected), 1);

            // The proxy connects to the original destination on the
            // browser's behalf, with its redirect records: not redirected.
            let proxy_app = app("\\device\\harddiskvolume2\\apps\\proxy.exe");
            let onward = pending(Connection::connect(ends(v6, TCP, 80), &proxy_app, conn.records()));
            assert_eq!(onward.ends().remote, remote(v6), "to the original destination");
            assert!(ndis_sim::wfp::redirections().is_empty(), "no redirect loop");
            assert_eq!(count(&FIREWALL.stats.redirect_loops_avoided), 1);
            FIREWALL.tick();
            onward.resume().open().unwrap().close();
            conn.close();

            // Port 443 matches no redirect rule.
            let direct = pending(Connection::connect(ends(v6, TCP, 443), &browser(), None));
            assert_eq!(direct.ends().remote, remote(v6));
            FIREWALL.tick();
            direct.resume().open().unwrap().close();
        });
    }
}

#[test]
fn binds_of_a_tunnelled_application_go_to_the_tunnel_address() {
    with_driver(|| {
        let tunnel4 = IpAddr::V4(Ipv4Addr::new(172, 16, 0, 2));
        let tunnel6 = IpAddr::V6("fd00::2".parse().unwrap());
        let vpn_app = App::of(&browser());
        assert!(FIREWALL.add_bind(vpn_app, tunnel4));
        assert!(FIREWALL.add_bind(vpn_app, tunnel6));
        let any4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5000);
        let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 5001);
        assert_eq!(ndis_sim::wfp::bind(any4, UDP, &browser()).unwrap(), SocketAddr::new(tunnel4, 5000));
        assert_eq!(ndis_sim::wfp::bind(any6, TCP, &browser()).unwrap(), SocketAddr::new(tunnel6, 5001));
        assert_eq!(ndis_sim::wfp::bind_redirections().len(), 2);
        // Another application binds where it asked.
        let other = app("\\device\\harddiskvolume2\\apps\\mail.exe");
        assert_eq!(ndis_sim::wfp::bind(any4, UDP, &other).unwrap(), any4);
        // A bind to the tunnel address already is left alone.
        let at_tunnel = SocketAddr::new(tunnel4, 7000);
        assert_eq!(ndis_sim::wfp::bind(at_tunnel, TCP, &browser()).unwrap(), at_tunnel);
        assert!(ndis_sim::wfp::bind_redirections().is_empty());
        assert_eq!(count(&FIREWALL.stats.binds_redirected), 2);
    });
}

#[test]
fn unload_completes_every_waiting_connection_so_none_stays_pended() {
    with_driver(|| {
        FIREWALL.set_default(Verdict::Block);
        let mut waiting = Vec::new();
        for (i, v6) in [false, true, false, true].into_iter().enumerate() {
            waiting.push(pending(Connection::connect(ends(v6, TCP, 9000 + i as u16), &browser(), None)));
        }
        waiting.push(pending(Connection::accept(ends(false, UDP, 5353), &browser())));
        assert_eq!(FIREWALL.waiting(), 5);
        assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 5, "each holds its classify handle");
        // `with_driver`'s unload completes them; the watchdog must be silent after.
        drop(waiting);
    });
}
