//! Incoming values as a test builds them: owned, then laid out as the
//! engine's `FWPS_INCOMING_VALUE0` array for one classify.

use std::net::IpAddr;

use fwps_sys::*;

/// One incoming value, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `FWP_EMPTY`.
    Empty,
    /// `FWP_UINT8`.
    U8(u8),
    /// `FWP_UINT16`.
    U16(u16),
    /// `FWP_UINT32`.
    U32(u32),
    /// `FWP_UINT64` (the engine points at it).
    U64(u64),
    /// `FWP_BYTE_ARRAY16_TYPE` (an IPv6 address).
    Bytes16([u8; 16]),
    /// `FWP_BYTE_BLOB_TYPE` (an app id).
    Blob(Vec<u8>),
}

/// The addresses and ports of a packet or connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// `IPPROTO_*`.
    pub protocol: u8,
    /// The local address (IPv4 at V4 layers, IPv6 at V6 layers).
    pub local: IpAddr,
    /// The remote address.
    pub remote: IpAddr,
    /// The local port.
    pub local_port: u16,
    /// The remote port.
    pub remote_port: u16,
    /// The interface index.
    pub interface_index: u32,
    /// The sub-interface index.
    pub sub_interface_index: u32,
}

/// The incoming values of one classify at one layer: one per
/// `FWPS_FIELDS_*` enumerator below the layer's `_MAX`, `FWP_EMPTY` where
/// the test set none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The layer id (`FWPS_LAYER_*`).
    pub layer: u16,
    /// The values, by field index.
    pub values: Vec<Value>,
}

/// The indices of the fields [`Incoming::with_endpoints`] fills, per layer.
struct Layout {
    max: u32,
    protocol: Option<i32>,
    local: i32,
    remote: Option<i32>,
    local_port: Option<i32>,
    remote_port: Option<i32>,
    if_index: Option<i32>,
    sub_if_index: Option<i32>,
    app_id: Option<i32>,
}

macro_rules! layout {
    ($max:ident, $proto:expr, $l:ident, $r:ident, $lp:expr, $rp:expr, $ifi:expr, $sub:expr, $app:expr) => {
        Layout {
            max: $max as u32,
            protocol: $proto,
            local: $l,
            remote: Some($r),
            local_port: $lp,
            remote_port: $rp,
            if_index: $ifi,
            sub_if_index: $sub,
            app_id: $app,
        }
    };
}

fn layout(layer: u16) -> Option<Layout> {
    Some(match i32::from(layer) {
        FWPS_LAYER_INBOUND_IPPACKET_V4 => layout!(
            FWPS_FIELD_INBOUND_IPPACKET_V4_MAX,
            None,
            FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_INBOUND_IPPACKET_V4_IP_REMOTE_ADDRESS,
            None,
            None,
            Some(FWPS_FIELD_INBOUND_IPPACKET_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_INBOUND_IPPACKET_V4_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_INBOUND_IPPACKET_V6 => layout!(
            FWPS_FIELD_INBOUND_IPPACKET_V6_MAX,
            None,
            FWPS_FIELD_INBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_INBOUND_IPPACKET_V6_IP_REMOTE_ADDRESS,
            None,
            None,
            Some(FWPS_FIELD_INBOUND_IPPACKET_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_INBOUND_IPPACKET_V6_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_OUTBOUND_IPPACKET_V4 => layout!(
            FWPS_FIELD_OUTBOUND_IPPACKET_V4_MAX,
            None,
            FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_REMOTE_ADDRESS,
            None,
            None,
            Some(FWPS_FIELD_OUTBOUND_IPPACKET_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_OUTBOUND_IPPACKET_V4_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_OUTBOUND_IPPACKET_V6 => layout!(
            FWPS_FIELD_OUTBOUND_IPPACKET_V6_MAX,
            None,
            FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_REMOTE_ADDRESS,
            None,
            None,
            Some(FWPS_FIELD_OUTBOUND_IPPACKET_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_OUTBOUND_IPPACKET_V6_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_INBOUND_TRANSPORT_V4 => layout!(
            FWPS_FIELD_INBOUND_TRANSPORT_V4_MAX,
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_PROTOCOL),
            FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V4_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_INBOUND_TRANSPORT_V6 => layout!(
            FWPS_FIELD_INBOUND_TRANSPORT_V6_MAX,
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_PROTOCOL),
            FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_REMOTE_PORT),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_INBOUND_TRANSPORT_V6_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_OUTBOUND_TRANSPORT_V4 => layout!(
            FWPS_FIELD_OUTBOUND_TRANSPORT_V4_MAX,
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_PROTOCOL),
            FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_PORT),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_OUTBOUND_TRANSPORT_V6 => layout!(
            FWPS_FIELD_OUTBOUND_TRANSPORT_V6_MAX,
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_PROTOCOL),
            FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_PORT),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_OUTBOUND_TRANSPORT_V6_SUB_INTERFACE_INDEX),
            None
        ),
        FWPS_LAYER_ALE_AUTH_CONNECT_V4 => layout!(
            FWPS_FIELD_ALE_AUTH_CONNECT_V4_MAX,
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_PROTOCOL),
            FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_REMOTE_PORT),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_SUB_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_AUTH_CONNECT_V6 => layout!(
            FWPS_FIELD_ALE_AUTH_CONNECT_V6_MAX,
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_PROTOCOL),
            FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_REMOTE_PORT),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_SUB_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4 => layout!(
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_MAX,
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_PROTOCOL),
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_REMOTE_PORT),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_SUB_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V6 => layout!(
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_MAX,
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_PROTOCOL),
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_REMOTE_PORT),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_SUB_INTERFACE_INDEX),
            Some(FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_FLOW_ESTABLISHED_V4 => layout!(
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_MAX,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_PROTOCOL),
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_REMOTE_PORT),
            None,
            None,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_FLOW_ESTABLISHED_V6 => layout!(
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_MAX,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_PROTOCOL),
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_REMOTE_PORT),
            None,
            None,
            Some(FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_APP_ID)
        ),
        FWPS_LAYER_STREAM_V4 => layout!(
            FWPS_FIELD_STREAM_V4_MAX,
            None,
            FWPS_FIELD_STREAM_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_STREAM_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_STREAM_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_STREAM_V4_IP_REMOTE_PORT),
            None,
            None,
            None
        ),
        FWPS_LAYER_STREAM_V6 => layout!(
            FWPS_FIELD_STREAM_V6_MAX,
            None,
            FWPS_FIELD_STREAM_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_STREAM_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_STREAM_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_STREAM_V6_IP_REMOTE_PORT),
            None,
            None,
            None
        ),
        FWPS_LAYER_ALE_CONNECT_REDIRECT_V4 => layout!(
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_MAX,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_PROTOCOL),
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_REMOTE_PORT),
            None,
            None,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_CONNECT_REDIRECT_V6 => layout!(
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_MAX,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_PROTOCOL),
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_LOCAL_ADDRESS,
            FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_REMOTE_ADDRESS,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_LOCAL_PORT),
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_REMOTE_PORT),
            None,
            None,
            Some(FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_APP_ID)
        ),
        FWPS_LAYER_ALE_BIND_REDIRECT_V4 => Layout {
            max: FWPS_FIELD_ALE_BIND_REDIRECT_V4_MAX as u32,
            protocol: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_PROTOCOL),
            local: FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_LOCAL_ADDRESS,
            remote: None,
            local_port: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_LOCAL_PORT),
            remote_port: None,
            if_index: None,
            sub_if_index: None,
            app_id: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V4_ALE_APP_ID),
        },
        FWPS_LAYER_ALE_BIND_REDIRECT_V6 => Layout {
            max: FWPS_FIELD_ALE_BIND_REDIRECT_V6_MAX as u32,
            protocol: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_PROTOCOL),
            local: FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_LOCAL_ADDRESS,
            remote: None,
            local_port: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_LOCAL_PORT),
            remote_port: None,
            if_index: None,
            sub_if_index: None,
            app_id: Some(FWPS_FIELD_ALE_BIND_REDIRECT_V6_ALE_APP_ID),
        },
        _ => return None,
    })
}

fn addr_at(inc: &Incoming, i: i32) -> Option<IpAddr> {
    match inc.values.get(i as usize)? {
        Value::U32(a) => Some(IpAddr::V4(std::net::Ipv4Addr::from(*a))),
        Value::Bytes16(a) => Some(IpAddr::V6(std::net::Ipv6Addr::from(*a))),
        _ => None,
    }
}

fn port_at(inc: &Incoming, i: Option<i32>) -> Option<u16> {
    match inc.values.get(i? as usize)? {
        Value::U16(p) => Some(*p),
        _ => None,
    }
}

/// The local address and port an `Incoming` carries (a bind-redirect
/// classify's).
pub(crate) fn local_of(inc: &Incoming) -> Option<std::net::SocketAddr> {
    let l = layout(inc.layer)?;
    Some(std::net::SocketAddr::new(addr_at(inc, l.local)?, port_at(inc, l.local_port)?))
}

/// The endpoints an `Incoming` of a connect-redirect layer carries.
pub(crate) fn endpoints_of(inc: &Incoming) -> Option<(std::net::SocketAddr, std::net::SocketAddr)> {
    let l = layout(inc.layer)?;
    Some((
        std::net::SocketAddr::new(addr_at(inc, l.local)?, port_at(inc, l.local_port)?),
        std::net::SocketAddr::new(addr_at(inc, l.remote?)?, port_at(inc, l.remote_port)?),
    ))
}

/// The field index of an `FWPM_CONDITION_*` key at `layer`, for the
/// fields [`Incoming::with_endpoints`] fills.
pub(crate) fn field_of(layer: u16, key: &GUID) -> Option<u32> {
    let l = layout(layer)?;
    let same = crate::model::callout::same_guid;
    let pick = if same(key, &FWPM_CONDITION_IP_PROTOCOL) {
        l.protocol
    } else if same(key, &FWPM_CONDITION_IP_LOCAL_ADDRESS) {
        Some(l.local)
    } else if same(key, &FWPM_CONDITION_IP_REMOTE_ADDRESS) {
        l.remote
    } else if same(key, &FWPM_CONDITION_IP_LOCAL_PORT) {
        l.local_port
    } else if same(key, &FWPM_CONDITION_IP_REMOTE_PORT) {
        l.remote_port
    } else if same(key, &FWPM_CONDITION_INTERFACE_INDEX) {
        l.if_index
    } else if same(key, &FWPM_CONDITION_SUB_INTERFACE_INDEX) {
        l.sub_if_index
    } else {
        None
    };
    pick.map(|i| i as u32)
}

impl Incoming {
    /// All `FWP_EMPTY` values for `layer`; `None` for a layer the engine
    /// does not lay out.
    pub fn empty(layer: u16) -> Option<Incoming> {
        let l = layout(layer)?;
        Some(Incoming { layer, values: vec![Value::Empty; l.max as usize] })
    }

    /// The values of a packet or connection between `ends` at `layer`, as
    /// the engine fills them: protocol, addresses (IPv4 as host-order
    /// `FWP_UINT32`, IPv6 as `FWP_BYTE_ARRAY16_TYPE`), ports, interface
    /// and sub-interface indices, and `app_id` where the layer has one.
    pub fn with_endpoints(layer: u16, ends: Endpoints, app_id: Option<&[u8]>) -> Option<Incoming> {
        let l = layout(layer)?;
        let mut inc = Incoming::empty(layer)?;
        let addr = |a: IpAddr| match a {
            IpAddr::V4(a) => Value::U32(u32::from(a)),
            IpAddr::V6(a) => Value::Bytes16(a.octets()),
        };
        if let Some(i) = l.protocol {
            inc.set(i as u32, Value::U8(ends.protocol));
        }
        inc.set(l.local as u32, addr(ends.local));
        if let Some(i) = l.remote {
            inc.set(i as u32, addr(ends.remote));
        }
        if let Some(i) = l.local_port {
            inc.set(i as u32, Value::U16(ends.local_port));
        }
        if let Some(i) = l.remote_port {
            inc.set(i as u32, Value::U16(ends.remote_port));
        }
        if let Some(i) = l.if_index {
            inc.set(i as u32, Value::U32(ends.interface_index));
        }
        if let Some(i) = l.sub_if_index {
            inc.set(i as u32, Value::U32(ends.sub_interface_index));
        }
        if let (Some(i), Some(app)) = (l.app_id, app_id) {
            inc.set(i as u32, Value::Blob(app.to_vec()));
        }
        Some(inc)
    }

    /// Sets field `index` (an `FWPS_FIELDS_*` enumerator of the layer).
    pub fn set(&mut self, index: u32, value: Value) -> &mut Incoming {
        if let Some(v) = self.values.get_mut(index as usize) {
            *v = value;
        }
        self
    }
}

/// The engine's records for one classify: the value array and what its
/// pointers point at, alive while the records are.
/// The pointed-at records are boxes turned into raw pointers (so that no
/// move of their owner retags them under the values' pointers), freed on
/// drop.
pub(crate) struct Laid {
    pub values: Vec<FWPS_INCOMING_VALUE0>,
    u64s: Vec<*mut u64>,
    b16s: Vec<*mut FWP_BYTE_ARRAY16>,
    blobs: Vec<(*mut FWP_BYTE_BLOB, Vec<u8>)>,
}

impl Drop for Laid {
    fn drop(&mut self) {
        // SAFETY: each pointer came from Box::into_raw below, freed once.
        unsafe {
            self.u64s.drain(..).for_each(|p| drop(Box::from_raw(p)));
            self.b16s.drain(..).for_each(|p| drop(Box::from_raw(p)));
            self.blobs.drain(..).for_each(|(p, _)| drop(Box::from_raw(p)));
        }
    }
}

pub(crate) fn lay_out(inc: &Incoming) -> Laid {
    let mut laid = Laid { values: Vec::new(), u64s: Vec::new(), b16s: Vec::new(), blobs: Vec::new() };
    for v in &inc.values {
        // SAFETY: an all-zero FWP_VALUE0 is FWP_EMPTY.
        let mut raw: FWP_VALUE0 = unsafe { std::mem::zeroed() };
        match v {
            Value::Empty => raw.type_ = FWP_EMPTY,
            Value::U8(x) => {
                raw.type_ = FWP_UINT8;
                raw.__bindgen_anon_1.uint8 = *x;
            }
            Value::U16(x) => {
                raw.type_ = FWP_UINT16;
                raw.__bindgen_anon_1.uint16 = *x;
            }
            Value::U32(x) => {
                raw.type_ = FWP_UINT32;
                raw.__bindgen_anon_1.uint32 = *x;
            }
            Value::U64(x) => {
                let b = Box::into_raw(Box::new(*x));
                raw.type_ = FWP_UINT64;
                raw.__bindgen_anon_1.uint64 = b;
                laid.u64s.push(b);
            }
            Value::Bytes16(x) => {
                let b = Box::into_raw(Box::new(FWP_BYTE_ARRAY16 { byteArray16: *x }));
                raw.type_ = FWP_BYTE_ARRAY16_TYPE;
                raw.__bindgen_anon_1.byteArray16 = b;
                laid.b16s.push(b);
            }
            Value::Blob(bytes) => {
                let mut data = bytes.clone();
                let b = Box::into_raw(Box::new(FWP_BYTE_BLOB { size: data.len() as u32, data: data.as_mut_ptr() }));
                raw.type_ = FWP_BYTE_BLOB_TYPE;
                raw.__bindgen_anon_1.byteBlob = b;
                laid.blobs.push((b, data));
            }
        }
        laid.values.push(FWPS_INCOMING_VALUE0 { value: raw });
    }
    laid
}
