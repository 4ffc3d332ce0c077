//! The inspect pattern through the simulated engine: a typed callout
//! absorbs an inbound packet, injects a clone of it from its IP header
//! (retreating by the layer's documented offset) on the interface the
//! classify's values name, and lets it pass when it comes back through
//! the layer recognised as its own; the packet reaches the socket once.

use std::net::{IpAddr, Ipv4Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::NoContext;
use ndis_safe::clone::Fwps;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{InboundTransportV4, Layer};
use ndis_safe::wfp::mgmt::{Engine, Filter, FilterAction, SubLayer};
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport};
use ndis_sim::wfp::{Endpoints, Metadata};

static INJECTOR: Mutex<Option<InjectionHandle>> = Mutex::new(None);

fn done(completed: Completed<ClonedPacket<Fwps>>) {
    assert!(completed.status().is_ok());
}

struct Inspect;
impl Callout for Inspect {
    type Layer = InboundTransportV4;
    fn classify<'c>(mut c: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        let injector = INJECTOR.lock().unwrap();
        let Some(handle) = injector.as_ref() else { return w.continue_() };
        // Where to inject: the interface the packet came in on, if the
        // engine says.
        let (Some(interface), Some(sub_interface)) =
            (c.get(InboundTransportV4::INTERFACE_INDEX), c.get(InboundTransportV4::SUB_INTERFACE_INDEX))
        else {
            return w.continue_();
        };
        let Some(back) = c.bytes_to_ip_header() else { return w.continue_() };
        let compartment = c.compartment_id().map_or(fwps_sys::DEFAULT_COMPARTMENT_ID, |id| id as i32);
        let Some(lent) = c.data() else { return w.continue_() };
        if handle.state(lent).is_self_injected() {
            return w.permit();
        }
        let Ok(packet) = lent.reference_and_clone::<Fwps, NoContext>(back, None, NoContext) else {
            return w.continue_();
        };
        let to = Transport::TransportReceive { family: AF_INET, compartment, interface, sub_interface };
        match handle.inject(packet, to, done) {
            Ok(()) => w.absorb(),
            Err(_rejected) => w.continue_(),
        }
    }
}

#[test]
fn an_absorbed_packet_comes_back_injected_and_reaches_the_socket_once() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let key = GUID { Data1: 0x1AC7, ..GUID::default() };
    let reg = Registration::<Inspect>::register(device, key, CalloutFlags::NONE, Version::V2).unwrap();
    *INJECTOR.lock().unwrap() = Some(InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap());
    let engine = Engine::open(true).unwrap();
    let sublayer = SubLayer::add(&engine, GUID { Data1: 0x1AC8, ..GUID::default() }, 7).unwrap();
    let filter = Filter::add(&engine, &sublayer, 1, &[], FilterAction::callout(&reg, key), 0).unwrap();

    let mut packet = vec![0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 10, 0, 0, 1];
    packet.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0]);
    packet.extend_from_slice(b"question");
    let ends = Endpoints {
        protocol: 17,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        local_port: 53,
        remote_port: 12345,
        interface_index: 6,
        sub_interface_index: 7,
    };
    let meta = Metadata { ip_header_size: Some(20), transport_header_size: Some(8), ..Metadata::default() };
    let first = ndis_sim::wfp::packet(InboundTransportV4::ID, ends, &meta, &packet, 28, true);
    assert!(first.absorbed && first.action == FWP_ACTION_BLOCK);
    assert!(ndis_sim::wfp::take_socket().is_empty(), "absorbed: nothing reached the socket yet");
    assert_eq!(ndis_sim::pending_injections(), 1);

    let back = ndis_sim::wfp::reclassify_injections(InboundTransportV4::ID, ends, &meta, true);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].action, FWP_ACTION_PERMIT, "recognised as self-injected");
    assert_eq!(ndis_sim::wfp::take_socket(), vec![packet.clone()], "injected from the IP header");
    assert_eq!(ndis_sim::pending_injections(), 0);

    drop(filter);
    drop(sublayer);
    drop(engine);
    drop(INJECTOR.lock().unwrap().take());
    reg.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
