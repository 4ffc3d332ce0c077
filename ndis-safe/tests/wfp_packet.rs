//! Layer data typed by layer: the lent NBL at packet layers, retreated to
//! the IP header by the layer's documented data offset and the header
//! sizes in the metadata.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{DataOffset, InboundTransportV4, Layer, OutboundTransportV6};
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

/// The first bytes of the packet from its IP header, as the callout saw them.
static HEADERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Reads the packet from its IP header: blocks when it is not what the
/// addresses say (a lying header), permits otherwise; continues when it
/// cannot find the header.
fn inspect<L: Layer<Kind = ndis_safe::wfp::layer::Packet>>(mut c: Classify<'_, L>, version: u8) -> Option<bool> {
    let back = c.bytes_to_ip_header()?;
    let lent = c.data()?;
    let seen = lent
        .with_retreat(back, |nbl| {
            let mut storage = [0u8; 4];
            nbl.first().and_then(|nb| nb.peek(&mut storage).map(<[u8]>::to_vec))
        })
        .ok()??;
    HEADERS.lock().unwrap().push(seen.clone());
    Some(seen[0] >> 4 == version)
}

struct In4;
impl Callout for In4 {
    type Layer = InboundTransportV4;
    fn classify<'c>(c: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        let Action::Writable(w) = action else { return action_leave(action) };
        match inspect(c, 4) {
            Some(true) => w.permit(),
            Some(false) => w.block(),
            None => w.continue_(),
        }
    }
}

struct Out6;
impl Callout for Out6 {
    type Layer = OutboundTransportV6;
    fn classify<'c>(c: Classify<'c, OutboundTransportV6>, action: Action<'c>) -> Decided<'c> {
        let Action::Writable(w) = action else { return action_leave(action) };
        match inspect(c, 6) {
            Some(true) => w.permit(),
            Some(false) => w.block(),
            None => w.continue_(),
        }
    }
}

fn action_leave(action: Action<'_>) -> Decided<'_> {
    match action {
        Action::Writable(w) => w.continue_(),
        Action::ReadOnly(r) => r.leave(),
    }
}

fn ends(local: IpAddr, remote: IpAddr) -> Endpoints {
    Endpoints {
        protocol: 17,
        local,
        remote,
        local_port: 53,
        remote_port: 5353,
        interface_index: 1,
        sub_interface_index: 1,
    }
}

fn run(id: u32, layer: u16, e: Endpoints, packet: &[u8], offset: u32, meta: &Metadata) -> u32 {
    let lent = ndis_sim::StackNbl::indicate(packet, offset);
    let incoming = Incoming::with_endpoints(layer, e, None).unwrap();
    // SAFETY: the stack lends the NBL for the call.
    let out = unsafe { ndis_sim::wfp::classify(id, &incoming, meta, lent.as_ptr(), Filter::default()) }.unwrap();
    assert_eq!(lent.data(), packet[offset as usize..], "given back at the offset it came with");
    lent.complete();
    out.action
}

#[test]
fn inbound_transport_data_starts_after_the_transport_header() {
    let session = ndis_sim::Session::new();
    HEADERS.lock().unwrap().clear();
    assert_eq!(InboundTransportV4::DATA_OFFSET, DataOffset::Payload);
    let reg = Registration::<In4>::register(
        device(),
        GUID { Data1: 0x1A, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V2,
    )
    .unwrap();
    let e = ends(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    // IPv4 header (20), UDP header (8), payload: the layer's data starts at the payload.
    let mut packet = vec![0x45, 0, 0, 36];
    packet.resize(20, 0);
    packet.extend_from_slice(&[0, 53, 0x14, 0xe9, 0, 16, 0, 0]);
    packet.extend_from_slice(b"payload!");
    let both = Metadata { ip_header_size: Some(20), transport_header_size: Some(8), ..Metadata::default() };
    assert_eq!(run(reg.id(), InboundTransportV4::ID, e, &packet, 28, &both), FWP_ACTION_PERMIT);
    assert_eq!(HEADERS.lock().unwrap()[0], [0x45, 0, 0, 36], "retreated by both headers, to the IP header");
    // Without the transport header size the callout cannot find the header.
    let ip_only = Metadata { ip_header_size: Some(20), ..Metadata::default() };
    assert_eq!(run(reg.id(), InboundTransportV4::ID, e, &packet, 28, &ip_only), FWP_ACTION_CONTINUE);
    reg.unregister().unwrap();
    assert!(session.leaks().is_empty());
}

#[test]
fn outbound_transport_data_starts_at_the_transport_header() {
    let session = ndis_sim::Session::new();
    HEADERS.lock().unwrap().clear();
    let reg = Registration::<Out6>::register(
        device(),
        GUID { Data1: 0x1B, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V3,
    )
    .unwrap();
    let e = ends(IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut packet = vec![0x60, 0, 0, 0];
    packet.resize(40, 0);
    packet.extend_from_slice(&[0, 53, 0x14, 0xe9, 0, 8, 0, 0]);
    let meta = Metadata { ip_header_size: Some(40), ..Metadata::default() };
    assert_eq!(run(reg.id(), OutboundTransportV6::ID, e, &packet, 40, &meta), FWP_ACTION_PERMIT);
    // A packet whose header is not IPv6 at this layer is blocked.
    packet[0] = 0x45;
    assert_eq!(run(reg.id(), OutboundTransportV6::ID, e, &packet, 40, &meta), FWP_ACTION_BLOCK);
    assert_eq!(HEADERS.lock().unwrap().len(), 2);
    reg.unregister().unwrap();
    assert!(session.leaks().is_empty());
}
