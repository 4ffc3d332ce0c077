//! The sample filter end to end on the simulated filter stack, verifier
//! on (a report panics): attach to detach, frames both ways, pause in the
//! middle of traffic, nothing reported, nothing leaked.
#![allow(missing_docs, reason = "test")]

use core::sync::atomic::Ordering;

use ndis_filter::filter::{BLOCKED, COUNTED, DETACHED, EtherFilter, HEARTBEAT, HEARTBEAT_EVERY, REGISTRATION};
use ndis_safe::filter::FilterDriver;
use ndis_sim::Session;
use ndis_sim::lwf::Stack;
use ndis_sys::{NDIS_STATUS_FAILURE, NDIS_STATUS_PAUSED, NDIS_STATUS_SUCCESS};

fn frame(ethertype: u16, n: u8) -> Vec<u8> {
    let mut f = vec![n; 64];
    f[12..14].copy_from_slice(&ethertype.to_be_bytes());
    f
}

#[test]
fn attach_traffic_pause_restart_detach() {
    let session = Session::new();
    // SAFETY: the simulator takes any driver object.
    let driver = unsafe { FilterDriver::<EtherFilter>::register(core::ptr::null_mut(), &REGISTRATION) }.unwrap();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());

    let ip = frame(0x0800, 1);
    let ip6 = frame(COUNTED, 2);
    let bad = frame(BLOCKED, 3);
    for _ in 0..HEARTBEAT_EVERY {
        stack.send(&[&ip, &bad, &ip6]);
    }
    stack.receive(&[&bad, &ip, &ip6], false);
    stack.receive(&[&ip6, &bad], true);
    // Blocked sends completed at once with the filter's status.
    assert_eq!(stack.completed(), vec![NDIS_STATUS_FAILURE; HEARTBEAT_EVERY as usize]);
    // Two frames per chain, plus one heartbeat after the last chain.
    let sent = stack.sent();
    assert_eq!(sent.len(), 2 * HEARTBEAT_EVERY as usize + 1);
    assert_eq!(sent.last().unwrap()[12..14], HEARTBEAT.to_be_bytes());
    assert_eq!(sent.last().unwrap()[6..12], [0x02, 0, 0x5e, 0x10, 0, 1], "from the attached MAC");
    assert_eq!(stack.received(), vec![ip.clone(), ip6.clone(), ip6.clone()]);

    // Pause in the middle of traffic: it waits for what is out.
    assert!(!stack.pause());
    stack.send(&[&ip]);
    assert_eq!(*stack.completed().last().unwrap(), NDIS_STATUS_PAUSED);
    // Completions out of order.
    while stack.pending_sends() > 0 {
        stack.complete_send(stack.pending_sends() / 2, NDIS_STATUS_SUCCESS);
        if stack.pending_returns() > 0 {
            stack.return_receive(0);
        }
    }
    stack.return_receives();
    assert!(stack.is_paused());

    // Traffic again, then detach.
    assert!(stack.restart());
    stack.send(&[&ip]);
    stack.receive(&[&ip], false);
    stack.complete_sends();
    stack.return_receives();
    assert!(stack.pause());
    stack.detach();
    assert_eq!(DETACHED.heartbeats.load(Ordering::Relaxed), 1);
    assert_eq!(DETACHED.heartbeats_back.load(Ordering::Relaxed), 1);
    assert_eq!(DETACHED.dropped.load(Ordering::Relaxed), u64::from(HEARTBEAT_EVERY) + 2);
    assert_eq!(DETACHED.counted.load(Ordering::Relaxed), u64::from(HEARTBEAT_EVERY) + 2);
    drop(stack);
    drop(driver);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn oid_requests_status_and_pnp_pass_through() {
    use ndis_sys::{
        NDIS_STATUS_BUFFER_TOO_SHORT, NDIS_STATUS_LINK_STATE, NetEventSetPower, OID_802_3_CURRENT_ADDRESS,
        OID_GEN_CURRENT_PACKET_FILTER, OID_GEN_MAXIMUM_FRAME_SIZE,
    };
    let session = Session::new();
    // SAFETY: the simulator takes any driver object.
    let driver = unsafe { FilterDriver::<EtherFilter>::register(core::ptr::null_mut(), &REGISTRATION) }.unwrap();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    // OIDs reach a paused module too (NDIS sends them in any state).
    let mac = stack.oid_result(stack.query_oid(OID_802_3_CURRENT_ADDRESS, 6)).expect("answered at once");
    assert_eq!((mac.status, mac.data), (NDIS_STATUS_SUCCESS, vec![0x02, 0, 0x5e, 0x10, 0, 1]));
    assert!(stack.restart());
    let short = stack.oid_result(stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 1)).unwrap();
    assert_eq!((short.status, short.bytes_needed), (NDIS_STATUS_BUFFER_TOO_SHORT, 4));

    // Pending completions, with traffic while they pend.
    stack.set_miniport_pends(true);
    let set = stack.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &0x0000_000bu32.to_le_bytes());
    let size = stack.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let ip = frame(0x0800, 1);
    stack.send(&[&ip]);
    assert_eq!(stack.oid_result(set), None);
    assert!(stack.complete_miniport_oid());
    assert_eq!(stack.oid_result(set).unwrap().bytes, 4);
    assert!(stack.complete_miniport_oid());
    assert_eq!(stack.oid_result(size).unwrap().data, 1500u32.to_le_bytes());
    assert_eq!(stack.miniport_oid_value(OID_GEN_CURRENT_PACKET_FILTER).unwrap(), 0x0bu32.to_le_bytes());

    // Status and PnP pass through.
    stack.indicate_status(NDIS_STATUS_LINK_STATE, &[1, 0, 0, 0]);
    assert_eq!(stack.statuses(), vec![(NDIS_STATUS_LINK_STATE, vec![1, 0, 0, 0])]);
    assert_eq!(stack.net_pnp_event(NetEventSetPower, &[]), NDIS_STATUS_SUCCESS);
    assert_eq!(stack.net_pnp_events().len(), 1);

    stack.complete_sends();
    assert!(stack.pause());
    stack.detach();
    assert!(stack.held().is_empty(), "no OID clone left: {:?}", stack.held());
    drop(stack);
    drop(driver);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
