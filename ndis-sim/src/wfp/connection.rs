//! Connections as a test drives them: opened through the ALE layers
//! (`ALE_AUTH_CONNECT` outbound, `ALE_AUTH_RECV_ACCEPT` inbound, then
//! `ALE_FLOW_ESTABLISHED`, which gives the flow its handle), then datagrams
//! or TCP segments sent and received through the transport layers with the
//! headers built here and the layers' documented data offsets: outbound at
//! the transport header, inbound after it; what passes reaches the wire or
//! the socket sink. IPv4 and IPv6 follow from the addresses.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use fwps_sys::*;

use super::engine::Metadata;
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
        let incoming =
            Incoming::with_endpoints(layer, ends, Some(app_id)).unwrap_or(Incoming { layer, values: Vec::new() });
        // SAFETY: no layer data at the authorization layers here.
        unsafe { classify_layer(&incoming, meta, std::ptr::null_mut()) }
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
