//! The IRQL model: each thread's IRQL, the stack's classify and
//! completions at DISPATCH_LEVEL, and the verifier's two IRQL rules, each
//! broken through the raw DDIs next to a clean twin.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;
use ndis_sim::irql::{self, DISPATCH_LEVEL, HIGH_LEVEL, PASSIVE_LEVEL};
use ndis_sim::{InjectionMode, Rule, Session, StackNbl};
use std::sync::Mutex;

fn breaks(rule: Rule, f: impl FnOnce()) -> Vec<String> {
    let s = Session::collecting();
    f();
    let reports = s.reports();
    assert!(reports.iter().any(|r| r.rule == rule), "expected {rule:?}, got {reports:#?}");
    reports.iter().map(ToString::to_string).collect()
}

fn clean(f: impl FnOnce()) {
    let s = Session::collecting();
    f();
    let reports = s.reports();
    assert!(reports.is_empty(), "{reports:#?}");
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn each_thread_starts_at_passive_and_raises_and_lowers() {
    assert_eq!(irql::current(), PASSIVE_LEVEL);
    {
        let _g = irql::raise(DISPATCH_LEVEL);
        assert_eq!(irql::current(), DISPATCH_LEVEL);
        std::thread::spawn(|| assert_eq!(irql::current(), PASSIVE_LEVEL)).join().unwrap();
        assert_eq!(irql::at(HIGH_LEVEL, irql::current), HIGH_LEVEL);
        assert_eq!(irql::current(), DISPATCH_LEVEL);
    }
    assert_eq!(irql::current(), PASSIVE_LEVEL);
}

#[test]
#[should_panic(expected = "IRQL_NOT_GREATER_OR_EQUAL")]
fn raising_to_a_lower_irql_is_a_bugcheck() {
    let _g = irql::raise(DISPATCH_LEVEL);
    let _lower = irql::raise(PASSIVE_LEVEL);
}

#[test]
fn irql_above_maximum() {
    // FwpsInjectionHandleCreate0 / Destroy0 are PASSIVE_LEVEL DDIs.
    let msgs = breaks(Rule::IrqlAboveMaximum, || unsafe {
        let mut h = core::ptr::null_mut();
        irql::at(DISPATCH_LEVEL, || FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_TRANSPORT, &mut h));
        FwpsInjectionHandleDestroy0(h);
    });
    assert!(msgs[0].contains("in FwpsInjectionHandleCreate0: called at DISPATCH_LEVEL; its maximum is PASSIVE_LEVEL"));
    // The NBL DDIs go up to DISPATCH_LEVEL, not above.
    breaks(Rule::IrqlAboveMaximum, || unsafe {
        let pool = nbl_pool(false, 0, 0);
        let nbl = irql::at(HIGH_LEVEL, || NdisAllocateNetBufferList(pool, 0, 0));
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    });
    clean(|| unsafe {
        let mut h = core::ptr::null_mut();
        assert_eq!(FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_TRANSPORT, &mut h), STATUS_SUCCESS);
        let pool = nbl_pool(false, 0, 0);
        irql::at(DISPATCH_LEVEL, || NdisFreeNetBufferList(NdisAllocateNetBufferList(pool, 0, 0)));
        NdisFreeNetBufferListPool(pool);
        assert_eq!(FwpsInjectionHandleDestroy0(h), STATUS_SUCCESS);
    });
}

#[test]
fn dispatch_level_flag_without_dispatch_level() {
    let msgs = breaks(Rule::DispatchLevelFlagWithoutDispatchLevel, || unsafe {
        let lent = StackNbl::indicate(&[0x45; 40], 20);
        FwpsReferenceNetBufferList0(lent.as_ptr(), 0);
        FwpsDereferenceNetBufferList0(lent.as_ptr(), 1); // TRUE, at PASSIVE_LEVEL
    });
    assert!(msgs[0].contains("dispatchLevel TRUE says DISPATCH_LEVEL, but the caller runs at PASSIVE_LEVEL"));
    // TRUE at DISPATCH_LEVEL is true; FALSE is what a caller that does not
    // know passes, at any IRQL.
    clean(|| unsafe {
        let lent = StackNbl::indicate(&[0x45; 40], 20);
        FwpsReferenceNetBufferList0(lent.as_ptr(), 0);
        FwpsReferenceNetBufferList0(lent.as_ptr(), 0);
        irql::at(DISPATCH_LEVEL, || FwpsDereferenceNetBufferList0(lent.as_ptr(), 1));
        irql::at(DISPATCH_LEVEL, || FwpsReferenceNetBufferList0(lent.as_ptr(), 0));
        irql::at(DISPATCH_LEVEL, || FwpsDereferenceNetBufferList0(lent.as_ptr(), 0));
        FwpsDereferenceNetBufferList0(lent.as_ptr(), 0);
    });
}

/// (IRQL, dispatchLevel) each completion ran with.
static SEEN: Mutex<Vec<(u8, u8)>> = Mutex::new(Vec::new());

unsafe extern "system" fn completion(_: *mut core::ffi::c_void, nbl: *mut NET_BUFFER_LIST, dispatch: BOOLEAN) {
    SEEN.lock().unwrap().push((irql::current(), dispatch));
    unsafe { FwpsFreeNetBufferList0(nbl) };
}

#[test]
fn the_stack_completes_injections_at_dispatch_level_and_inline_ones_at_the_callers() {
    clean(|| unsafe {
        let mut h = core::ptr::null_mut();
        FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_NETWORK, &mut h);
        let pool = nbl_pool(true, 0, 0);
        let inject = || {
            let mut nbl = core::ptr::null_mut();
            FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, core::ptr::null_mut(), 0, 0, &mut nbl);
            let status = FwpsInjectNetworkSendAsync0(
                h,
                core::ptr::null_mut(),
                0,
                1,
                nbl,
                Some(completion),
                core::ptr::null_mut(),
            );
            assert_eq!(status, STATUS_SUCCESS);
        };
        inject(); // deferred: the stack completes it later, at DISPATCH_LEVEL
        assert!(ndis_sim::complete_next(0));
        ndis_sim::set_injection_mode(InjectionMode::Immediate(0));
        inject(); // completed inside the call, at the caller's PASSIVE_LEVEL
        irql::at(DISPATCH_LEVEL, inject); // and at DISPATCH_LEVEL
        assert_eq!(irql::current(), PASSIVE_LEVEL);
        NdisFreeNetBufferListPool(pool);
        FwpsInjectionHandleDestroy0(h);
    });
    assert_eq!(*SEEN.lock().unwrap(), [(DISPATCH_LEVEL, 1), (PASSIVE_LEVEL, 0), (DISPATCH_LEVEL, 1)]);
}

static CLASSIFIED_AT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

unsafe extern "system" fn classify_fn(
    _: *const FWPS_INCOMING_VALUES0,
    _: *const FWPS_INCOMING_METADATA_VALUES0,
    _: *mut core::ffi::c_void,
    _: *const FWPS_FILTER0,
    _: UINT64,
    _: *mut FWPS_CLASSIFY_OUT0,
) {
    CLASSIFIED_AT.lock().unwrap().push(irql::current());
}

unsafe extern "system" fn notify_fn(_: FWPS_CALLOUT_NOTIFY_TYPE, _: *const GUID, _: *mut FWPS_FILTER0) -> NTSTATUS {
    STATUS_SUCCESS
}

#[test]
fn classify_runs_at_dispatch_level() {
    clean(|| unsafe {
        let callout = FWPS_CALLOUT0 { classifyFn: Some(classify_fn), notifyFn: Some(notify_fn), ..core::mem::zeroed() };
        let mut id = 0;
        assert_eq!(FwpsCalloutRegister0(core::ptr::null_mut(), &callout, &mut id), STATUS_SUCCESS);
        let lent = StackNbl::indicate(&[0x45; 40], 20);
        ndis_sim::classify(id, FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16, lent.as_ptr(), Default::default()).unwrap();
        lent.complete();
        assert_eq!(FwpsCalloutUnregisterById0(id), STATUS_SUCCESS);
    });
    assert_eq!(*CLASSIFIED_AT.lock().unwrap(), [DISPATCH_LEVEL]);
}
