//! The engine's callout DDIs: registration with versions 1–3,
//! unregistration by key, and the classify-handle family.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use fwps_sys::*;
use ndis_sys::*;

use super::engine::{self, HandleState2};
use super::{flows, operations};
use crate::model::callout::{self, ClassifyFn};
use crate::model::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::verifier::irql::at_most;

/// The registration all versions share.
///
/// # Safety
///
/// `calloutId` is NULL or writable.
unsafe fn register(
    ddi: &'static str,
    key: GUID,
    classify: Option<ClassifyFn>,
    has_notify: bool,
    flow_delete: FWPS_CALLOUT_FLOW_DELETE_NOTIFY_FN0,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, ddi);
    let Some(classify) = classify else { return STATUS_INVALID_PARAMETER };
    if !has_notify {
        return STATUS_INVALID_PARAMETER;
    }
    if callout::key_registered(&key) {
        return STATUS_FWP_ALREADY_EXISTS;
    }
    let id = callout::register_any(key, classify, flow_delete);
    if !calloutId.is_null() {
        // SAFETY: the caller guarantees `calloutId` is writable.
        unsafe { *calloutId = id };
    }
    STATUS_SUCCESS
}

/// Registers a callout whose classify is a `classifyFn1` (it gets a
/// classify context, so it can pend with a classify handle).
///
/// # Safety
///
/// `callout` is NULL or readable; `calloutId`, if not NULL, is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutRegister1(
    _deviceObject: *mut core::ffi::c_void,
    callout: *const FWPS_CALLOUT1,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    // SAFETY: the caller guarantees `callout` is NULL or readable.
    let Some(c) = (unsafe { callout.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    let classify = c.classifyFn.map(|f| ClassifyFn::V1(Some(f)));
    // SAFETY: the caller's guarantee for `calloutId`.
    unsafe { register("FwpsCalloutRegister1", c.calloutKey, classify, c.notifyFn.is_some(), c.flowDeleteFn, calloutId) }
}

/// Registers a callout whose classify is a `classifyFn2`.
///
/// # Safety
///
/// `callout` is NULL or readable; `calloutId`, if not NULL, is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutRegister2(
    _deviceObject: *mut core::ffi::c_void,
    callout: *const FWPS_CALLOUT2,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    // SAFETY: the caller guarantees `callout` is NULL or readable.
    let Some(c) = (unsafe { callout.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    let classify = c.classifyFn.map(|f| ClassifyFn::V2(Some(f)));
    // SAFETY: the caller's guarantee for `calloutId`.
    unsafe { register("FwpsCalloutRegister2", c.calloutKey, classify, c.notifyFn.is_some(), c.flowDeleteFn, calloutId) }
}

/// Registers a callout whose classify is a `classifyFn3`.
///
/// # Safety
///
/// `callout` is NULL or readable; `calloutId`, if not NULL, is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutRegister3(
    _deviceObject: *mut core::ffi::c_void,
    callout: *const FWPS_CALLOUT3,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    // SAFETY: the caller guarantees `callout` is NULL or readable.
    let Some(c) = (unsafe { callout.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    let classify = c.classifyFn.map(|f| ClassifyFn::V3(Some(f)));
    // SAFETY: the caller's guarantee for `calloutId`.
    unsafe { register("FwpsCalloutRegister3", c.calloutKey, classify, c.notifyFn.is_some(), c.flowDeleteFn, calloutId) }
}

/// `STATUS_FWP_ALREADY_EXISTS`.
const STATUS_FWP_ALREADY_EXISTS: NTSTATUS = 0xC022_0009_u32 as i32;

/// Unregisters a callout by its key: `STATUS_DEVICE_BUSY` while filters
/// reference it or classifies of it are in progress.
///
/// # Safety
///
/// `calloutKey` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutUnregisterByKey0(calloutKey: *const GUID) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsCalloutUnregisterByKey0");
    // SAFETY: the caller's guarantee.
    let Some(key) = (unsafe { calloutKey.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    super::unregister(None, Some(*key), "FwpsCalloutUnregisterByKey0")
}

/// Acquires a handle for the classify in progress whose `classifyContext`
/// this is; a context of no classify in progress fails.
///
/// # Safety
///
/// `classifyHandle` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAcquireClassifyHandle0(
    classifyContext: *mut core::ffi::c_void,
    _flags: UINT32,
    classifyHandle: *mut UINT64,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsAcquireClassifyHandle0");
    if classifyHandle.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    match engine::acquire(classifyContext.addr()) {
        Some(h) => {
            // SAFETY: the caller's guarantee.
            unsafe { *classifyHandle = h };
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_PARAMETER,
    }
}

/// Pends the classify of `classifyHandle`.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsPendClassify0(
    classifyHandle: UINT64,
    _filterId: UINT64,
    _flags: UINT32,
    _classifyOut: *mut FWPS_CLASSIFY_OUT0,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsPendClassify0");
    if engine::step(classifyHandle, HandleState2::ACQUIRED, HandleState2::PENDED, "FwpsPendClassify0") {
        STATUS_SUCCESS
    } else {
        STATUS_INVALID_PARAMETER
    }
}

/// Completes a pended classify with the decision in `classifyOut`, which a
/// test reads with [`completions`](super::completions).
///
/// # Safety
///
/// `classifyOut` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCompleteClassify0(
    classifyHandle: UINT64,
    _flags: UINT32,
    classifyOut: *const FWPS_CLASSIFY_OUT0,
) {
    at_most(DISPATCH_LEVEL, "FwpsCompleteClassify0");
    if engine::step(classifyHandle, HandleState2::PENDED, HandleState2::COMPLETED, "FwpsCompleteClassify0") {
        // SAFETY: the caller's guarantee.
        let out = unsafe { classifyOut.as_ref() }.copied().unwrap_or_default();
        engine::record_completion(classifyHandle, out);
    }
}

/// Releases a classify handle (after its completion, if it was pended).
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsReleaseClassifyHandle0(classifyHandle: UINT64) {
    at_most(DISPATCH_LEVEL, "FwpsReleaseClassifyHandle0");
    let _ = HandleState2::RELEASED;
    engine::release(classifyHandle);
}

/// Associates `flowContext` with flow `flowId` at `layerId` for callout
/// `calloutId`; later classifies of the flow at that layer pass it, and the
/// callout's `flowDeleteFn` gets it when the flow ends. One context per
/// flow, layer and callout: a second is refused.
///
/// # Safety
///
/// None beyond the DDI's: every argument is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFlowAssociateContext0(
    flowId: UINT64,
    layerId: UINT16,
    calloutId: UINT32,
    flowContext: UINT64,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsFlowAssociateContext0");
    flows::associate(flowId, layerId, calloutId, flowContext)
}

/// Removes the context of flow `flowId` at `layerId` for `calloutId`,
/// calling the callout's `flowDeleteFn` with it before returning.
///
/// # Safety
///
/// None beyond the DDI's: every argument is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFlowRemoveContext0(flowId: UINT64, layerId: UINT16, calloutId: UINT32) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsFlowRemoveContext0");
    flows::remove_context(flowId, layerId, calloutId)
}

/// Pends the operation of the classify in progress whose `completionHandle`
/// (metadata) this is; `completionContext` receives the context to
/// complete it with.
///
/// # Safety
///
/// `completionContext` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsPendOperation0(completionHandle: HANDLE, completionContext: *mut HANDLE) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsPendOperation0");
    if completionContext.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    match operations::pend_operation(completionHandle.addr()) {
        Some(c) => {
            // SAFETY: the caller's guarantee.
            unsafe { *completionContext = core::ptr::without_provenance_mut(c) };
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_PARAMETER,
    }
}

/// Completes a pended operation; the engine re-authorizes it
/// ([`completed_operations`](super::completed_operations)).
///
/// # Safety
///
/// None beyond the DDI's: the context is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCompleteOperation0(completionContext: HANDLE, _netBufferList: PNET_BUFFER_LIST) {
    at_most(DISPATCH_LEVEL, "FwpsCompleteOperation0");
    operations::complete_operation(completionContext.addr());
}

/// Gives the writable layer data of the classify `classifyHandle` was
/// acquired for: at the connect-redirect layers, its `FWPS_CONNECT_REQUEST0`;
/// at the bind-redirect layers, its `FWPS_BIND_REQUEST0`.
///
/// # Safety
///
/// `writableLayerData` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAcquireWritableLayerDataPointer0(
    classifyHandle: UINT64,
    _filterId: UINT64,
    _flags: UINT32,
    writableLayerData: *mut PVOID,
    _classifyOut: *mut FWPS_CLASSIFY_OUT0,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsAcquireWritableLayerDataPointer0");
    if writableLayerData.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    match operations::writable(classifyHandle) {
        Some(p) => {
            // SAFETY: the caller's guarantee. The request is the engine's,
            // lent to the driver as the real engine lends it.
            unsafe { *writableLayerData = p.ptr() };
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_PARAMETER,
    }
}

/// Applies the modified layer data (the connect or bind request): the
/// engine records the redirection ([`redirections`](super::redirections),
/// [`bind_redirections`](super::bind_redirections)).
///
/// # Safety
///
/// `modifiedLayerData` is what `FwpsAcquireWritableLayerDataPointer0` gave
/// for the handle (checked).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsApplyModifiedLayerData0(
    classifyHandle: UINT64,
    modifiedLayerData: PVOID,
    _flags: UINT32,
) {
    at_most(DISPATCH_LEVEL, "FwpsApplyModifiedLayerData0");
    // SAFETY: checked against what the engine gave before it is read.
    unsafe { operations::apply(classifyHandle, modifiedLayerData.addr()) };
}

/// Creates a redirect handle.
///
/// # Safety
///
/// `redirectHandle` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsRedirectHandleCreate0(
    _providerGuid: *const GUID,
    _flags: UINT32,
    redirectHandle: *mut HANDLE,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsRedirectHandleCreate0");
    if redirectHandle.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's guarantee.
    unsafe { *redirectHandle = core::ptr::without_provenance_mut(operations::create_redirect_handle()) };
    STATUS_SUCCESS
}

/// Destroys a redirect handle.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsRedirectHandleDestroy0(redirectHandle: HANDLE) {
    at_most(PASSIVE_LEVEL, "FwpsRedirectHandleDestroy0");
    if !operations::destroy_redirect_handle(redirectHandle.addr()) {
        crate::verifier::report::report(vec![crate::verifier::v(
            crate::Rule::DoubleFree,
            "FwpsRedirectHandleDestroy0",
            format!("redirect handle {:#x} destroyed twice or never created", redirectHandle.addr()),
        )]);
    }
}

/// Says whether and by whom the connection whose `redirectRecords` these
/// are was redirected, relative to `redirectHandle`: what a redirecting
/// callout asks first, so that it does not redirect a connection it (or
/// its proxy) already redirected — the redirect loop the documentation
/// warns of. `redirectContext`, if not NULL, receives NULL (the simulated
/// engine keeps no redirect context).
///
/// # Safety
///
/// `redirectContext` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsQueryConnectionRedirectState0(
    redirectRecords: HANDLE,
    redirectHandle: HANDLE,
    redirectContext: *mut *mut core::ffi::c_void,
) -> FWPS_CONNECTION_REDIRECT_STATE {
    at_most(DISPATCH_LEVEL, "FwpsQueryConnectionRedirectState0");
    if !redirectContext.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { *redirectContext = core::ptr::null_mut() };
    }
    operations::redirect_state(redirectRecords.addr() as u64, redirectHandle.addr())
}
