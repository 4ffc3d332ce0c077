//! Callout registration with the (simulated) filter engine.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use fwps_sys::*;
use ndis_sys::*;

use crate::model::callout;
use crate::model::irql::PASSIVE_LEVEL;
use crate::verifier::irql::at_most;

/// Registers a callout with the (simulated) filter engine; `calloutId`
/// receives its run-time id. Its classify function is then what
/// [`classify`](crate::classify) calls.
///
/// # Safety
///
/// `callout` points to a readable `FWPS_CALLOUT0`; `calloutId`, if not NULL,
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutRegister0(
    _deviceObject: *mut core::ffi::c_void,
    callout: *const FWPS_CALLOUT0,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsCalloutRegister0");
    if callout.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller guarantees `callout` is readable.
    let callout = unsafe { *callout };
    if callout.classifyFn.is_none() || callout.notifyFn.is_none() {
        return STATUS_INVALID_PARAMETER;
    }
    let id = callout::register(callout);
    if !calloutId.is_null() {
        // SAFETY: the caller guarantees `calloutId` is writable.
        unsafe { *calloutId = id };
    }
    STATUS_SUCCESS
}

/// Unregisters a callout by its run-time id: `STATUS_DEVICE_BUSY` while
/// filters reference it, classifies of it are in progress, or flow
/// contexts it associated remain.
///
/// # Safety
///
/// None beyond the DDI's: any id may be passed.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutUnregisterById0(calloutId: UINT32) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsCalloutUnregisterById0");
    crate::wfp::unregister(Some(calloutId), None, "FwpsCalloutUnregisterById0")
}
