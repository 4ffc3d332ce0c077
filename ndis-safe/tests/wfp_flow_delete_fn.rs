//! `Callout::FLOW_CONTEXTS`: a callout that says it keeps no flow contexts
//! registers no `flowDeleteFn` (NULL, known at compile time); one that
//! keeps them (the default) registers its own, which the engine calls when
//! a flow with its context ends. A table refuses to associate a context
//! for a callout that registered no `flowDeleteFn`.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use fwps_sys::GUID;
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided};
use ndis_safe::wfp::layer::{InboundTransportV4, Layer};

static DELETED_WITH: AtomicU32 = AtomicU32::new(0);
static DELETED_WITHOUT: AtomicU32 = AtomicU32::new(0);

fn leave<'c>(action: Action<'c>) -> Decided<'c> {
    match action {
        Action::Writable(w) => w.continue_(),
        Action::ReadOnly(r) => r.leave(),
    }
}

/// Keeps flow contexts (the default).
struct With;
impl Callout for With {
    type Layer = InboundTransportV4;
    fn classify<'c>(_: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        leave(action)
    }
    fn flow_delete(_layer: u16, _context: u64) {
        DELETED_WITH.fetch_add(1, Ordering::SeqCst);
    }
}

/// Says it keeps none: its `flow_delete` is not registered.
struct Without;
impl Callout for Without {
    type Layer = InboundTransportV4;
    const FLOW_CONTEXTS: bool = false;
    fn classify<'c>(_: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        leave(action)
    }
    fn flow_delete(_layer: u16, _context: u64) {
        DELETED_WITHOUT.fetch_add(1, Ordering::SeqCst);
    }
}

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

#[test]
fn a_callout_without_flow_contexts_registers_no_flow_delete_function() {
    let session = ndis_sim::Session::new();
    let key = |n: u32| GUID { Data1: 0xF1DE + n, ..GUID::default() };
    for version in [Version::V0, Version::V1, Version::V2, Version::V3] {
        DELETED_WITH.store(0, Ordering::SeqCst);
        DELETED_WITHOUT.store(0, Ordering::SeqCst);
        let with = Registration::<With>::register(device(), key(1), CalloutFlags::NONE, version).unwrap();
        let without = Registration::<Without>::register(device(), key(2), CalloutFlags::NONE, version).unwrap();
        // A context on one flow for each, as a C driver would associate it
        // (the engine keeps it whatever the callout registered).
        for (id, flow) in [(with.id(), 41), (without.id(), 42)] {
            // SAFETY: plain values; the simulated engine checks them.
            let status = unsafe { fwps_sys::FwpsFlowAssociateContext0(flow, InboundTransportV4::ID, id, 7) };
            assert_eq!(status, 0);
        }
        assert_eq!(ndis_sim::wfp::end_flow(41), 1);
        assert_eq!(ndis_sim::wfp::end_flow(42), 1);
        assert_eq!(DELETED_WITH.load(Ordering::SeqCst), 1, "{version:?}: its flowDeleteFn ran");
        assert_eq!(DELETED_WITHOUT.load(Ordering::SeqCst), 0, "{version:?}: no flowDeleteFn was registered");
        with.unregister().unwrap();
        without.unregister().unwrap();
    }
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn a_callout_without_flow_contexts_cannot_associate_one_through_a_table() {
    use ndis_safe::error::Error;
    use ndis_safe::wfp::flow::FlowTable;
    static TABLE: FlowTable<u32, 2> = FlowTable::new();
    let session = ndis_sim::Session::new();
    let key = GUID { Data1: 0xF1DF, ..GUID::default() };
    let without = Registration::<Without>::register(device(), key, CalloutFlags::NONE, Version::V1).unwrap();
    // Nothing would free it when its flow ends: refused, the value back,
    // before the engine is asked.
    let Err((value, error)) = TABLE.associate(43, &without, 9) else { panic!("associated without a flowDeleteFn") };
    assert_eq!((value, error), (9, Error::InvalidArgument));
    assert_eq!(ndis_sim::wfp::end_flow(43), 0, "no context on the flow");
    without.unregister().unwrap();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
