//! `FwpsPendOperation0` as an owned token: pend an ALE connect, complete it
//! later, decide in the re-authorization.

use std::net::{IpAddr, Ipv6Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, FWP_CONDITION_FLAG_IS_REAUTHORIZE, FWPS_FIELD_ALE_AUTH_CONNECT_V6_FLAGS, GUID,
};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{AleAuthConnectV6, Layer};
use ndis_safe::wfp::pend::PendedOperation;
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata, Value};

static WAITING: Mutex<Vec<PendedOperation>> = Mutex::new(Vec::new());

/// Asks (pends) on the first authorization, permits on re-authorization.
struct Ask;
impl Callout for Ask {
    type Layer = AleAuthConnectV6;
    fn classify<'c>(c: Classify<'c, AleAuthConnectV6>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        let reauth = c.get(AleAuthConnectV6::FLAGS).is_some_and(|f| f & FWP_CONDITION_FLAG_IS_REAUTHORIZE != 0);
        if reauth {
            return w.permit();
        }
        match w.pend_operation(&c) {
            Ok((decided, op)) => {
                WAITING.lock().unwrap().push(op);
                decided
            }
            Err(not) => not.action.block(),
        }
    }
}

fn connect(id: u32, reauthorize: bool, completion_handle: bool) -> ndis_sim::wfp::Outcome {
    let ends = Endpoints {
        protocol: 6,
        local: IpAddr::V6(Ipv6Addr::LOCALHOST),
        remote: IpAddr::V6("2001:db8::443".parse().unwrap()),
        local_port: 50001,
        remote_port: 443,
        interface_index: 3,
        sub_interface_index: 3,
    };
    let mut incoming = Incoming::with_endpoints(AleAuthConnectV6::ID, ends, None).unwrap();
    let flags = if reauthorize { FWP_CONDITION_FLAG_IS_REAUTHORIZE } else { 0 };
    incoming.set(FWPS_FIELD_ALE_AUTH_CONNECT_V6_FLAGS as u32, Value::U32(flags));
    let meta = Metadata { completion_handle, ..Metadata::default() };
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &meta, std::ptr::null_mut(), Filter::default()) }.unwrap()
}

#[test]
fn a_pended_connect_is_completed_once_and_decided_on_reauthorization() {
    let session = ndis_sim::Session::new();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let reg = Registration::<Ask>::register(
        device,
        GUID { Data1: 0x0A5C, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V0,
    )
    .unwrap();
    let first = connect(reg.id(), false, true);
    assert!(first.pended && first.absorbed() && first.action == FWP_ACTION_BLOCK);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    WAITING.lock().unwrap().pop().unwrap().complete();
    assert_eq!(ndis_sim::wfp::completed_operations().len(), 1);
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());
    assert_eq!(connect(reg.id(), true, true).action, FWP_ACTION_PERMIT);
    // Without a completion handle there is nothing to pend: blocked.
    let no_handle = connect(reg.id(), false, false);
    assert!(!no_handle.pended && no_handle.action == FWP_ACTION_BLOCK);
    // Dropped: completed all the same.
    connect(reg.id(), false, true);
    drop(WAITING.lock().unwrap().pop());
    assert_eq!(ndis_sim::wfp::completed_operations().len(), 1);
    reg.unregister().unwrap();
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
}

#[test]
fn a_forgotten_pended_operation_waits_without_a_report() {
    let session = ndis_sim::Session::collecting();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let reg = Registration::<Ask>::register(
        device,
        GUID { Data1: 0x0A5D, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V0,
    )
    .unwrap();
    assert!(connect(reg.id(), false, true).pended);
    std::mem::forget(WAITING.lock().unwrap().pop().unwrap());
    // Never re-authorized: the watchdog lists it; a leak, not a report.
    let pends = ndis_sim::wfp::outstanding_pends();
    assert_eq!(pends.iter().map(|p| p.state).collect::<Vec<_>>(), ["operation"]);
    assert!(ndis_sim::wfp::completed_operations().is_empty());
    reg.unregister().unwrap();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
}
