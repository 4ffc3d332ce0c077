//! The driver's callout on the simulator: registered with
//! FwpsCalloutRegister0, given transport-layer packets by the simulated
//! filter engine, injecting clones whose completions free them.
#![allow(missing_docs, reason = "tests")]
#![cfg(not(feature = "raw"))]

use std::sync::atomic::{AtomicU64, Ordering};

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, FWPS_CLASSIFY_OUT_FLAG_ABSORB, FWPS_LAYER_INBOUND_TRANSPORT_V4,
    FWPS_LAYER_OUTBOUND_TRANSPORT_V4,
};
use ndis_safe::wfp::{InjectionHandle, InjectionTypes};
use ndis_safe::{NblPool, NblPoolOptions, NdisHandle, Tag};
use ndis_sim::{ClassifyMetadata, StackNbl};
use wfp_inspect::callout::{self, Inspector};

fn packet(seq: u8) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, 0, seq, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 8, 0, 0]);
    p
}

#[test]
fn the_callout_clones_injects_and_frees_inbound_and_outbound_packets() {
    // The inspector lives as long as the program, as a driver's lives in
    // its device extension until unload.
    static INSPECTOR: std::sync::OnceLock<Inspector> = std::sync::OnceLock::new();
    let inspector = INSPECTOR.get_or_init(|| {
        // SAFETY: the simulator accepts any handle.
        let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
        ndis_sim::untracked(|| Inspector {
            injection: InjectionHandle::new(0, InjectionTypes::TRANSPORT).unwrap(),
            pool: NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Insp"))).unwrap(),
            injected: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        })
    });
    let session = ndis_sim::Session::collecting();
    // SAFETY: static: valid for the rest of the program.
    unsafe { callout::install(inspector) };
    let mut id = 0;
    let registration = callout::registration();
    // SAFETY: a valid registration; the simulator takes any device.
    assert_eq!(unsafe { fwps_sys::FwpsCalloutRegister0(core::ptr::null_mut(), &registration, &mut id) }, 0);

    for (seq, layer) in [(1u8, FWPS_LAYER_INBOUND_TRANSPORT_V4), (2, FWPS_LAYER_OUTBOUND_TRANSPORT_V4)] {
        let inbound = layer == FWPS_LAYER_INBOUND_TRANSPORT_V4;
        let offset = if inbound { 20 } else { 0 };
        let indicated = StackNbl::indicate(&packet(seq), offset);
        let meta = ClassifyMetadata { ip_header_size: inbound.then_some(20), ..Default::default() };
        // SAFETY: the simulated stack lends the NBL for the call.
        let out = unsafe { ndis_sim::classify(id, layer as u16, indicated.as_ptr(), meta) }.unwrap();
        assert_eq!(out.actionType, FWP_ACTION_BLOCK, "the original is absorbed");
        assert_ne!(out.flags & FWPS_CLASSIFY_OUT_FLAG_ABSORB, 0);
        indicated.complete();
        assert_eq!(ndis_sim::pending_injections(), 1);
        ndis_sim::complete_all(0);
    }
    assert_eq!(inspector.injected.load(Ordering::Relaxed), 2);
    assert_eq!(inspector.completed.load(Ordering::Relaxed), 2);

    // The injected packet comes back through classify: permitted, not injected again.
    let back = StackNbl::indicate(&packet(3), 20).injected_by(inspector.injection.as_raw(), core::ptr::null_mut());
    let meta = ClassifyMetadata { ip_header_size: Some(20), ..Default::default() };
    // SAFETY: as above.
    let out = unsafe { ndis_sim::classify(id, FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16, back.as_ptr(), meta) }.unwrap();
    assert_eq!(out.actionType, FWP_ACTION_PERMIT);
    assert_eq!(ndis_sim::pending_injections(), 0);
    back.complete();

    // SAFETY: our callout's id.
    assert_eq!(unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) }, 0);
    callout::uninstall();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
