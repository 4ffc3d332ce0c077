//! Outbound re-injection with the send parameters from the classify:
//! `FwpsInjectTransportSendAsync1` with the remote address (incoming
//! values), scope and control data (metadata), kept in a `SendSlot` until
//! the completion.

use std::net::{IpAddr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::NoContext;
use ndis_safe::clone::Fwps;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{Layer, OutboundTransportV6};
use ndis_safe::wfp::send::{SendSlot, SendTo};
use ndis_safe::wfp::{AF_INET6, ClonedPacket, Completed, InjectionHandle, InjectionTypes};
use ndis_sim::wfp::{Endpoints, Metadata};

static INJECTOR: Mutex<Option<InjectionHandle>> = Mutex::new(None);
static SLOT: SendSlot = SendSlot::new();
/// The socket's control data (one `WSACMSGHDR`), as the engine passes it.
const CONTROL: [u8; 16] = [16, 0, 0, 0, 0, 0, 0, 0, 41, 0, 0, 0, 50, 0, 0, 0];
static SENT: Mutex<Vec<(IpAddr, u32, usize)>> = Mutex::new(Vec::new());

fn done(completed: Completed<ClonedPacket<Fwps>>) {
    assert!(completed.status().is_ok());
}

struct Out6;
impl Callout for Out6 {
    type Layer = OutboundTransportV6;
    fn classify<'c>(mut c: Classify<'c, OutboundTransportV6>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        let injector = INJECTOR.lock().unwrap();
        let Some(handle) = injector.as_ref() else { return w.continue_() };
        let Some(remote) = c.get(OutboundTransportV6::IP_REMOTE_ADDRESS) else { return w.continue_() };
        let scope = c.remote_scope_id().unwrap_or(0);
        let control = c.control_data().unwrap_or(&[]);
        let Some(lent) = c.data() else { return w.continue_() };
        if handle.state(lent).is_self_injected() {
            return w.permit();
        }
        let Ok(packet) = lent.reference_and_clone::<Fwps, NoContext>(0, None, NoContext) else {
            return w.continue_();
        };
        let to = SendTo { remote: IpAddr::V6(remote), scope, control };
        match handle.inject_transport_send1(
            packet,
            core::slice::from_ref(&SLOT),
            0,
            fwps_sys::DEFAULT_COMPARTMENT_ID,
            to,
            done,
        ) {
            Ok(()) => {
                SENT.lock().unwrap().push((to.remote, scope, to.control.len()));
                w.absorb()
            }
            Err(rejected) => {
                drop(rejected.packet);
                w.block()
            }
        }
    }
}

#[test]
fn an_outbound_packet_is_reinjected_with_its_send_parameters() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let reg = Registration::<Out6>::register(
        device,
        GUID { Data1: 0x5E1D, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V1,
    )
    .unwrap();
    *INJECTOR.lock().unwrap() = Some(InjectionHandle::new(AF_INET6, InjectionTypes::TRANSPORT).unwrap());
    let sub = ndis_sim::wfp::add_sublayer(1);
    let filter = ndis_sim::wfp::add_filter(ndis_sim::wfp::FilterSpec {
        layer: OutboundTransportV6::ID,
        sublayer: sub,
        weight: 1,
        conditions: Vec::new(),
        action: ndis_sim::wfp::FilterAction::Callout(reg.id()),
        flags: 0,
        context: 0,
    })
    .unwrap();
    let remote: Ipv6Addr = "fe80::1".parse().unwrap();
    let ends = Endpoints {
        protocol: 17,
        local: IpAddr::V6("fe80::2".parse().unwrap()),
        remote: IpAddr::V6(remote),
        local_port: 5353,
        remote_port: 5353,
        interface_index: 2,
        sub_interface_index: 2,
    };
    let mut packet = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
    packet.resize(40, 0);
    packet.extend_from_slice(&[0x14, 0xe9, 0x14, 0xe9, 0, 12, 0, 0, b'm', b'd', b'n', b's']);
    let meta = Metadata {
        ip_header_size: Some(40),
        remote_scope_id: Some(2),
        control_data: Some(CONTROL.to_vec()),
        ..Metadata::default()
    };
    let first = ndis_sim::wfp::packet(OutboundTransportV6::ID, ends, &meta, &packet, 40, false);
    assert!(first.absorbed && first.action == FWP_ACTION_BLOCK);
    assert!(SLOT.is_busy(), "held until the completion");
    assert_eq!(SENT.lock().unwrap().as_slice(), [(IpAddr::V6(remote), 2, 16)]);

    // A second packet while the slot is busy: refused, blocked, given back.
    let second = ndis_sim::wfp::packet(OutboundTransportV6::ID, ends, &meta, &packet, 40, false);
    assert_eq!(second.action, FWP_ACTION_BLOCK);

    let back = ndis_sim::wfp::reclassify_injections(OutboundTransportV6::ID, ends, &meta, false);
    assert_eq!(back.iter().map(|v| v.action).collect::<Vec<_>>(), [FWP_ACTION_PERMIT]);
    assert_eq!(ndis_sim::wfp::take_wire(), vec![packet[40..].to_vec()], "the transport packet reached the wire");
    assert!(!SLOT.is_busy());

    ndis_sim::wfp::delete_filter(filter);
    ndis_sim::wfp::delete_sublayer(sub);
    drop(INJECTOR.lock().unwrap().take());
    reg.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
