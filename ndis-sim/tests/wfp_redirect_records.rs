//! Redirect records and split packets, through the raw DDIs: a C-style
//! connect-redirect callout that asks `FwpsQueryConnectionRedirectState0`
//! before it redirects (the clean twin: its proxy's connection, carrying
//! the original's records, is not redirected again), the probe that
//! queries records the engine never passed, and a packet lent split across
//! MDLs, read whole and freed with its MDLs.
#![allow(clippy::multiple_unsafe_ops_per_block, reason = "raw callouts: a block is one engine record's access")]

use std::ffi::c_void;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use fwps_sys::*;
use ndis_sim::Rule;
use ndis_sim::wfp::{Connect, Connection, Endpoints, TCP};

unsafe extern "system" fn notify(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER1) -> NTSTATUS {
    0
}

static HANDLE_: AtomicUsize = AtomicUsize::new(0);
static STATES: std::sync::Mutex<Vec<FWPS_CONNECTION_REDIRECT_STATE>> = std::sync::Mutex::new(Vec::new());
const PROXY: [u8; 4] = [127, 0, 0, 1];

/// Redirects every connect to 127.0.0.1:8080 unless it redirected it already.
unsafe extern "system" fn redirect(
    _: *const FWPS_INCOMING_VALUES0,
    meta: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut c_void,
    context: *const c_void,
    filter: *const FWPS_FILTER1,
    _: u64,
    out: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's records for the call.
    unsafe {
        let handle: HANDLE = std::ptr::without_provenance_mut(HANDLE_.load(Ordering::Relaxed));
        let state = FwpsQueryConnectionRedirectState0((*meta).redirectRecords, handle, std::ptr::null_mut());
        STATES.lock().unwrap().push(state);
        if state == FWPS_CONNECTION_REDIRECTED_BY_SELF || state == FWPS_CONNECTION_PREVIOUSLY_REDIRECTED_BY_SELF {
            (*out).actionType = FWP_ACTION_PERMIT;
            return;
        }
        let mut h = 0u64;
        assert_eq!(FwpsAcquireClassifyHandle0(context.cast_mut(), 0, &mut h), 0);
        let mut data: *mut c_void = std::ptr::null_mut();
        assert_eq!(FwpsAcquireWritableLayerDataPointer0(h, (*filter).filterId, 0, &mut data, out), 0);
        let req = data.cast::<FWPS_CONNECT_REQUEST0>();
        let b = (&raw mut (*req).remoteAddressAndPort).cast::<u8>();
        b.add(2).cast::<[u8; 2]>().write(8080u16.to_be_bytes());
        b.add(4).cast::<[u8; 4]>().write(PROXY);
        (*req).localRedirectHandle = handle;
        (*req).localRedirectTargetPID = 99;
        FwpsApplyModifiedLayerData0(h, data, 0);
        FwpsReleaseClassifyHandle0(h);
        (*out).actionType = FWP_ACTION_PERMIT;
    }
}

fn ends() -> Endpoints {
    Endpoints {
        protocol: TCP,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        local_port: 40_000,
        remote_port: 80,
        interface_index: 1,
        sub_interface_index: 0,
    }
}

#[test]
fn a_callout_that_asks_the_records_first_does_not_redirect_its_proxy_again() {
    let session = ndis_sim::Session::new();
    ndis_sim::wfp::reset_filters();
    let _ = ndis_sim::wfp::redirections();
    let mut handle: HANDLE = std::ptr::null_mut();
    // SAFETY: a writable handle.
    assert_eq!(unsafe { FwpsRedirectHandleCreate0(&GUID::default(), 0, &mut handle) }, 0);
    HANDLE_.store(handle.addr(), Ordering::Relaxed);
    let callout = FWPS_CALLOUT1 {
        calloutKey: GUID { Data1: 0x7ED1, ..GUID::default() },
        classifyFn: Some(redirect),
        notifyFn: Some(notify),
        ..FWPS_CALLOUT1::default()
    };
    let mut id = 0;
    // SAFETY: a complete record; `id` is writable.
    assert_eq!(unsafe { FwpsCalloutRegister1(std::ptr::null_mut(), &callout, &mut id) }, 0);
    let sub = ndis_sim::wfp::add_sublayer(1);
    let filter = ndis_sim::wfp::add_filter(ndis_sim::wfp::FilterSpec {
        layer: FWPS_LAYER_ALE_CONNECT_REDIRECT_V4 as u16,
        sublayer: sub,
        weight: 1,
        conditions: Vec::new(),
        action: ndis_sim::wfp::FilterAction::Callout(id),
        flags: 0,
        context: 0,
    })
    .unwrap();

    let Connect::Open(first) = Connection::connect(ends(), b"b", None) else { panic!("no callout decides it") };
    let proxy = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(PROXY)), 8080);
    assert_eq!(first.ends().remote, proxy.ip(), "redirected to the proxy");
    assert_eq!(ndis_sim::wfp::redirections().len(), 1);
    // The proxy's connection on its behalf carries its records.
    let Connect::Open(onward) = Connection::connect(ends(), b"p", first.records()) else { panic!() };
    assert_eq!(onward.ends().remote, ends().remote, "not redirected again");
    assert!(ndis_sim::wfp::redirections().is_empty());
    // A fresh connection has fresh records.
    let Connect::Open(other) = Connection::connect(ends(), b"b", None) else { panic!() };
    assert_eq!(other.ends().remote, proxy.ip());
    assert_eq!(
        *STATES.lock().unwrap(),
        [FWPS_CONNECTION_NOT_REDIRECTED, FWPS_CONNECTION_REDIRECTED_BY_SELF, FWPS_CONNECTION_NOT_REDIRECTED]
    );
    for c in [first, onward, other] {
        c.close();
    }
    assert!(ndis_sim::wfp::delete_filter(filter));
    // SAFETY: a registered id; the handle is ours, destroyed once.
    unsafe {
        assert_eq!(FwpsCalloutUnregisterById0(id), 0);
        FwpsRedirectHandleDestroy0(handle);
    }
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn querying_records_the_engine_never_passed_is_reported() {
    let session = ndis_sim::Session::collecting();
    // SAFETY: NULL context is allowed.
    let state = unsafe {
        FwpsQueryConnectionRedirectState0(
            std::ptr::without_provenance_mut(0x1234),
            std::ptr::without_provenance_mut(0x10),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(state, FWPS_CONNECTION_NOT_REDIRECTED);
    let reports = session.reports();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].rule, Rule::ClassifyHandleMisuse);
    assert!(reports[0].message.contains("redirect records"), "{}", reports[0].message);
}

#[test]
fn a_packet_lent_split_across_mdls_reads_whole_and_frees_its_mdls() {
    let session = ndis_sim::Session::new();
    let packet: Vec<u8> = (0..100u8).collect();
    let lent = ndis_sim::StackNbl::indicate_split(&packet, 28, &[90, 3, 3, 0, 100, 40]);
    assert_eq!(lent.data(), packet[28..].to_vec());
    // SAFETY: a live NBL, lent until completed below.
    let drawing = unsafe { ndis_sim::draw::draw(lent.as_ptr()) };
    assert_eq!(drawing.lines().filter(|l| l.trim_start().starts_with("mdl#")).count(), 4, "{drawing}");
    lent.complete();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
