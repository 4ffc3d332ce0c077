//! The management DDIs: sessions, transactions, sublayers, callouts and
//! filters with conditions, and what a dynamic session's close removes.
#![allow(clippy::multiple_unsafe_ops_per_block, reason = "raw DDIs: a block is one call and its record")]

use std::ffi::c_void;
use std::net::{IpAddr, Ipv4Addr};

use fwps_sys::*;
use ndis_sim::wfp::{Endpoints, Incoming, Metadata};

unsafe extern "system" fn notify(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER1) -> NTSTATUS {
    0
}

unsafe extern "system" fn block(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    filter: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's filter and classify out.
    unsafe {
        assert_eq!((*filter).context, 0xC0FFEE, "the filter's rawContext");
        (*out).actionType = FWP_ACTION_BLOCK;
        (*out).rights &= !FWPS_RIGHT_ACTION_WRITE;
    }
}

const CALLOUT: GUID = GUID { Data1: 0x3A11, Data2: 1, Data3: 2, Data4: *b"mgmttest" };
const SUBLAYER: GUID = GUID { Data1: 0x3A12, Data2: 1, Data3: 2, Data4: *b"mgmttest" };

fn run(port: u16) -> u32 {
    let ends = Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        local_port: 5000,
        remote_port: port,
        interface_index: 1,
        sub_interface_index: 1,
    };
    let incoming = Incoming::with_endpoints(FWPS_LAYER_OUTBOUND_TRANSPORT_V4 as u16, ends, None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify_layer(&incoming, &Metadata::default(), std::ptr::null_mut()) }.action
}

#[test]
fn a_dynamic_session_installs_a_callout_filter_that_its_close_removes() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let reg =
        FWPS_CALLOUT1 { calloutKey: CALLOUT, classifyFn: Some(block), notifyFn: Some(notify), ..Default::default() };
    let mut callout_id = 0;
    let mut engine: HANDLE = std::ptr::null_mut();
    let mut filter_id = 0u64;
    // SAFETY: the DDIs with valid records, as a DriverEntry calls them.
    unsafe {
        assert_eq!(FwpsCalloutRegister1(std::ptr::null_mut(), &reg, &mut callout_id), 0);
        let s = FWPM_SESSION0 { flags: FWPM_SESSION_FLAG_DYNAMIC, ..std::mem::zeroed() };
        assert_eq!(FwpmEngineOpen0(std::ptr::null(), 10, std::ptr::null_mut(), &s, &mut engine), 0);
        assert_eq!(FwpmTransactionBegin0(engine, 0), 0);
        let sub = FWPM_SUBLAYER0 { subLayerKey: SUBLAYER, weight: 0x8000, ..std::mem::zeroed() };
        assert_eq!(FwpmSubLayerAdd0(engine, &sub, std::ptr::null_mut()), 0);
        let mc = FWPM_CALLOUT0 {
            calloutKey: CALLOUT,
            applicableLayer: FWPM_LAYER_OUTBOUND_TRANSPORT_V4,
            ..std::mem::zeroed()
        };
        let mut id = 0;
        assert_eq!(FwpmCalloutAdd0(engine, &mc, std::ptr::null_mut(), &mut id), 0);
        assert_eq!(id, callout_id);
        let mut cond: FWPM_FILTER_CONDITION0 = std::mem::zeroed();
        cond.fieldKey = FWPM_CONDITION_IP_REMOTE_PORT;
        cond.matchType = FWP_MATCH_EQUAL;
        cond.conditionValue.type_ = FWP_UINT16;
        cond.conditionValue.__bindgen_anon_1.uint16 = 23;
        let mut f: FWPM_FILTER0 = std::mem::zeroed();
        f.layerKey = FWPM_LAYER_OUTBOUND_TRANSPORT_V4;
        f.subLayerKey = SUBLAYER;
        f.weight.type_ = FWP_UINT8;
        f.weight.__bindgen_anon_1.uint8 = 4;
        f.numFilterConditions = 1;
        f.filterCondition = &mut cond;
        f.action.type_ = FWP_ACTION_CALLOUT_TERMINATING;
        f.action.__bindgen_anon_1.calloutKey = CALLOUT;
        f.__bindgen_anon_1.rawContext = 0xC0FFEE;
        assert_eq!(FwpmFilterAdd0(engine, &f, std::ptr::null_mut(), &mut filter_id), 0);
        assert_eq!(FwpmTransactionCommit0(engine), 0);
    }
    assert_eq!(run(23), FWP_ACTION_BLOCK);
    assert_eq!(run(22), FWP_ACTION_PERMIT);
    // SAFETY: the callout is referenced by the filter: busy.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(callout_id) }, ndis_sim::wfp::STATUS_DEVICE_BUSY);
    // SAFETY: a dynamic session's close removes its objects.
    assert_eq!(unsafe { FwpmEngineClose0(engine) }, 0);
    assert_eq!(run(23), FWP_ACTION_PERMIT);
    // SAFETY: nothing references it now.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(callout_id) }, 0);
    assert!(session.leaks().is_empty());
}

#[test]
fn an_aborted_transaction_removes_what_it_added() {
    let _session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let mut engine: HANDLE = std::ptr::null_mut();
    // SAFETY: the DDIs with valid records.
    unsafe {
        assert_eq!(FwpmEngineOpen0(std::ptr::null(), 10, std::ptr::null_mut(), std::ptr::null(), &mut engine), 0);
        assert_eq!(FwpmTransactionBegin0(engine, 0), 0);
        assert_ne!(FwpmTransactionBegin0(engine, 0), 0, "one transaction at a time");
        let sub = FWPM_SUBLAYER0 { subLayerKey: SUBLAYER, weight: 1, ..std::mem::zeroed() };
        assert_eq!(FwpmSubLayerAdd0(engine, &sub, std::ptr::null_mut()), 0);
        let mut f: FWPM_FILTER0 = std::mem::zeroed();
        f.layerKey = FWPM_LAYER_OUTBOUND_TRANSPORT_V4;
        f.subLayerKey = SUBLAYER;
        f.action.type_ = FWP_ACTION_BLOCK;
        assert_eq!(FwpmFilterAdd0(engine, &f, std::ptr::null_mut(), std::ptr::null_mut()), 0);
        assert_eq!(run(1), FWP_ACTION_BLOCK);
        assert_eq!(FwpmTransactionAbort0(engine), 0);
        assert_eq!(run(1), FWP_ACTION_PERMIT);
        assert_eq!(FwpmSubLayerDeleteByKey0(engine, &SUBLAYER), 0xC022_0008_u32 as i32, "aborted: gone");
        assert_eq!(FwpmEngineClose0(engine), 0);
        assert_ne!(FwpmEngineClose0(engine), 0, "closed twice");
    }
}
