//! The engine's callout rules, each with a raw probe that breaks it and a
//! clean twin, and a C-style callout that indexes `incomingValue[]` by the
//! `FWPS_FIELDS_*` enumerators.
#![allow(clippy::multiple_unsafe_ops_per_block, reason = "raw callouts: a block is one engine record's access")]

use std::ffi::c_void;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use fwps_sys::*;
use ndis_sim::Rule;
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

unsafe extern "system" fn notify(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER1) -> NTSTATUS {
    0
}

fn ends() -> Endpoints {
    Endpoints {
        protocol: 17,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        local_port: 1000,
        remote_port: 53,
        interface_index: 7,
        sub_interface_index: 8,
    }
}

fn register(key: u32, classify: FWPS_CALLOUT_CLASSIFY_FN1) -> u32 {
    let callout = FWPS_CALLOUT1 {
        calloutKey: GUID { Data1: key, ..GUID::default() },
        classifyFn: classify,
        notifyFn: Some(notify),
        ..FWPS_CALLOUT1::default()
    };
    let mut id = 0;
    // SAFETY: a complete record; `id` is writable.
    assert_eq!(unsafe { FwpsCalloutRegister1(std::ptr::null_mut(), &callout, &mut id) }, 0);
    id
}

fn classify(id: u32, filter: Filter) -> ndis_sim::wfp::Outcome {
    let incoming = Incoming::with_endpoints(FWPS_LAYER_OUTBOUND_TRANSPORT_V4 as u16, ends(), None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &Metadata::default(), std::ptr::null_mut(), filter) }.unwrap()
}

/// Permits whatever the rights say: the probe.
unsafe extern "system" fn permit_always(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's classify out.
    unsafe { (*out).actionType = FWP_ACTION_PERMIT };
}

/// Permits only with the right: the clean twin.
unsafe extern "system" fn permit_with_right(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's classify out.
    let out = unsafe { &mut *out };
    if out.rights & FWPS_RIGHT_ACTION_WRITE != 0 {
        out.actionType = FWP_ACTION_PERMIT;
    }
}

#[test]
fn writing_the_action_without_the_right_is_reported() {
    let session = ndis_sim::Session::collecting();
    let probe = register(1, Some(permit_always));
    let read_only = Filter { write_right: false, ..Filter::default() };
    assert_eq!(classify(probe, read_only).action, FWP_ACTION_PERMIT);
    assert_eq!(session.rules(), vec![Rule::ClassifyOutWrittenWithoutRight]);
    // SAFETY: any id may be passed.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(probe) }, 0);
}

#[test]
fn writing_the_action_with_the_right_is_clean() {
    let session = ndis_sim::Session::collecting();
    let twin = register(2, Some(permit_with_right));
    assert_eq!(classify(twin, Filter { write_right: false, ..Filter::default() }).action, FWP_ACTION_CONTINUE);
    assert_eq!(classify(twin, Filter::default()).action, FWP_ACTION_PERMIT);
    assert!(session.reports().is_empty());
    // SAFETY: any id may be passed.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(twin) }, 0);
}

static HANDLE: AtomicU64 = AtomicU64::new(0);

/// Acquires a handle and pends: the test completes and releases it.
unsafe extern "system" fn pend(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    context: *const c_void,
    filter: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    let mut h = 0;
    // SAFETY: the engine's classify context, filter and classify out.
    unsafe {
        assert_eq!(FwpsAcquireClassifyHandle0(context.cast_mut(), 0, &mut h), 0);
        assert_eq!(FwpsPendClassify0(h, (*filter).filterId, 0, out), 0);
        (*out).actionType = FWP_ACTION_BLOCK;
        (*out).flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        (*out).rights &= !FWPS_RIGHT_ACTION_WRITE;
    }
    HANDLE.store(h, Ordering::SeqCst);
}

fn complete(h: u64) {
    let out = FWPS_CLASSIFY_OUT0 { actionType: FWP_ACTION_PERMIT, ..Default::default() };
    // SAFETY: a pended handle; `out` is read during the call.
    unsafe { FwpsCompleteClassify0(h, 0, &out) };
}

#[test]
fn releasing_a_classify_handle_twice_is_reported() {
    let session = ndis_sim::Session::collecting();
    let id = register(3, Some(pend));
    assert!(classify(id, Filter::default()).pended);
    let h = HANDLE.load(Ordering::SeqCst);
    complete(h);
    // SAFETY: the probe: released twice.
    unsafe {
        FwpsReleaseClassifyHandle0(h);
        FwpsReleaseClassifyHandle0(h);
    }
    assert_eq!(session.rules(), vec![Rule::ClassifyHandleMisuse]);
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

#[test]
fn a_pend_completed_and_released_once_is_clean_and_one_never_completed_is_outstanding() {
    let session = ndis_sim::Session::collecting();
    let id = register(4, Some(pend));
    assert!(classify(id, Filter::default()).pended);
    let h = HANDLE.load(Ordering::SeqCst);
    complete(h);
    // SAFETY: completed, released once.
    unsafe { FwpsReleaseClassifyHandle0(h) };
    assert_eq!(ndis_sim::wfp::completions()[0].1.action, FWP_ACTION_PERMIT);
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
    // Never completed: the watchdog lists it.
    assert!(classify(id, Filter::default()).pended);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    assert!(session.reports().is_empty());
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

static READ: AtomicU64 = AtomicU64::new(0);

/// Microsoft's inspect style: `incomingValue[FWPS_FIELD_…].value.uint16`,
/// through the version-0 signature.
unsafe extern "system" fn c_style(
    values: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const FWPS_FILTER0,
    _: u64,
    _: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's values, indexed as C drivers do.
    unsafe {
        let v = (*values).incomingValue;
        let port = (*v.add(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_PORT as usize)).value.__bindgen_anon_1.uint16;
        let addr = (*v.add(FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS as usize)).value.__bindgen_anon_1.uint32;
        READ.store(u64::from(port) << 32 | u64::from(addr), Ordering::SeqCst);
        assert_eq!((*values).valueCount, FWPS_FIELD_OUTBOUND_TRANSPORT_V4_MAX as u32);
    }
}

unsafe extern "system" fn notify0(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER0) -> NTSTATUS {
    0
}

#[test]
fn a_c_callout_indexes_incoming_values_by_field() {
    let _session = ndis_sim::Session::new();
    let callout = FWPS_CALLOUT0 {
        calloutKey: GUID { Data1: 5, ..GUID::default() },
        classifyFn: Some(c_style),
        notifyFn: Some(notify0),
        ..FWPS_CALLOUT0::default()
    };
    let mut id = 0;
    // SAFETY: a complete record; `id` is writable.
    assert_eq!(unsafe { FwpsCalloutRegister0(std::ptr::null_mut(), &callout, &mut id) }, 0);
    classify(id, Filter::default());
    assert_eq!(READ.load(Ordering::SeqCst), 53 << 32 | u64::from(u32::from(Ipv4Addr::new(10, 0, 0, 2))));
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

static FLOW_DELETES: AtomicU64 = AtomicU64::new(0);

unsafe extern "system" fn flow_delete(_: u16, _: u32, context: u64) {
    FLOW_DELETES.fetch_add(context, Ordering::SeqCst);
}

fn register_with_flows(key: u32) -> u32 {
    let callout = FWPS_CALLOUT1 {
        calloutKey: GUID { Data1: key, ..GUID::default() },
        classifyFn: Some(permit_with_right),
        notifyFn: Some(notify),
        flowDeleteFn: Some(flow_delete),
        ..FWPS_CALLOUT1::default()
    };
    let mut id = 0;
    // SAFETY: a complete record; `id` is writable.
    assert_eq!(unsafe { FwpsCalloutRegister1(std::ptr::null_mut(), &callout, &mut id) }, 0);
    id
}

#[test]
fn unregistering_with_flow_contexts_left_is_reported() {
    let session = ndis_sim::Session::collecting();
    FLOW_DELETES.store(0, Ordering::SeqCst);
    let id = register_with_flows(6);
    let layer = FWPS_LAYER_STREAM_V4 as u16;
    // SAFETY: plain values.
    assert_eq!(unsafe { FwpsFlowAssociateContext0(9, layer, id, 100) }, 0);
    // SAFETY: the probe: unregistered with the context left.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(id) }, ndis_sim::wfp::STATUS_DEVICE_BUSY);
    assert_eq!(session.rules(), vec![Rule::FlowContextLeftAtUnregister]);
    assert_eq!(FLOW_DELETES.load(Ordering::SeqCst), 100, "the engine deleted it through flowDeleteFn");
    // SAFETY: retried, it goes.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(id) }, 0);
}

#[test]
fn removing_flow_contexts_before_unregistering_is_clean() {
    let session = ndis_sim::Session::collecting();
    FLOW_DELETES.store(0, Ordering::SeqCst);
    let id = register_with_flows(7);
    let layer = FWPS_LAYER_STREAM_V4 as u16;
    // SAFETY: plain values.
    unsafe {
        assert_eq!(FwpsFlowAssociateContext0(9, layer, id, 100), 0);
        assert_ne!(FwpsFlowAssociateContext0(9, layer, id, 5), 0, "one context per flow, layer and callout");
        assert_eq!(FwpsFlowAssociateContext0(10, layer, id, 20), 0);
        assert_eq!(FwpsFlowRemoveContext0(9, layer, id), 0);
    }
    assert_eq!(FLOW_DELETES.load(Ordering::SeqCst), 100);
    assert_eq!(ndis_sim::wfp::end_flow(10), 1, "the flow ends: its context goes");
    assert_eq!(FLOW_DELETES.load(Ordering::SeqCst), 120);
    // SAFETY: nothing left.
    assert_eq!(unsafe { FwpsCalloutUnregisterById0(id) }, 0);
    assert!(session.reports().is_empty());
}

static KEPT: AtomicU64 = AtomicU64::new(0);

/// Keeps the lent NBL past the classify: the probe.
unsafe extern "system" fn keep(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    data: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    _: *mut FWPS_CLASSIFY_OUT0,
) {
    KEPT.store(data as u64, Ordering::SeqCst);
}

fn classify_packet(id: u32) -> ndis_sim::StackNbl {
    let packet = ndis_sim::StackNbl::indicate(&[0x45; 48], 28);
    let incoming = Incoming::with_endpoints(FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16, ends(), None).unwrap();
    let meta = Metadata { ip_header_size: Some(20), transport_header_size: Some(8), ..Metadata::default() };
    // SAFETY: the stack lends the NBL for the call.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &meta, packet.as_ptr(), Filter::default()) }.unwrap();
    packet
}

#[test]
fn using_layer_data_after_classify_returns_is_reported() {
    let session = ndis_sim::Session::collecting();
    let id = register(8, Some(keep));
    classify_packet(id).complete();
    let kept = KEPT.load(Ordering::SeqCst) as *mut NET_BUFFER_LIST;
    // SAFETY: the probe: the stack has taken the NBL back.
    unsafe { FwpsReferenceNetBufferList0(kept, 1) };
    assert_eq!(session.rules(), vec![Rule::UseAfterFree], "the stack's NBL used after classify returned");
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

#[test]
fn referencing_layer_data_during_classify_is_clean() {
    let session = ndis_sim::Session::collecting();
    let id = register(9, Some(keep));
    let packet = classify_packet(id);
    let kept = KEPT.load(Ordering::SeqCst) as *mut NET_BUFFER_LIST;
    // SAFETY: still lent (the packet is not completed): a reference keeps it past the classify.
    unsafe {
        FwpsReferenceNetBufferList0(kept, 1);
        packet.complete();
        FwpsDereferenceNetBufferList0(kept, 0);
    }
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

static OPERATION: AtomicU64 = AtomicU64::new(0);

/// Pends the operation from the classify's completion handle.
unsafe extern "system" fn pend_op(
    _: *const FWPS_INCOMING_VALUES0,
    meta: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    _: *const c_void,
    _: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    let mut context: HANDLE = std::ptr::null_mut();
    // SAFETY: the engine's metadata and classify out.
    unsafe {
        assert_eq!(FwpsPendOperation0((*meta).completionHandle, &mut context), 0);
        (*out).actionType = FWP_ACTION_BLOCK;
        (*out).flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        (*out).rights &= !FWPS_RIGHT_ACTION_WRITE;
    }
    OPERATION.store(context.addr() as u64, Ordering::SeqCst);
}

fn classify_with_completion_handle(id: u32) {
    let incoming = Incoming::with_endpoints(FWPS_LAYER_ALE_AUTH_CONNECT_V4 as u16, ends(), None).unwrap();
    let meta = Metadata { completion_handle: true, ..Metadata::default() };
    // SAFETY: no layer data.
    let out = unsafe { ndis_sim::wfp::classify(id, &incoming, &meta, std::ptr::null_mut(), Filter::default()) };
    assert!(out.unwrap().pended);
}

#[test]
fn completing_an_operation_twice_is_reported() {
    let session = ndis_sim::Session::collecting();
    let id = register(10, Some(pend_op));
    classify_with_completion_handle(id);
    let context = std::ptr::without_provenance_mut(OPERATION.load(Ordering::SeqCst) as usize);
    // SAFETY: the probe: completed twice.
    unsafe {
        FwpsCompleteOperation0(context, std::ptr::null_mut());
        FwpsCompleteOperation0(context, std::ptr::null_mut());
    }
    assert_eq!(session.rules(), vec![Rule::PendedOperationMisuse]);
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

#[test]
fn completing_an_operation_once_is_clean() {
    let session = ndis_sim::Session::collecting();
    // The completions list is the engine's, not the session's: the probe
    // beside this test may have left its first completion in it.
    let _ = ndis_sim::wfp::completed_operations();
    let id = register(11, Some(pend_op));
    classify_with_completion_handle(id);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    let context = std::ptr::without_provenance_mut(OPERATION.load(Ordering::SeqCst) as usize);
    // SAFETY: completed once.
    unsafe { FwpsCompleteOperation0(context, std::ptr::null_mut()) };
    assert_eq!(ndis_sim::wfp::completed_operations().len(), 1);
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
    assert!(session.reports().is_empty());
    // SAFETY: any id may be passed.
    unsafe { FwpsCalloutUnregisterById0(id) };
}

#[test]
fn a_redirect_handle_destroyed_twice_is_reported_once_is_clean() {
    let session = ndis_sim::Session::collecting();
    let mut h: HANDLE = std::ptr::null_mut();
    // SAFETY: a writable handle; destroyed once: the twin.
    unsafe {
        assert_eq!(FwpsRedirectHandleCreate0(&GUID::default(), 0, &mut h), 0);
        FwpsRedirectHandleDestroy0(h);
    }
    assert!(session.reports().is_empty());
    // SAFETY: the probe: destroyed again.
    unsafe { FwpsRedirectHandleDestroy0(h) };
    assert_eq!(session.rules(), vec![Rule::DoubleFree]);
}

#[test]
fn applying_layer_data_not_acquired_is_reported() {
    let session = ndis_sim::Session::collecting();
    // SAFETY: an all-zero connect request is valid (NULL pointers).
    let mut fake: FWPS_CONNECT_REQUEST0 = unsafe { std::mem::zeroed() };
    // SAFETY: the probe: a handle the engine never gave, data it never lent.
    unsafe { FwpsApplyModifiedLayerData0(0x1234, (&raw mut fake).cast(), 0) };
    assert_eq!(session.rules(), vec![Rule::ClassifyHandleMisuse]);
}
