//! The filter stack's OID, status and PnP paths: each OID rule broken by a
//! raw filter (the probe) and kept by its clean twin, and pass-through in
//! the manner of the WDK's filter sample (clone, issue, copy back,
//! complete the original, free the clone), answered at once and later.
//! (Tests share the statics; sessions run one at a time.)
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "a test of raw DDI misuse: each block is one probe"
)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

mod common;

use common::lwf::{Rig, characteristics};
use ndis_sim::{Rule, Session};
use ndis_sys::*;

/// What the OID handler does: pass a clone down, or hold the request.
static MODE: AtomicU8 = AtomicU8::new(PASS);
const PASS: u8 = 0;
const HOLD: u8 = 1;
/// Requests the handler held (HOLD), clones it passed down (PASS).
static HELD: Mutex<Vec<Req>> = Mutex::new(Vec::new());
static CLONES: Mutex<Vec<Req>> = Mutex::new(Vec::new());

/// A request pointer kept by a test (pointers, not addresses: Miri keeps
/// their provenance).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Req(PNDIS_OID_REQUEST);
// SAFETY: a plain pointer, dereferenced only through the DDIs.
unsafe impl Send for Req {}
/// The module's own requests that completed: (request, status).
static OWN_DONE: Mutex<Vec<(usize, NDIS_STATUS)>> = Mutex::new(Vec::new());
/// Status indications and PnP events the module saw.
static SEEN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The sample's FilterOidRequest: clone, remember the original in the
/// clone's SourceReserved, issue; a synchronous answer is completed here.
unsafe extern "system" fn oid_request(ctx: NDIS_HANDLE, request: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    if MODE.load(Ordering::SeqCst) == HOLD {
        HELD.lock().unwrap().push(Req(request));
        return NDIS_STATUS_PENDING;
    }
    let mut clone = core::ptr::null_mut();
    // SAFETY: the request NDIS handed the module; the clone is ours until
    // its completion.
    unsafe {
        let status = NdisAllocateCloneOidRequest(ctx, request, u32::from_le_bytes(*b"Test"), &mut clone);
        if status != NDIS_STATUS_SUCCESS {
            return status;
        }
        (*clone).SourceReserved.as_mut_ptr().cast::<PNDIS_OID_REQUEST>().write_unaligned(request);
        (*clone).RequestId = (*request).RequestId;
        CLONES.lock().unwrap().push(Req(clone));
        let status = NdisFOidRequest(ctx, clone);
        if status != NDIS_STATUS_PENDING {
            oid_complete(ctx, clone, status);
        }
    }
    NDIS_STATUS_PENDING
}

/// The sample's FilterOidRequestComplete: copy the results back, free the
/// clone, complete the original. The module's own requests are recorded.
unsafe extern "system" fn oid_complete(ctx: NDIS_HANDLE, clone: PNDIS_OID_REQUEST, status: NDIS_STATUS) {
    // SAFETY: a clone this module made (or its own request), complete.
    unsafe {
        let orig = (*clone).SourceReserved.as_ptr().cast::<PNDIS_OID_REQUEST>().read_unaligned();
        if orig.is_null() {
            OWN_DONE.lock().unwrap().push((clone as usize, status));
            return;
        }
        (*orig).DATA.QUERY_INFORMATION.BytesWritten = (*clone).DATA.QUERY_INFORMATION.BytesWritten;
        (*orig).DATA.QUERY_INFORMATION.BytesNeeded = (*clone).DATA.QUERY_INFORMATION.BytesNeeded;
        CLONES.lock().unwrap().retain(|c| c.0 != clone);
        NdisFreeCloneOidRequest(ctx, clone);
        NdisFOidRequestComplete(ctx, orig, status);
    }
}

unsafe extern "system" fn cancel_oid(ctx: NDIS_HANDLE, id: PVOID) {
    SEEN.lock().unwrap().push("cancel");
    // SAFETY: the module's handle; the id as given.
    unsafe { NdisFCancelOidRequest(ctx, id) };
}
unsafe extern "system" fn status(ctx: NDIS_HANDLE, ind: PNDIS_STATUS_INDICATION) {
    SEEN.lock().unwrap().push("status");
    // SAFETY: passed up as it came.
    unsafe { NdisFIndicateStatus(ctx, ind) };
}
unsafe extern "system" fn net_pnp(ctx: NDIS_HANDLE, ev: PNET_PNP_EVENT_NOTIFICATION) -> NDIS_STATUS {
    SEEN.lock().unwrap().push("net pnp");
    // SAFETY: passed up as it came.
    unsafe { NdisFNetPnPEvent(ctx, ev) }
}
unsafe extern "system" fn device_pnp(ctx: NDIS_HANDLE, ev: PNET_DEVICE_PNP_EVENT) {
    SEEN.lock().unwrap().push("device pnp");
    // SAFETY: passed down as it came.
    unsafe { NdisFDevicePnPEventNotify(ctx, ev) };
}

unsafe extern "system" fn pause(_: NDIS_HANDLE, _: PNDIS_FILTER_PAUSE_PARAMETERS) -> NDIS_STATUS {
    NDIS_STATUS_SUCCESS
}

/// The rig of this file's raw filter: the statics reset, `n` modules.
fn new_rig(n: usize) -> Rig {
    MODE.store(PASS, Ordering::SeqCst);
    for v in [&HELD, &CLONES] {
        v.lock().unwrap().clear();
    }
    OWN_DONE.lock().unwrap().clear();
    SEEN.lock().unwrap().clear();
    let mut c = characteristics(Some(pause));
    c.OidRequestHandler = Some(oid_request);
    c.OidRequestCompleteHandler = Some(oid_complete);
    c.CancelOidRequestHandler = Some(cancel_oid);
    c.StatusHandler = Some(status);
    c.NetPnPEventHandler = Some(net_pnp);
    c.DevicePnPEventNotifyHandler = Some(device_pnp);
    Rig::new(c, n)
}

/// A request of the module's own: a query of `oid` into `buf`.
fn own_query(oid: u32, buf: &mut [u8; 8]) -> Box<NDIS_OID_REQUEST> {
    // SAFETY: all-zero is a valid value of this C record.
    let mut r: Box<NDIS_OID_REQUEST> = Box::new(unsafe { core::mem::zeroed() });
    r.Header = NDIS_OBJECT_HEADER {
        Type: NDIS_OBJECT_TYPE_OID_REQUEST,
        Revision: NDIS_OID_REQUEST_REVISION_1 as u8,
        Size: NDIS_SIZEOF_OID_REQUEST_REVISION_1,
    };
    r.RequestType = NdisRequestQueryInformation;
    r.DATA.QUERY_INFORMATION.Oid = oid;
    r.DATA.QUERY_INFORMATION.InformationBuffer = buf.as_mut_ptr().cast();
    r.DATA.QUERY_INFORMATION.InformationBufferLength = 8;
    r
}

#[test]
fn pass_through_answered_at_once_and_later_through_two_modules() {
    let s = Session::collecting();
    let rig = new_rig(2);
    let st = rig.stack();
    let q = st.query_oid(OID_802_3_CURRENT_ADDRESS, 6);
    let r = st.oid_result(q).expect("answered at once");
    assert_eq!((r.status, r.data.as_slice(), r.bytes), (NDIS_STATUS_SUCCESS, &[0x02, 0, 0x5e, 0x10, 0, 1][..], 6));
    let short = st.oid_result(st.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 2)).unwrap();
    assert_eq!((short.status, short.bytes, short.bytes_needed), (NDIS_STATUS_BUFFER_TOO_SHORT, 0, 4));
    let unknown = st.oid_result(st.query_oid(0x0101_0199, 4)).unwrap();
    assert_eq!(unknown.status, NDIS_STATUS_NOT_SUPPORTED);

    st.set_miniport_pends(true);
    let set = st.set_oid(OID_GEN_CURRENT_PACKET_FILTER, &0x0bu32.to_le_bytes());
    let queued = st.query_oid(OID_GEN_CURRENT_PACKET_FILTER, 4);
    assert_eq!(st.oid_result(set), None, "pending below both modules");
    assert_eq!(st.pending_miniport_oids(), 1, "the second waits: NDIS serializes a binding's requests");
    assert!(st.complete_miniport_oid());
    assert_eq!(st.oid_result(set).unwrap().status, NDIS_STATUS_SUCCESS);
    assert_eq!(st.miniport_oid_value(OID_GEN_CURRENT_PACKET_FILTER).unwrap(), 0x0bu32.to_le_bytes());
    assert!(st.complete_miniport_oid());
    assert_eq!(st.oid_result(queued).unwrap().data, 0x0bu32.to_le_bytes());
    assert!(CLONES.lock().unwrap().is_empty(), "every clone freed");
    assert!(st.held().is_empty(), "{:?}", st.held());
    rig.end();
    assert_eq!(s.rules(), vec![]);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn cancel_reaches_the_miniport_and_aborts_the_request() {
    let s = Session::collecting();
    let rig = new_rig(1);
    let st = rig.stack();
    st.set_miniport_pends(true);
    let q = st.query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    st.cancel_oid(q);
    assert_eq!(st.oid_cancels(), 1);
    assert_eq!(st.oid_result(q).unwrap().status, NDIS_STATUS_REQUEST_ABORTED);
    assert_eq!(*SEEN.lock().unwrap(), vec!["cancel"]);
    rig.end();
    assert_eq!(s.rules(), vec![]);
}

#[test]
fn status_and_pnp_pass_through() {
    let s = Session::collecting();
    let rig = new_rig(2);
    let st = rig.stack();
    st.indicate_status(NDIS_STATUS_LINK_STATE, &[1, 2, 3]);
    assert_eq!(st.statuses(), vec![(NDIS_STATUS_LINK_STATE, vec![1, 2, 3])]);
    assert_eq!(st.net_pnp_event(NetEventQueryPower, &[4]), NDIS_STATUS_SUCCESS);
    assert_eq!(st.net_pnp_events(), vec![(NetEventQueryPower, vec![4])]);
    st.device_pnp_event(NdisDevicePnPEventSurpriseRemoved, &[]);
    assert_eq!(st.device_pnp_events(), vec![(NdisDevicePnPEventSurpriseRemoved, vec![])]);
    assert_eq!(SEEN.lock().unwrap().len(), 6, "each event through both modules");
    rig.end();
    assert_eq!(s.rules(), vec![]);
}

#[test]
fn oid_completed_twice_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    MODE.store(HOLD, Ordering::SeqCst);
    let q = rig.stack().query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let held = HELD.lock().unwrap().remove(0).0;
    // SAFETY: the request the module holds, completed once (the twin).
    unsafe { NdisFOidRequestComplete(rig.m(0), held, NDIS_STATUS_NOT_SUPPORTED) };
    assert_eq!(s.rules(), vec![]);
    assert_eq!(rig.stack().oid_result(q).unwrap().status, NDIS_STATUS_NOT_SUPPORTED);
    // SAFETY: the probe: completed again (the record is still the stack's).
    unsafe { NdisFOidRequestComplete(rig.m(0), held, NDIS_STATUS_SUCCESS) };
    assert_eq!(s.rules(), vec![Rule::OidCompletedTwice]);
    rig.end();
}

#[test]
fn oid_not_given_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(2);
    MODE.store(HOLD, Ordering::SeqCst);
    rig.stack().query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let held = HELD.lock().unwrap().remove(0).0;
    // SAFETY: the probe: the bottom module completes what the top holds.
    unsafe { NdisFOidRequestComplete(rig.m(1), held, NDIS_STATUS_SUCCESS) };
    assert_eq!(s.rules(), vec![Rule::OidNotGiven]);
    let mut buf = [0u8; 8];
    let mut own = own_query(OID_GEN_MAXIMUM_FRAME_SIZE, &mut buf);
    // SAFETY: the probe: a request no layer handed the module.
    unsafe { NdisFOidRequestComplete(rig.m(0), &mut *own, NDIS_STATUS_SUCCESS) };
    assert_eq!(s.rules(), vec![Rule::OidNotGiven]);
    // SAFETY: the twin: the module that holds it.
    unsafe { NdisFOidRequestComplete(rig.m(0), held, NDIS_STATUS_SUCCESS) };
    assert_eq!(s.rules(), vec![]);
    rig.end();
}

#[test]
fn second_own_request_while_one_outstanding_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().set_miniport_pends(true);
    let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
    let mut first = own_query(OID_GEN_MAXIMUM_FRAME_SIZE, &mut a);
    let mut second = own_query(OID_802_3_CURRENT_ADDRESS, &mut b);
    // SAFETY: the module's own requests, live until their completion.
    unsafe {
        assert_eq!(NdisFOidRequest(rig.m(0), &mut *first), NDIS_STATUS_PENDING);
        assert_eq!(NdisFOidRequest(rig.m(0), &mut *second), NDIS_STATUS_FAILURE, "the probe");
    }
    assert_eq!(s.rules(), vec![Rule::OidRequestWhileOneOutstanding]);
    assert!(rig.stack().complete_miniport_oid());
    assert_eq!(*OWN_DONE.lock().unwrap(), vec![(&mut *first as *mut _ as usize, NDIS_STATUS_SUCCESS)]);
    assert_eq!(a[..4], 1500u32.to_le_bytes());
    // SAFETY: the twin: the second after the first completed.
    assert_eq!(unsafe { NdisFOidRequest(rig.m(0), &mut *second) }, NDIS_STATUS_PENDING);
    assert!(rig.stack().complete_miniport_oid());
    assert_eq!(s.rules(), vec![]);
    assert_eq!(b[..6], [0x02, 0, 0x5e, 0x10, 0, 1]);
    rig.end();
}

#[test]
fn clone_freed_before_completion_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().set_miniport_pends(true);
    let q = rig.stack().query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let clone = CLONES.lock().unwrap()[0].0;
    // SAFETY: the probe: the clone is still out below.
    unsafe { NdisFreeCloneOidRequest(rig.m(0), clone) };
    assert_eq!(s.rules(), vec![Rule::CloneOidFreedBeforeCompletion]);
    // The twin: freed in the completion handler, after the completion.
    assert!(rig.stack().complete_miniport_oid());
    assert_eq!(s.rules(), vec![]);
    assert_eq!(rig.stack().oid_result(q).unwrap().data, 1500u32.to_le_bytes());
    assert!(rig.stack().held().is_empty());
    rig.end();
}

#[test]
fn oid_never_completed_watchdog_and_twin() {
    let s = Session::collecting();
    let mut rig = new_rig(1);
    MODE.store(HOLD, Ordering::SeqCst);
    rig.stack().query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    rig.drop_stack();
    assert_eq!(s.rules(), vec![Rule::OidNeverCompleted]);
    rig.end();
    // The twin.
    let rig = new_rig(1);
    MODE.store(HOLD, Ordering::SeqCst);
    rig.stack().query_oid(OID_GEN_MAXIMUM_FRAME_SIZE, 4);
    let held = HELD.lock().unwrap().remove(0).0;
    // SAFETY: the request the module holds, completed once.
    unsafe { NdisFOidRequestComplete(rig.m(0), held, NDIS_STATUS_SUCCESS) };
    rig.end();
    assert_eq!(s.rules(), vec![]);
}
