//! The callout: classify and notify functions, and the state they share.
#![allow(unsafe_code, reason = "the callout's entry points are called by the filter engine with raw pointers")]
#![allow(non_snake_case, reason = "the DDI parameter names")]

use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWPS_CALLOUT_NOTIFY_TYPE, FWPS_CLASSIFY_OUT_FLAG_ABSORB,
    FWPS_CLASSIFY_OUT0, FWPS_FILTER0, FWPS_INCOMING_METADATA_VALUES0, FWPS_INCOMING_VALUES0,
    FWPS_METADATA_FIELD_COMPARTMENT_ID, FWPS_METADATA_FIELD_IP_HEADER_SIZE, FWPS_RIGHT_ACTION_WRITE, GUID,
};
use ndis_safe::clone::{Fwps, Unmodifiable};
use ndis_safe::wfp::{ClonedPacket, Completed, InjectionHandle};
use ndis_safe::{BorrowedNbl, ContextArea, NblPool};
use ndis_sys::{NTSTATUS, STATUS_SUCCESS};

/// The callout's key, which filters name (`FwpmCalloutAdd0` / `FwpmFilterAdd0`).
pub const CALLOUT_KEY: GUID = crate::callout_key();

/// What each injected clone carries, in its context area: no heap.
#[derive(ContextArea, Debug, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
pub struct Flow {
    /// The packet's number, in classify order.
    pub seq: u64,
    /// The layer it was classified at.
    pub layer: u64,
}

/// What classify needs: the pool its clones come from and the handle it
/// injects with. Fields drop in order: the injection handle first (which
/// waits for pending injections), then the pool.
pub struct Inspector {
    /// The injection handle.
    pub injection: InjectionHandle,
    /// The clones' pool.
    pub pool: NblPool<Flow>,
    /// Packets injected so far.
    pub injected: AtomicU64,
    /// Packets completed so far.
    pub completed: AtomicU64,
}

impl Inspector {
    /// Makes the pool and the injection handle with the driver's NDIS handle.
    ///
    /// # Safety
    ///
    /// `ndis` is the driver's NDIS handle, valid until the inspector is dropped.
    pub unsafe fn new(ndis: ndis_sys::NDIS_HANDLE) -> Option<Inspector> {
        // SAFETY: the caller's guarantee.
        let owner = unsafe { ndis_safe::NdisHandle::from_raw(ndis) };
        let pool = NblPool::new(&owner, ndis_safe::NblPoolOptions::new(ndis_safe::Tag(*b"Insp"))).ok()?;
        let injection = InjectionHandle::new(0, ndis_safe::wfp::InjectionTypes::TRANSPORT).ok()?;
        Some(Inspector { injection, pool, injected: AtomicU64::new(0), completed: AtomicU64::new(0) })
    }
}

static INSPECTOR: AtomicPtr<Inspector> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `inspector` the state classify uses.
///
/// # Safety
///
/// `inspector` stays valid until [`uninstall`] returns and no classify or
/// completion runs any more (callouts unregistered, injection handle
/// destroyed).
pub unsafe fn install(inspector: &Inspector) {
    INSPECTOR.store(core::ptr::from_ref(inspector).cast_mut(), Ordering::Release);
}

/// Stops classify from using the state.
pub fn uninstall() {
    INSPECTOR.store(core::ptr::null_mut(), Ordering::Release);
}

fn inspector() -> Option<&'static Inspector> {
    let p = INSPECTOR.load(Ordering::Acquire);
    // SAFETY: `install`'s contract keeps it valid while installed.
    unsafe { p.as_ref() }
}

use crate::layer_kind;

fn injected(c: Completed<ClonedPacket<Fwps, Flow, Unmodifiable>>) {
    if let Some(ins) = inspector() {
        ins.completed.fetch_add(1, Ordering::Relaxed);
    }
    // Dropped: the clone is freed, then the reference on the original released.
    drop(c);
}

/// The classify function (`FWPS_CALLOUT_CLASSIFY_FN0`).
///
/// # Safety
///
/// Called by the filter engine: the pointers are valid for the call, and
/// `layerData` is the NBL the transport layer lends.
pub unsafe extern "system" fn classify(
    inFixedValues: *const FWPS_INCOMING_VALUES0,
    inMetaValues: *const FWPS_INCOMING_METADATA_VALUES0,
    layerData: *mut core::ffi::c_void,
    _filter: *const FWPS_FILTER0,
    _flowContext: u64,
    classifyOut: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine passes valid pointers for the call.
    let (Some(values), Some(meta), Some(out)) =
        (unsafe { inFixedValues.as_ref() }, unsafe { inMetaValues.as_ref() }, unsafe { classifyOut.as_mut() })
    else {
        return;
    };
    if out.rights & FWPS_RIGHT_ACTION_WRITE == 0 {
        return; // another callout decided; nothing to do
    }
    let (Some(ins), Some((inbound, family))) = (inspector(), layer_kind(values.layerId)) else {
        out.actionType = FWP_ACTION_CONTINUE;
        return;
    };
    // SAFETY: the transport layer lends its NBL for this call.
    let Some(mut nbl) = (unsafe { BorrowedNbl::from_raw(layerData.cast()) }) else {
        out.actionType = FWP_ACTION_CONTINUE;
        return;
    };
    if ins.injection.state(&nbl).is_self_injected() {
        out.actionType = FWP_ACTION_PERMIT; // ours, back again
        return;
    }
    // Inbound, the stack has advanced past the IP header: the clone starts
    // at it, so the whole datagram is injected. Outbound, the data starts at
    // the transport header already.
    let header = if inbound && meta.currentMetadataValues & FWPS_METADATA_FIELD_IP_HEADER_SIZE != 0 {
        meta.ipHeaderSize
    } else {
        0
    };
    let compartment = if meta.currentMetadataValues & FWPS_METADATA_FIELD_COMPARTMENT_ID != 0 {
        meta.compartmentId as i32
    } else {
        fwps_sys::DEFAULT_COMPARTMENT_ID
    };
    let seq = ins.injected.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the pool lives in the installed inspector, which outlives every
    // injection (the handle, dropped first, waits for them).
    let pool: &'static NblPool<Flow> = unsafe { &*core::ptr::from_ref(&ins.pool) };
    let packet = nbl.reference_and_clone_unmodifiable::<Fwps, Flow>(
        header,
        Some(pool),
        Flow { seq, layer: u64::from(values.layerId) },
    );
    let Ok(packet) = packet else {
        out.actionType = FWP_ACTION_CONTINUE; // could not clone: let it pass uninspected
        return;
    };
    let injection = &ins.injection;
    let result = if inbound {
        injection.inject_transport_receive(packet, family, compartment, meta.sourceInterfaceIndex, 0, injected)
    } else {
        injection.inject_transport_send(packet, meta.transportEndpointHandle, family, compartment, None, injected)
    };
    match result {
        Ok(()) => {
            // The clone goes on in its place: absorb the original.
            out.actionType = FWP_ACTION_BLOCK;
            out.flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
            out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        }
        Err(rejected) => {
            drop(rejected); // freed now; the original passes
            out.actionType = FWP_ACTION_CONTINUE;
        }
    }
}

/// The notify function (`FWPS_CALLOUT_NOTIFY_FN0`): filters come and go.
///
/// # Safety
///
/// Called by the filter engine.
pub unsafe extern "system" fn notify(
    _notifyType: FWPS_CALLOUT_NOTIFY_TYPE,
    _filterKey: *const GUID,
    _filter: *mut FWPS_FILTER0,
) -> NTSTATUS {
    STATUS_SUCCESS
}

/// The registration `FwpsCalloutRegister0` takes.
pub fn registration() -> fwps_sys::FWPS_CALLOUT0 {
    fwps_sys::FWPS_CALLOUT0 {
        calloutKey: CALLOUT_KEY,
        flags: 0,
        classifyFn: Some(classify),
        notifyFn: Some(notify),
        flowDeleteFn: None,
    }
}
