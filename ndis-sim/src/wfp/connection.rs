//! Connections as a test drives them: opened through the ALE layers
//! (`ALE_AUTH_CONNECT` outbound, `ALE_AUTH_RECV_ACCEPT` inbound, then
//! `ALE_FLOW_ESTABLISHED`, which gives the flow its handle), then datagrams
//! or TCP segments sent and received through the transport layers with the
//! headers built here and the layers' documented data offsets: outbound at
//! the transport header, inbound after it; what passes reaches the wire or
//! the socket sink. IPv4 and IPv6 follow from the addresses.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use fwps_sys::*;

use super::engine::{HandleState, Metadata, with_engine};
use super::filters::{Verdict, classify_layer, packet};
use super::flows::end_flow;
use super::values::{Endpoints, Incoming};

/// `IPPROTO_TCP`.
pub const TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const UDP: u8 = 17;

static NEXT_FLOW: AtomicU64 = AtomicU64::new(0x00F1_0000);

/// An open connection (a TCP connection or a UDP association).
#[derive(Debug)]
pub struct Connection {
    ends: Endpoints,
    flow: u64,
    app_id: Vec<u8>,
}

/// Why a connection did not open: the ALE verdict.
#[derive(Debug)]
pub struct Refused(pub Verdict);

/// What a connect or an accept came to ([`Connection::connect`],
/// [`Connection::accept`]).
#[derive(Debug)]
pub enum Connect {
    /// Open: authorized and established (at the address a redirecting
    /// callout chose, if one did: [`Connection::ends`]).
    Open(Connection),
    /// Refused, with the verdict.
    Refused(Refused),
    /// A callout pended the authorization (`FwpsPendClassify0`): the
    /// connection waits for its completion ([`Pending::resume`]).
    Pending(Pending),
}

impl Connect {
    /// The connection, if open.
    pub fn open(self) -> Option<Connection> {
        match self {
            Connect::Open(c) => Some(c),
            _ => None,
        }
    }

    /// Whether it is waiting on a pended classify.
    pub fn is_pending(&self) -> bool {
        matches!(self, Connect::Pending(_))
    }
}

/// A connect or accept whose authorization a callout pended.
///
/// When every classify handle pended for it has been completed
/// (`FwpsCompleteClassify0`), [`resume`](Pending::resume) goes on as the
/// engine does. Outbound (`ALE_AUTH_CONNECT`), the completion triggers a
/// re-authorization: the layer is classified again with
/// `FWP_CONDITION_FLAG_IS_REAUTHORIZE` in its `FLAGS` value, and that
/// classify's verdict decides — the callout answers it with the decision
/// it stored for the connection. Inbound (`ALE_AUTH_RECV_ACCEPT`) there is
/// no re-authorization: the decision the classify was completed with is
/// final (block if any completion blocks).
#[derive(Debug)]
pub struct Pending {
    ends: Endpoints,
    outbound: bool,
    app_id: Vec<u8>,
    flow: u64,
    handles: Vec<u64>,
}

impl Pending {
    /// The endpoints of the waiting connection.
    pub fn ends(&self) -> Endpoints {
        self.ends
    }

    /// Whether every pended classify of it was completed.
    pub fn is_completed(&self) -> bool {
        self.completed_with().is_some()
    }

    /// The action its pended classifies were completed with
    /// (`FWP_ACTION_BLOCK` if any blocked), once all were.
    pub fn completed_with(&self) -> Option<u32> {
        let outs: Option<Vec<u32>> =
            with_engine(|e| self.handles.iter().map(|h| e.completed_with.get(h).map(|o| o.actionType)).collect());
        outs.map(|o| if o.iter().all(|&a| a == FWP_ACTION_PERMIT) { FWP_ACTION_PERMIT } else { FWP_ACTION_BLOCK })
    }

    /// Goes on if the pended classifies were completed (else gives the
    /// connect back, still pending).
    pub fn resume(self) -> Connect {
        let Some(action) = self.completed_with() else { return Connect::Pending(self) };
        with_engine(|e| self.handles.iter().for_each(|h| _ = e.completed_with.remove(h)));
        if self.outbound {
            return Connection::authorize(self.ends, true, &self.app_id, self.flow, true);
        }
        if action != FWP_ACTION_PERMIT {
            let v =
                Verdict { action: FWP_ACTION_BLOCK, absorbed: false, vetoed: false, pended: false, trace: Vec::new() };
            return Connect::Refused(Refused(v));
        }
        Connection::establish(self.ends, &self.app_id, self.flow)
    }
}

impl Drop for Pending {
    /// A connect given up on: the engine forgets its completions.
    fn drop(&mut self) {
        with_engine(|e| self.handles.iter().for_each(|h| _ = e.completed_with.remove(h)));
    }
}

fn layers(v6: bool) -> [u16; 7] {
    let l = |a: i32, b: i32| if v6 { b as u16 } else { a as u16 };
    [
        l(FWPS_LAYER_ALE_AUTH_CONNECT_V4, FWPS_LAYER_ALE_AUTH_CONNECT_V6),
        l(FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4, FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V6),
        l(FWPS_LAYER_ALE_FLOW_ESTABLISHED_V4, FWPS_LAYER_ALE_FLOW_ESTABLISHED_V6),
        l(FWPS_LAYER_OUTBOUND_TRANSPORT_V4, FWPS_LAYER_OUTBOUND_TRANSPORT_V6),
        l(FWPS_LAYER_INBOUND_TRANSPORT_V4, FWPS_LAYER_INBOUND_TRANSPORT_V6),
        l(FWPS_LAYER_OUTBOUND_IPPACKET_V4, FWPS_LAYER_OUTBOUND_IPPACKET_V6),
        l(FWPS_LAYER_INBOUND_IPPACKET_V4, FWPS_LAYER_INBOUND_IPPACKET_V6),
    ]
}

impl Connection {
    /// Opens a connection between `ends` (the local side is this host),
    /// made by the application `app_id` (its path, as UTF-16 bytes):
    /// `outbound` (a connect) through `ALE_AUTH_CONNECT`, else (an accept)
    /// through `ALE_AUTH_RECV_ACCEPT`, then `ALE_FLOW_ESTABLISHED` with the
    /// new flow's handle. `Err` with the ALE verdict when it is blocked.
    pub fn open(ends: Endpoints, outbound: bool, app_id: &[u8]) -> Result<Connection, Refused> {
        let [connect, accept, established, ..] = layers(ends.local.is_ipv6());
        let flow = NEXT_FLOW.fetch_add(1, Ordering::Relaxed);
        let meta = Metadata { flow_handle: Some(flow), process_id: Some(4), ..Metadata::default() };
        let auth = if outbound { connect } else { accept };
        let verdict = Self::ale(auth, ends, app_id, &meta);
        if !verdict.passes() {
            return Err(Refused(verdict));
        }
        let verdict = Self::ale(established, ends, app_id, &meta);
        if !verdict.passes() {
            return Err(Refused(verdict));
        }
        Ok(Connection { ends, flow, app_id: app_id.to_vec() })
    }

    fn ale(layer: u16, ends: Endpoints, app_id: &[u8], meta: &Metadata) -> Verdict {
        Self::ale_flags(layer, ends, app_id, meta, 0)
    }

    fn ale_flags(layer: u16, ends: Endpoints, app_id: &[u8], meta: &Metadata, flags: u32) -> Verdict {
        let mut incoming =
            Incoming::with_endpoints(layer, ends, Some(app_id)).unwrap_or(Incoming { layer, values: Vec::new() });
        if flags != 0
            && let Some(i) = flags_field(layer)
        {
            incoming.set(i, super::values::Value::U32(flags));
        }
        // SAFETY: no layer data at the authorization layers here.
        unsafe { classify_layer(&incoming, meta, std::ptr::null_mut()) }
    }

    /// A connect from this host to `ends.remote`, by the application
    /// `app_id`, as the stack makes it: first the connect-redirect layer
    /// (`ALE_CONNECT_REDIRECT`, with the connection's redirect `records`
    /// — new ones when `None` — which a redirecting callout queries with
    /// `FwpsQueryConnectionRedirectState0`), whose last redirection
    /// changes where the connection goes; then `ALE_AUTH_CONNECT` at the
    /// (redirected) endpoints, which may pend; then `ALE_FLOW_ESTABLISHED`.
    /// A connection a local proxy makes on behalf of one it was redirected
    /// from passes that one's [`records`](Connection::records).
    pub fn connect(ends: Endpoints, app_id: &[u8], records: Option<u64>) -> Connect {
        let v6 = ends.local.is_ipv6();
        let redirect = if v6 { FWPS_LAYER_ALE_CONNECT_REDIRECT_V6 } else { FWPS_LAYER_ALE_CONNECT_REDIRECT_V4 } as u16;
        let records = records.unwrap_or_else(super::engine::new_redirect_records);
        let meta = Metadata { process_id: Some(4), redirect_records: Some(records), ..Metadata::default() };
        let before = with_engine(|e| e.redirections.len());
        let verdict = Self::ale(redirect, ends, app_id, &meta);
        if !verdict.passes() {
            return Connect::Refused(Refused(verdict));
        }
        let mut ends = ends;
        if let Some(to) = with_engine(|e| e.redirections.get(before..).and_then(|r| r.last()).and_then(|r| r.remote))
            && to.is_ipv6() == v6
        {
            ends.remote = to.ip();
            ends.remote_port = to.port();
        }
        let flow = NEXT_FLOW.fetch_add(1, Ordering::Relaxed);
        with_engine(|e| e.connection_records.insert(flow, records));
        Self::authorize(ends, true, app_id, flow, false)
    }

    /// An incoming connection to this host from `ends.remote`, accepted
    /// by `app_id`: `ALE_AUTH_RECV_ACCEPT`, which may pend, then
    /// `ALE_FLOW_ESTABLISHED`.
    pub fn accept(ends: Endpoints, app_id: &[u8]) -> Connect {
        let flow = NEXT_FLOW.fetch_add(1, Ordering::Relaxed);
        Self::authorize(ends, false, app_id, flow, false)
    }

    /// The authorization layer (again, with `FWP_CONDITION_FLAG_IS_REAUTHORIZE`,
    /// when `reauthorize`), then the flow.
    fn authorize(ends: Endpoints, outbound: bool, app_id: &[u8], flow: u64, reauthorize: bool) -> Connect {
        let [connect, accept, ..] = layers(ends.local.is_ipv6());
        let meta = Metadata { flow_handle: Some(flow), process_id: Some(4), ..Metadata::default() };
        let layer = if outbound { connect } else { accept };
        // Handles are numbered in order: those of this classify come after.
        let before = with_engine(|e| e.next_handle);
        let flags = if reauthorize { FWP_CONDITION_FLAG_IS_REAUTHORIZE } else { 0 };
        let verdict = Self::ale_flags(layer, ends, app_id, &meta, flags);
        if verdict.pended {
            let handles = with_engine(|e| {
                (before + 1..=e.next_handle)
                    .map(super::engine::handle_id)
                    .filter(|h| e.handles.get(h).is_some_and(|h| h.state == HandleState::Pended))
                    .collect()
            });
            return Connect::Pending(Pending { ends, outbound, app_id: app_id.to_vec(), flow, handles });
        }
        if !verdict.passes() {
            return Connect::Refused(Refused(verdict));
        }
        Self::establish(ends, app_id, flow)
    }

    fn establish(ends: Endpoints, app_id: &[u8], flow: u64) -> Connect {
        let [.., established, _, _, _, _] = layers(ends.local.is_ipv6());
        let meta = Metadata { flow_handle: Some(flow), process_id: Some(4), ..Metadata::default() };
        let verdict = Self::ale(established, ends, app_id, &meta);
        if !verdict.passes() {
            return Connect::Refused(Refused(verdict));
        }
        Connect::Open(Connection { ends, flow, app_id: app_id.to_vec() })
    }

    /// The redirect records of a connection made with
    /// [`connect`](Connection::connect) (for a proxy's connection on its
    /// behalf); `None` for an accepted one.
    pub fn records(&self) -> Option<u64> {
        with_engine(|e| e.connection_records.get(&self.flow).copied())
    }

    /// The flow's handle (`flowHandle` in the classifies' metadata).
    pub fn flow(&self) -> u64 {
        self.flow
    }

    /// The application that opened it.
    pub fn app_id(&self) -> &[u8] {
        &self.app_id
    }

    /// The endpoints.
    pub fn ends(&self) -> Endpoints {
        self.ends
    }

    /// The whole packet, IP header first, from `src` to `dst`.
    fn build(&self, outbound: bool, payload: &[u8]) -> (Vec<u8>, u32, u32) {
        let e = self.ends;
        let (src, dst, sport, dport) = if outbound {
            (e.local, e.remote, e.local_port, e.remote_port)
        } else {
            (e.remote, e.local, e.remote_port, e.local_port)
        };
        let mut transport = Vec::new();
        transport.extend_from_slice(&sport.to_be_bytes());
        transport.extend_from_slice(&dport.to_be_bytes());
        if e.protocol == TCP {
            transport.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            transport.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            transport.extend_from_slice(&[0, 0]);
        }
        let transport_len = transport.len() as u32;
        transport.extend_from_slice(payload);
        let mut ip = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let total = (20 + transport.len()) as u16;
                let mut h = vec![0x45, 0];
                h.extend_from_slice(&total.to_be_bytes());
                h.extend_from_slice(&[0, 0, 0x40, 0, 64, e.protocol, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h
            }
            (s, d) => {
                let (IpAddr::V6(s), IpAddr::V6(d)) = (s, d) else { panic!("mixed address families") };
                let mut h = vec![0x60, 0, 0, 0];
                h.extend_from_slice(&(transport.len() as u16).to_be_bytes());
                h.extend_from_slice(&[e.protocol, 64]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h
            }
        };
        let ip_len = ip.len() as u32;
        ip.extend_from_slice(&transport);
        (ip, ip_len, transport_len)
    }

    /// Sends `payload` (a datagram, or a TCP segment's data): the
    /// outbound transport layer classifies it, its data starting at the
    /// transport header; if it passes, the whole packet reaches the wire.
    pub fn send(&self, payload: &[u8]) -> Verdict {
        let (bytes, ip_len, _) = self.build(true, payload);
        let meta = Metadata {
            ip_header_size: Some(ip_len),
            flow_handle: Some(self.flow),
            compartment_id: Some(1),
            destination_interface_index: Some(self.ends.interface_index),
            ..Metadata::default()
        };
        packet(layers(self.ends.local.is_ipv6())[3], self.ends, &meta, &bytes, ip_len, false)
    }

    /// Receives `payload` from the remote end: the inbound transport layer
    /// classifies it, its data starting after the transport header; if it
    /// passes, the whole packet reaches the socket sink.
    pub fn receive(&self, payload: &[u8]) -> Verdict {
        let (bytes, ip_len, transport_len) = self.build(false, payload);
        let meta = Metadata {
            ip_header_size: Some(ip_len),
            transport_header_size: Some(transport_len),
            flow_handle: Some(self.flow),
            compartment_id: Some(1),
            source_interface_index: Some(self.ends.interface_index),
            ..Metadata::default()
        };
        packet(layers(self.ends.local.is_ipv6())[4], self.ends, &meta, &bytes, ip_len + transport_len, true)
    }

    /// Closes the connection: its flow ends, and the flow contexts
    /// callouts associated with it are deleted through their
    /// `flowDeleteFn`. Returns how many there were.
    pub fn close(self) -> usize {
        end_flow(self.flow)
    }
}

/// The `FLAGS` field of an ALE authorization layer.
fn flags_field(layer: u16) -> Option<u32> {
    Some(match i32::from(layer) {
        FWPS_LAYER_ALE_AUTH_CONNECT_V4 => FWPS_FIELD_ALE_AUTH_CONNECT_V4_FLAGS,
        FWPS_LAYER_ALE_AUTH_CONNECT_V6 => FWPS_FIELD_ALE_AUTH_CONNECT_V6_FLAGS,
        FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4 => FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_FLAGS,
        FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V6 => FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_FLAGS,
        _ => return None,
    } as u32)
}

/// A bind of `local` (protocol `protocol`, by `app_id`), as the stack makes
/// it: the bind-redirect layer (`ALE_BIND_REDIRECT`) classifies it with its
/// `FWPS_BIND_REQUEST0` as writable layer data; returns the local address
/// and port the socket binds to (another, when a callout redirected the
/// bind), or the verdict that refused it.
pub fn bind(local: SocketAddr, protocol: u8, app_id: &[u8]) -> Result<SocketAddr, Refused> {
    let layer = if local.is_ipv6() { FWPS_LAYER_ALE_BIND_REDIRECT_V6 } else { FWPS_LAYER_ALE_BIND_REDIRECT_V4 } as u16;
    let unspecified = if local.is_ipv6() {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    };
    let ends = Endpoints {
        protocol,
        local: local.ip(),
        remote: unspecified,
        local_port: local.port(),
        remote_port: 0,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let before = with_engine(|e| e.bind_redirections.len());
    let meta = Metadata { process_id: Some(4), ..Metadata::default() };
    let verdict = Connection::ale(layer, ends, app_id, &meta);
    if !verdict.passes() {
        return Err(Refused(verdict));
    }
    let to = with_engine(|e| e.bind_redirections.get(before..).and_then(|r| r.last().copied()).flatten());
    Ok(to.filter(|t| t.is_ipv6() == local.is_ipv6()).unwrap_or(local))
}
