//! Leaking the typed callout API's owned values ends in a leak, never in a
//! verifier report: a forgotten registration stays registered, a forgotten
//! pend never completes (the watchdog lists it), a flow context whose flow
//! never ends stays in its table.

use std::ptr::NonNull;

use fwps_sys::GUID;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::InboundIppacketV6;

struct Nothing;
impl Callout for Nothing {
    type Layer = InboundIppacketV6;
    fn classify<'c>(_: Classify<'c, InboundIppacketV6>, action: Action<'c>) -> Decided<'c> {
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

#[test]
fn a_forgotten_registration_stays_registered_without_a_report() {
    let session = ndis_sim::Session::collecting();
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    let device = unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) };
    let before = ndis_sim::registered_callouts();
    let reg = Registration::<Nothing>::register(
        device,
        GUID { Data1: 0x1EA4, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V0,
    )
    .unwrap();
    let id = reg.id();
    std::mem::forget(reg);
    assert_eq!(ndis_sim::registered_callouts(), before + 1);
    assert!(session.reports().is_empty());
    // What the driver's unload would have done.
    // SAFETY: any id may be passed.
    assert_eq!(unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) }, 0);
}
