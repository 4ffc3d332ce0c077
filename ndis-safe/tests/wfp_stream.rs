//! The stream layer's data, typed: the segment's length, flags and NBL
//! chain, and asking for more data.

use std::net::{IpAddr, Ipv4Addr};
use std::ptr::NonNull;

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWPS_STREAM_ACTION_NEED_MORE_DATA,
    FWPS_STREAM_ACTION_NONE, FWPS_STREAM_FLAG_RECEIVE, GUID,
};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{Layer, StreamV4};
use ndis_sim::wfp::Endpoints;

/// Blocks received streams that start with a forbidden word; wants 8
/// bytes before deciding.
struct Words;
impl Callout for Words {
    type Layer = StreamV4;
    fn classify<'c>(mut c: Classify<'c, StreamV4>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        let Some(stream) = c.data() else { return w.continue_() };
        if stream.flags() & FWPS_STREAM_FLAG_RECEIVE == 0 {
            return w.permit();
        }
        if stream.len() < 8 {
            stream.need_more_data(8);
            return w.continue_();
        }
        let mut head = [0u8; 4];
        let evil = stream
            .nbls()
            .and_then(|nbl| nbl.first().and_then(|nb| nb.peek(&mut head).map(|h| h == b"EVIL")))
            .unwrap_or(false);
        if evil { w.block() } else { w.permit() }
    }
}

#[test]
fn stream_segments_are_read_and_more_data_is_asked_for() {
    let session = ndis_sim::Session::new();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let reg = Registration::<Words>::register(
        device,
        GUID { Data1: 0x57EA, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V1,
    )
    .unwrap();
    let ends = Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        local_port: 80,
        remote_port: 40000,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let rx = FWPS_STREAM_FLAG_RECEIVE;
    let short = ndis_sim::wfp::stream(reg.id(), StreamV4::ID, ends, b"EVI", rx).unwrap();
    assert_eq!(
        (short.outcome.action, short.stream_action, short.bytes_required),
        (FWP_ACTION_CONTINUE, FWPS_STREAM_ACTION_NEED_MORE_DATA, 8)
    );
    let evil = ndis_sim::wfp::stream(reg.id(), StreamV4::ID, ends, b"EVIL payload", rx).unwrap();
    assert_eq!((evil.outcome.action, evil.stream_action), (FWP_ACTION_BLOCK, FWPS_STREAM_ACTION_NONE));
    let fine = ndis_sim::wfp::stream(reg.id(), StreamV4::ID, ends, b"GET / HTTP/1.1", rx).unwrap();
    assert_eq!(fine.outcome.action, FWP_ACTION_PERMIT);
    let sent = ndis_sim::wfp::stream(reg.id(), StreamV4::ID, ends, b"EVIL", 0).unwrap();
    assert_eq!(sent.outcome.action, FWP_ACTION_PERMIT, "only received data is inspected");
    reg.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
}
