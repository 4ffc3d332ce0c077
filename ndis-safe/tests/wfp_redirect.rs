//! Connect redirection, as a split-tunnelling or proxying driver does it:
//! the connect request lent to a closure, applied and the handle released
//! by the library.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{AleConnectRedirectV4, AleConnectRedirectV6, Layer};
use ndis_safe::wfp::redirect::RedirectHandle;
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

static PROXY: Mutex<Option<RedirectHandle>> = Mutex::new(None);
static SEEN: Mutex<Vec<Option<SocketAddr>>> = Mutex::new(Vec::new());
const PROXY_PID: u32 = 4242;

/// Sends connects to port 443 to the local proxy.
struct ToProxy;
impl Callout for ToProxy {
    type Layer = AleConnectRedirectV4;
    fn classify<'c>(c: Classify<'c, AleConnectRedirectV4>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        if c.get(AleConnectRedirectV4::IP_REMOTE_PORT) != Some(443) {
            return w.continue_();
        }
        let proxy = PROXY.lock().unwrap();
        let redirected = w.redirect_connect(&c, |req| {
            SEEN.lock().unwrap().push(req.remote());
            req.set_remote(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443)).unwrap();
            if let Some(h) = proxy.as_ref() {
                req.set_local_redirect(h, PROXY_PID);
            }
            // A v6 destination for a v4 connect is refused.
            assert!(req.set_remote(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1)).is_err());
        });
        match redirected {
            Ok((decided, ())) => decided,
            Err(not) => not.action.block(),
        }
    }
}

/// Tunnels IPv6 connects through another address.
struct Tunnel6;
impl Callout for Tunnel6 {
    type Layer = AleConnectRedirectV6;
    fn classify<'c>(c: Classify<'c, AleConnectRedirectV6>, action: Action<'c>) -> Decided<'c> {
        let Action::Writable(w) = action else {
            return match action {
                Action::ReadOnly(r) => r.leave(),
                Action::Writable(w) => w.continue_(),
            };
        };
        match w.redirect_connect(&c, |req| {
            let port = req.remote().map_or(0, |r| r.port());
            req.set_remote(SocketAddr::new("2001:db8:ffff::1".parse().unwrap(), port))
        }) {
            Ok((decided, r)) => {
                r.unwrap();
                decided
            }
            Err(not) => not.action.block(),
        }
    }
}

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn connect(id: u32, layer: u16, local: IpAddr, remote: IpAddr, port: u16) -> ndis_sim::wfp::Outcome {
    let ends = Endpoints {
        protocol: 6,
        local,
        remote,
        local_port: 40000,
        remote_port: port,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap();
    // SAFETY: no layer data at the connect-redirect layers.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default()) }
        .unwrap()
}

#[test]
fn connects_are_redirected_to_the_proxy_and_through_the_tunnel() {
    let session = ndis_sim::Session::new();
    *PROXY.lock().unwrap() = Some(RedirectHandle::new(GUID { Data1: 0x9A0, ..GUID::default() }).unwrap());
    assert_eq!(ndis_sim::wfp::redirect_handles(), 1);
    let v4 = Registration::<ToProxy>::register(
        device(),
        GUID { Data1: 0x9A1, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V1,
    )
    .unwrap();
    let v6 = Registration::<Tunnel6>::register(
        device(),
        GUID { Data1: 0x9A2, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V3,
    )
    .unwrap();
    let (here, there) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)));

    let out = connect(v4.id(), AleConnectRedirectV4::ID, here, there, 443);
    assert_eq!(out.action, FWP_ACTION_PERMIT);
    assert_eq!(SEEN.lock().unwrap().as_slice(), [Some(SocketAddr::new(there, 443))]);
    let r = ndis_sim::wfp::redirections();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].remote, Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443)));
    assert_eq!(r[0].target_pid, PROXY_PID);
    assert_eq!(r[0].redirect_handle, PROXY.lock().unwrap().as_ref().unwrap().as_raw().addr());
    // Port 80 is not redirected.
    connect(v4.id(), AleConnectRedirectV4::ID, here, there, 80);
    assert!(ndis_sim::wfp::redirections().is_empty());

    let (here6, there6) = (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6("2001:db8::5".parse().unwrap()));
    assert_eq!(connect(v6.id(), AleConnectRedirectV6::ID, here6, there6, 22).action, FWP_ACTION_PERMIT);
    assert_eq!(ndis_sim::wfp::redirections()[0].remote, Some(SocketAddr::new("2001:db8:ffff::1".parse().unwrap(), 22)));

    drop(PROXY.lock().unwrap().take());
    assert_eq!(ndis_sim::wfp::redirect_handles(), 0);
    v4.unregister().unwrap();
    v6.unregister().unwrap();
    assert!(ndis_sim::wfp::outstanding_pends().is_empty(), "every classify handle released");
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
}
