//! Filter arbitration between sublayers and within one, with raw callouts.
#![allow(clippy::multiple_unsafe_ops_per_block, reason = "raw callouts: a block is one engine record's access")]

use std::ffi::c_void;
use std::net::{IpAddr, Ipv4Addr};

use fwps_sys::*;
use ndis_sim::wfp::{Endpoints, FilterAction, FilterSpec, Incoming, Metadata, Value, Verdict};

unsafe extern "system" fn notify(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER1) -> NTSTATUS {
    0
}

/// Blocks (a veto when the right is clear), leaving the right as it is.
unsafe extern "system" fn block(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's classify out.
    unsafe { (*out).actionType = FWP_ACTION_BLOCK };
}

/// Continues: no decision.
unsafe extern "system" fn pass(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    _: *mut FWPS_CLASSIFY_OUT0,
) {
}

fn register(key: u32, f: FWPS_CALLOUT_CLASSIFY_FN1) -> u32 {
    let c = FWPS_CALLOUT1 {
        calloutKey: GUID { Data1: 0xA4B0 + key, ..GUID::default() },
        classifyFn: f,
        notifyFn: Some(notify),
        ..FWPS_CALLOUT1::default()
    };
    let mut id = 0;
    // SAFETY: a complete record; `id` is writable.
    assert_eq!(unsafe { FwpsCalloutRegister1(std::ptr::null_mut(), &c, &mut id) }, 0);
    id
}

const LAYER: u16 = FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16;

fn filter(sublayer: u32, weight: u64, action: FilterAction, flags: u32) -> u64 {
    ndis_sim::wfp::add_filter(FilterSpec {
        layer: LAYER,
        sublayer,
        weight,
        conditions: Vec::new(),
        action,
        flags: flags as u16,
        context: 0,
    })
    .unwrap()
}

fn run(port: u16) -> Verdict {
    let ends = Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        local_port: 80,
        remote_port: port,
        interface_index: 1,
        sub_interface_index: 1,
    };
    let incoming = Incoming::with_endpoints(LAYER, ends, None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify_layer(&incoming, &Metadata::default(), std::ptr::null_mut()) }
}

fn clean_slate() -> ndis_sim::Session {
    let s = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    s
}

fn unregister(ids: &[u32]) {
    ndis_sim::wfp::reset_filters();
    for id in ids {
        // SAFETY: any id may be passed.
        assert_eq!(unsafe { FwpsCalloutUnregisterById0(*id) }, 0);
    }
}

#[test]
fn nothing_decides_the_layer_permits() {
    let _s = clean_slate();
    assert_eq!(run(1).action, FWP_ACTION_PERMIT);
}

#[test]
fn a_block_overrides_a_soft_permit_above_it() {
    let _s = clean_slate();
    let (high, low) = (ndis_sim::wfp::add_sublayer(200), ndis_sim::wfp::add_sublayer(100));
    filter(high, 1, FilterAction::Permit, 0);
    filter(low, 1, FilterAction::Block, 0);
    assert_eq!(run(1).action, FWP_ACTION_BLOCK);
}

#[test]
fn a_hard_permit_stands_against_a_block_filter_but_not_a_callout_veto() {
    let _s = clean_slate();
    let (high, low) = (ndis_sim::wfp::add_sublayer(200), ndis_sim::wfp::add_sublayer(100));
    filter(high, 1, FilterAction::Permit, FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT);
    let blocker = filter(low, 1, FilterAction::Block, 0);
    let v = run(1);
    assert_eq!((v.action, v.vetoed), (FWP_ACTION_PERMIT, false));
    ndis_sim::wfp::delete_filter(blocker);
    let veto = register(1, Some(block));
    filter(low, 1, FilterAction::Callout(veto), 0);
    let v = run(1);
    assert_eq!((v.action, v.vetoed), (FWP_ACTION_BLOCK, true));
    unregister(&[veto]);
}

#[test]
fn a_hard_block_is_final_and_a_soft_block_is_not() {
    let _s = clean_slate();
    let (high, low) = (ndis_sim::wfp::add_sublayer(200), ndis_sim::wfp::add_sublayer(100));
    let hard = filter(high, 1, FilterAction::Block, 0);
    filter(low, 1, FilterAction::Permit, 0);
    assert_eq!(run(1).action, FWP_ACTION_BLOCK);
    ndis_sim::wfp::delete_filter(hard);
    // A callout that blocks and keeps the right: a soft block, which the
    // permit in the lower sublayer overrides.
    let soft = register(2, Some(block));
    filter(high, 1, FilterAction::Callout(soft), 0);
    assert_eq!(run(1).action, FWP_ACTION_PERMIT);
    unregister(&[soft]);
}

#[test]
fn within_a_sublayer_the_heaviest_matching_filter_decides_and_continue_falls_through() {
    let _s = clean_slate();
    let sub = ndis_sim::wfp::add_sublayer(1);
    let cont = register(3, Some(pass));
    let telnet = ndis_sim::wfp::add_filter(FilterSpec {
        layer: LAYER,
        sublayer: sub,
        weight: 50,
        conditions: vec![(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT as u32, Value::U16(23))],
        action: FilterAction::Block,
        flags: 0,
        context: 0,
    })
    .unwrap();
    filter(sub, 90, FilterAction::Callout(cont), 0);
    filter(sub, 10, FilterAction::Permit, 0);
    let v = run(23);
    assert_eq!((v.action, v.trace.clone()), (FWP_ACTION_BLOCK, vec![(telnet, FWP_ACTION_BLOCK)]));
    assert_eq!(run(80).action, FWP_ACTION_PERMIT, "the condition does not match: the light permit decides");
    // The continuing callout's filter holds it: no unregistration until deleted.
    // SAFETY: any id may be passed.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(cont) }, ndis_sim::wfp::STATUS_DEVICE_BUSY);
    unregister(&[cont]);
}
