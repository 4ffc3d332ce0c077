//! The callouts, on ndis-safe's typed callout API: two per layer pair
//! (IPv4 and IPv6) at the connect and accept authorization layers, the
//! connect-redirect layers and the bind-redirect layers, all registered
//! with `FwpsCalloutRegister1` (a classify context: they pend and acquire
//! classify handles). Each reads its layer's typed fields and hands the
//! work to one function per kind (`authorize`, `redirect_connect`,
//! `redirect_bind`), which uses [`FIREWALL`].

use core::net::{IpAddr, SocketAddr};
use core::sync::atomic::{AtomicU64, Ordering};

use fwps_sys::{FWP_CONDITION_FLAG_IS_REAUTHORIZE, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided, Writable};
use ndis_safe::wfp::layer::{
    AleAuthConnectV4, AleAuthConnectV6, AleAuthRecvAcceptV4, AleAuthRecvAcceptV6, AleBindRedirectV4, AleBindRedirectV6,
    AleConnectRedirectV4, AleConnectRedirectV6, BindRedirect, ConnectRedirect, Layer, Packet,
};
use ndis_safe::wfp::pend::NotPended;

use crate::firewall::{App, Conn, FIREWALL};

/// The callouts' key; each callout's last byte is its [`Which`].
pub const CALLOUT_KEY: GUID =
    GUID { Data1: 0x6a3c_51f0, Data2: 0x2b7e, Data3: 0x4c19, Data4: [0x9d, 0x52, 0x0e, 0x81, 0x44, 0xa7, 0x3b, 0x00] };

/// The driver's provider key (its redirect handle's provider).
pub const PROVIDER_KEY: GUID = GUID { Data1: 0x6a3c_51f1, ..CALLOUT_KEY };

/// The callouts, by layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Which {
    /// `ALE_AUTH_CONNECT_V4`.
    ConnectV4 = 1,
    /// `ALE_AUTH_CONNECT_V6`.
    ConnectV6,
    /// `ALE_AUTH_RECV_ACCEPT_V4`.
    AcceptV4,
    /// `ALE_AUTH_RECV_ACCEPT_V6`.
    AcceptV6,
    /// `ALE_CONNECT_REDIRECT_V4`.
    RedirectV4,
    /// `ALE_CONNECT_REDIRECT_V6`.
    RedirectV6,
    /// `ALE_BIND_REDIRECT_V4`.
    BindV4,
    /// `ALE_BIND_REDIRECT_V6`.
    BindV6,
}

/// The key of callout `which`.
pub const fn key(which: Which) -> GUID {
    let mut data4 = CALLOUT_KEY.Data4;
    data4[7] = which as u8;
    GUID { Data4: data4, ..CALLOUT_KEY }
}

/// A connect or accept: pend it for [`Firewall::tick`](crate::Firewall::tick)
/// to decide, or — a re-authorization — answer with the decision kept for
/// it (else the rules, else the default).
fn authorize<'c, L: Layer<Kind = Packet>>(
    c: Classify<'c, L>,
    action: Action<'c>,
    conn: Option<Conn>,
    flags: u32,
) -> Decided<'c> {
    let w = match action {
        Action::Writable(w) => w,
        Action::ReadOnly(r) => return r.leave(), // a higher filter decided for good
    };
    let fw = &FIREWALL;
    let Some(conn) = conn else {
        // Not a connection the callout can describe: the default.
        return w.decide(fw.default_verdict().into());
    };
    if flags & FWP_CONDITION_FLAG_IS_REAUTHORIZE != 0 {
        fw.stats.reauthorized.fetch_add(1, Ordering::Relaxed);
        if let Some(v) = fw.take_decided(&conn) {
            fw.stats.reauthorized_as_decided.fetch_add(1, Ordering::Relaxed);
            return w.decide(v.into());
        }
        return w.decide(fw.rule_for(&conn).unwrap_or(fw.default_verdict()).into());
    }
    let Some(claim) = fw.claim() else { return at_once(w, &conn) };
    match w.pend(&c) {
        Ok((decided, pended)) => {
            fw.stats.pended.fetch_add(1, Ordering::Relaxed);
            claim.fill(conn, pended);
            decided
        }
        Err(not) => {
            drop(claim);
            at_once(not.action, &conn)
        }
    }
}

/// A connection that cannot wait: the rules now, else the default.
fn at_once<'c>(w: Writable<'c>, conn: &Conn) -> Decided<'c> {
    let fw = &FIREWALL;
    fw.stats.decided_at_once.fetch_add(1, Ordering::Relaxed);
    w.decide(fw.rule_for(conn).unwrap_or(fw.default_verdict()).into())
}

/// A connect at the connect-redirect layer: to where a redirect rule
/// says, marked with the driver's redirect handle — unless the driver
/// redirected it already (its proxy's connection on the original's
/// behalf).
fn redirect_connect<'c, L: Layer<Kind = ConnectRedirect>>(
    c: Classify<'c, L>,
    action: Action<'c>,
    conn: Option<Conn>,
) -> Decided<'c> {
    let w = match action {
        Action::Writable(w) => w,
        Action::ReadOnly(r) => return r.leave(),
    };
    let fw = &FIREWALL;
    let Some((to, pid)) = conn.and_then(|k| fw.redirect_for(&k)) else { return w.continue_() };
    let done = fw.redirect_handle.with(w, |handle, w| {
        if handle.state(&c).is_own() {
            fw.stats.redirect_loops_avoided.fetch_add(1, Ordering::Relaxed);
            return w.continue_();
        }
        let redirected = w.redirect_connect(&c, |req| {
            let ok = req.set_remote(to).is_ok();
            if ok {
                req.set_local_redirect(handle, pid);
            }
            ok
        });
        counted(redirected, &fw.stats.redirected)
    });
    done.unwrap_or_else(Writable::continue_)
}

/// A bind at the bind-redirect layer: to the address a bind rule gives
/// the application (the tunnel interface's), keeping the port.
fn redirect_bind<'c, L: Layer<Kind = BindRedirect>>(
    c: Classify<'c, L>,
    action: Action<'c>,
    app: Option<App>,
    local: Option<IpAddr>,
) -> Decided<'c> {
    let w = match action {
        Action::Writable(w) => w,
        Action::ReadOnly(r) => return r.leave(),
    };
    let fw = &FIREWALL;
    let v6 = matches!(L::FAMILY, ndis_safe::wfp::layer::Family::V6);
    let Some(to) = app.and_then(|a| fw.bind_for(a, v6)) else { return w.continue_() };
    if local == Some(to) {
        return w.continue_(); // bound there already
    }
    let redirected = w.redirect_bind(&c, |req| {
        let port = req.local().map_or(0, |l| l.port());
        req.set_local(SocketAddr::new(to, port)).is_ok()
    });
    counted(redirected, &fw.stats.binds_redirected)
}

/// The decision of a redirect, counted in `count` when it changed where the
/// connection goes; one the engine could not make lets the connection go
/// where it was going.
fn counted<'c>(redirected: Result<(Decided<'c>, bool), NotPended<'c>>, count: &AtomicU64) -> Decided<'c> {
    match redirected {
        Ok((decided, changed)) => {
            if changed {
                count.fetch_add(1, Ordering::Relaxed);
            }
            decided
        }
        Err(not) => not.action.continue_(),
    }
}

/// The connection a classify at an ALE authorization or connect-redirect
/// layer is about, from the layer's fields (`None` when one is missing).
macro_rules! conn {
    ($c:ident, $layer:ident, $inbound:expr) => {
        (|| {
            Some(Conn {
                remote: IpAddr::from($c.get($layer::IP_REMOTE_ADDRESS)?),
                remote_port: $c.get($layer::IP_REMOTE_PORT)?,
                local_port: $c.get($layer::IP_LOCAL_PORT)?,
                protocol: $c.get($layer::IP_PROTOCOL)?,
                app: $c.get($layer::ALE_APP_ID).map_or(App::NONE, App::of),
                inbound: $inbound,
            })
        })()
    };
}

/// The authorization callouts: the connection from the layer's fields.
macro_rules! authorization {
    ($name:ident, $layer:ident, $inbound:expr) => {
        #[doc = concat!("The callout at `FWPS_LAYER_", stringify!($layer), "`.")]
        pub enum $name {}

        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let conn = conn!(c, $layer, $inbound);
                let flags = c.get($layer::FLAGS).unwrap_or(0);
                authorize(c, action, conn, flags)
            }
        }
    };
}

authorization!(ConnectV4, AleAuthConnectV4, false);
authorization!(ConnectV6, AleAuthConnectV6, false);
authorization!(AcceptV4, AleAuthRecvAcceptV4, true);
authorization!(AcceptV6, AleAuthRecvAcceptV6, true);

/// The connect-redirect callouts.
macro_rules! connect_redirect {
    ($name:ident, $layer:ident) => {
        #[doc = concat!("The callout at `FWPS_LAYER_", stringify!($layer), "`.")]
        pub enum $name {}

        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let conn = conn!(c, $layer, false);
                redirect_connect(c, action, conn)
            }
        }
    };
}

connect_redirect!(RedirectV4, AleConnectRedirectV4);
connect_redirect!(RedirectV6, AleConnectRedirectV6);

/// The bind-redirect callouts.
macro_rules! bind_redirect {
    ($name:ident, $layer:ident) => {
        #[doc = concat!("The callout at `FWPS_LAYER_", stringify!($layer), "`.")]
        pub enum $name {}

        impl Callout for $name {
            type Layer = $layer;
            fn classify<'c>(c: Classify<'c, $layer>, action: Action<'c>) -> Decided<'c> {
                let app = c.get($layer::ALE_APP_ID).map(App::of);
                let local = c.get($layer::IP_LOCAL_ADDRESS).map(IpAddr::from);
                redirect_bind(c, action, app, local)
            }
        }
    };
}

bind_redirect!(BindV4, AleBindRedirectV4);
bind_redirect!(BindV6, AleBindRedirectV6);

/// The eight callouts, registered; dropping it unregisters them.
pub struct Callouts {
    /// At `ALE_AUTH_CONNECT_V4`.
    pub connect_v4: Registration<ConnectV4>,
    /// At `ALE_AUTH_CONNECT_V6`.
    pub connect_v6: Registration<ConnectV6>,
    /// At `ALE_AUTH_RECV_ACCEPT_V4`.
    pub accept_v4: Registration<AcceptV4>,
    /// At `ALE_AUTH_RECV_ACCEPT_V6`.
    pub accept_v6: Registration<AcceptV6>,
    /// At `ALE_CONNECT_REDIRECT_V4`.
    pub redirect_v4: Registration<RedirectV4>,
    /// At `ALE_CONNECT_REDIRECT_V6`.
    pub redirect_v6: Registration<RedirectV6>,
    /// At `ALE_BIND_REDIRECT_V4`.
    pub bind_v4: Registration<BindV4>,
    /// At `ALE_BIND_REDIRECT_V6`.
    pub bind_v6: Registration<BindV6>,
}

impl Callouts {
    /// Registers the eight callouts with `device` (`FwpsCalloutRegister1`);
    /// on an error, those registered already are unregistered.
    pub fn register(device: DeviceObject) -> ndis_safe::Result<Callouts> {
        let (f, v) = (CalloutFlags::NONE, Version::V1);
        Ok(Callouts {
            connect_v4: Registration::register(device, key(Which::ConnectV4), f, v)?,
            connect_v6: Registration::register(device, key(Which::ConnectV6), f, v)?,
            accept_v4: Registration::register(device, key(Which::AcceptV4), f, v)?,
            accept_v6: Registration::register(device, key(Which::AcceptV6), f, v)?,
            redirect_v4: Registration::register(device, key(Which::RedirectV4), f, v)?,
            redirect_v6: Registration::register(device, key(Which::RedirectV6), f, v)?,
            bind_v4: Registration::register(device, key(Which::BindV4), f, v)?,
            bind_v6: Registration::register(device, key(Which::BindV6), f, v)?,
        })
    }

    /// Unregisters the callouts; `false` when one was still referenced by
    /// filters (`STATUS_DEVICE_BUSY`: delete the filters first).
    pub fn unregister(self) -> bool {
        [
            self.connect_v4.unregister().is_ok(),
            self.connect_v6.unregister().is_ok(),
            self.accept_v4.unregister().is_ok(),
            self.accept_v6.unregister().is_ok(),
            self.redirect_v4.unregister().is_ok(),
            self.redirect_v6.unregister().is_ok(),
            self.bind_v4.unregister().is_ok(),
            self.bind_v6.unregister().is_ok(),
        ]
        .iter()
        .all(|&ok| ok)
    }
}

/// What `DriverEntry` sets up and unload tears down, apart from the
/// kernel objects (the device object, the timer): the redirect handle in
/// [`FIREWALL`] and the registered callouts.
pub struct Driver {
    callouts: Callouts,
}

/// Why the driver did not load.
#[derive(Debug)]
pub enum LoadError {
    /// `FwpsRedirectHandleCreate0` failed.
    RedirectHandle(ndis_safe::Error),
    /// A callout did not register.
    Register(ndis_safe::Error),
}

impl Driver {
    /// Creates the redirect handle and registers the callouts with
    /// `device`; on an error, what was made is undone.
    pub fn load(device: DeviceObject) -> Result<Driver, LoadError> {
        let handle = ndis_safe::wfp::redirect::RedirectHandle::new(PROVIDER_KEY).map_err(LoadError::RedirectHandle)?;
        // A handle left from a load that failed half-way is replaced.
        drop(FIREWALL.redirect_handle.take());
        if let Err(h) = FIREWALL.redirect_handle.set(handle) {
            drop(h);
        }
        match Callouts::register(device) {
            Ok(callouts) => Ok(Driver { callouts }),
            Err(e) => {
                drop(FIREWALL.redirect_handle.take());
                Err(LoadError::Register(e))
            }
        }
    }

    /// Unload: every waiting connection completed with the default (none
    /// may stay pended), the callouts unregistered, the redirect handle
    /// destroyed. `false` when a callout was still referenced by filters
    /// (the filters must go first; the callouts are unregistered anyway
    /// when the registrations drop).
    pub fn unload(self) -> bool {
        FIREWALL.complete_all();
        let unregistered = self.callouts.unregister();
        drop(FIREWALL.redirect_handle.take());
        unregistered
    }

    /// The registered callouts (to name in filters).
    pub fn callouts(&self) -> &Callouts {
        &self.callouts
    }
}
