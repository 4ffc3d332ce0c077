//! Multi-layer callouts on the simulated engine: one classify function
//! registered at the four transport layers (each registration under its own
//! key, with any registration DDI), the layer known at run time, the set's
//! fields read by the layer's index table, a member's own fields `None` at
//! the other layers, and the data offset of the layer the classify is at.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::{At, Callout, CalloutFlags, DeviceObject, MultiLayerCallout, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{
    AleAuthConnectV4, DataOffset, Family, InboundTransportV4, InboundTransportV6, Layer, OutboundTransportV4,
    OutboundTransportV6, TransportLayers,
};
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

/// What one classify saw.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    layer: u16,
    inbound_v4: bool,
    family: Family,
    offset: DataOffset,
    interface: Option<u32>,
    remote: Option<IpAddr>,
    remote_port: Option<u16>,
    /// `OutboundTransportV6::IP_REMOTE_PORT`: `None` at the other layers.
    outbound_v6_port: Option<u16>,
    back: Option<u32>,
}

static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
static SERIAL: Mutex<()> = Mutex::new(());

enum Transport {}

impl MultiLayerCallout for Transport {
    type Layers = TransportLayers;
    fn classify<'c>(c: Classify<'c, TransportLayers>, action: Action<'c>) -> Decided<'c> {
        let seen = Seen {
            layer: c.layer_id(),
            inbound_v4: c.is::<InboundTransportV4>(),
            family: c.family(),
            offset: c.data_offset(),
            interface: c.get(TransportLayers::INTERFACE_INDEX),
            remote: c.get(TransportLayers::IP_REMOTE_ADDRESS),
            remote_port: c.get(TransportLayers::IP_REMOTE_PORT),
            outbound_v6_port: c.get(OutboundTransportV6::IP_REMOTE_PORT),
            back: c.bytes_to_ip_header(),
        };
        let block = seen.remote_port == Some(23);
        SEEN.lock().unwrap().push(seen);
        match action {
            Action::Writable(w) if block => w.block(),
            Action::Writable(w) => w.permit(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn key(n: u32) -> GUID {
    GUID { Data1: 0x1A7E_0000 + n, Data2: 1, Data3: 2, Data4: *b"layerset" }
}

fn ends(v6: bool, remote_port: u16) -> Endpoints {
    Endpoints {
        protocol: 17,
        local: if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)) },
        remote: if v6 { IpAddr::V6("2001:db8::7".parse().unwrap()) } else { IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)) },
        local_port: 5353,
        remote_port,
        interface_index: if v6 { 9 } else { 3 },
        sub_interface_index: 1,
    }
}

fn classify(id: u32, layer: u16, ends: Endpoints, meta: &Metadata) -> Option<ndis_sim::wfp::Outcome> {
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, meta, std::ptr::null_mut(), Filter::default()) }
}

fn take() -> Vec<Seen> {
    std::mem::take(&mut *SEEN.lock().unwrap())
}

#[test]
fn one_classify_function_serves_the_four_layers_each_read_at_its_own_indices() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let _sim = ndis_sim::Session::new();
    let _ = take();
    // One loop registers the four, each turned to its layer's type.
    let keys = [key(1), key(2), key(3), key(4)];
    let [in4, in6, out4, out6] = Registration::<At<Transport, InboundTransportV4>>::register_each(
        device(),
        keys,
        CalloutFlags::NONE,
        Version::V1,
    )
    .unwrap();
    let in6: Registration<At<Transport, InboundTransportV6>> = in6.into_layer();
    let out4: Registration<At<Transport, OutboundTransportV4>> = out4.into_layer();
    let out6: Registration<At<Transport, OutboundTransportV6>> = out6.into_layer();
    assert_eq!(ndis_sim::registered_callouts(), 4);
    let ids = [in4.id(), in6.id(), out4.id(), out6.id()];
    assert!(ids.iter().enumerate().all(|(n, id)| !ids[..n].contains(id)), "four registrations: {ids:?}");
    let meta = Metadata { ip_header_size: Some(20), transport_header_size: Some(8), ..Default::default() };
    let runs = [
        (in4.id(), InboundTransportV4::ID, false),
        (in6.id(), InboundTransportV6::ID, true),
        (out4.id(), OutboundTransportV4::ID, false),
        (out6.id(), OutboundTransportV6::ID, true),
    ];
    for (id, layer, v6) in runs {
        let out = classify(id, layer, ends(v6, 53), &meta).unwrap();
        assert_eq!(out.action, FWP_ACTION_PERMIT);
    }
    let seen = take();
    let v4_remote = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let v6_remote = Some(IpAddr::V6("2001:db8::7".parse().unwrap()));
    let expect = |layer, inbound_v4, family, offset, interface, remote, v6_port, back| Seen {
        layer,
        inbound_v4,
        family,
        offset,
        interface: Some(interface),
        remote,
        remote_port: Some(53),
        outbound_v6_port: v6_port,
        back,
    };
    assert_eq!(
        seen,
        vec![
            expect(InboundTransportV4::ID, true, Family::V4, DataOffset::Payload, 3, v4_remote, None, Some(28)),
            expect(InboundTransportV6::ID, false, Family::V6, DataOffset::Payload, 9, v6_remote, None, Some(28)),
            expect(
                OutboundTransportV4::ID,
                false,
                Family::V4,
                DataOffset::TransportHeader,
                3,
                v4_remote,
                None,
                Some(20)
            ),
            expect(
                OutboundTransportV6::ID,
                false,
                Family::V6,
                DataOffset::TransportHeader,
                9,
                v6_remote,
                Some(53),
                Some(20)
            ),
        ]
    );
    // The decision is the classify's: port 23 is blocked at any layer.
    let out = classify(out6.id(), OutboundTransportV6::ID, ends(true, 23), &meta).unwrap();
    assert_eq!(out.action, FWP_ACTION_BLOCK);
    assert_eq!(take().len(), 1);
    for r in [in4.unregister().is_ok(), in6.unregister().is_ok(), out4.unregister().is_ok(), out6.unregister().is_ok()]
    {
        assert!(r);
    }
    assert_eq!(ndis_sim::registered_callouts(), 0);
}

#[test]
fn a_layer_outside_the_set_is_left_untouched_and_every_ddi_version_registers_the_shared_function() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let _sim = ndis_sim::Session::new();
    let _ = take();
    let meta = Metadata::default();
    for (n, version) in [Version::V0, Version::V1, Version::V2, Version::V3].into_iter().enumerate() {
        let reg = Registration::<At<Transport, InboundTransportV4>>::register(
            device(),
            key(10 + n as u32),
            CalloutFlags::NONE,
            version,
        )
        .unwrap();
        let out = classify(reg.id(), InboundTransportV4::ID, ends(false, 23), &meta).unwrap();
        assert_eq!(out.action, FWP_ACTION_BLOCK, "{version:?}");
        // A classify at a layer none of the set's: the callout does nothing.
        let out = classify(reg.id(), AleAuthConnectV4::ID, ends(false, 23), &meta).unwrap();
        assert_ne!(out.action, FWP_ACTION_BLOCK, "{version:?}: the action is not written");
        assert_eq!(take().len(), 1, "{version:?}: classify ran once");
        assert!(reg.unregister().is_ok());
    }
}

#[test]
fn at_is_an_ordinary_callout_of_its_layer() {
    // What a filter or a flow context names: the registration's layer.
    let key = <<At<Transport, OutboundTransportV6> as Callout>::Layer as Layer>::KEY;
    assert_eq!((key.Data1, key.Data4), (OutboundTransportV6::KEY.Data1, OutboundTransportV6::KEY.Data4));
    assert_eq!(TransportLayers::IDS.len(), 4);
    assert_eq!(TransportLayers::IDS[2], OutboundTransportV4::ID);
}
