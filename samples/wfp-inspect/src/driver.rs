//! The Windows kernel glue: `DriverEntry` and unload. Everything the driver
//! does with packets is in [`crate::callout`], on ndis-safe.
#![allow(unsafe_code, reason = "a driver's entry points are raw by nature")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "each block is one step of setting up or tearing down the driver, under one argument"
)]

use core::mem::MaybeUninit;
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicU64, Ordering};

use ndis_sys::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS};

use ndis_safe::wfp::callout::DeviceObject;

use crate::callout::{self, Callouts, Inspector};
use crate::kernel::{
    DEVICE_OBJECT, DRIVER_OBJECT, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN, IoCreateDevice, IoDeleteDevice,
    KeBugCheckEx, NdisAllocateGenericObject, NdisFreeGenericObject, UNICODE_STRING,
};

const TAG: u32 = u32::from_le_bytes(*b"Insp");

/// The MSVC toolchain's marker that floating point is used; a driver links
/// no CRT that would define it.
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

/// The prebuilt `core` (compiled to unwind) names this C++ personality
/// routine in its unwind tables (rust-lang/rust#54137, #101134). Nothing
/// unwinds in this driver (`panic=abort`, no C++ exceptions reach its
/// frames), so it is never called; were it called, the machine stops.
#[unsafe(no_mangle)]
pub extern "system" fn __CxxFrameHandler3() -> ! {
    // SAFETY: stops the machine; never returns.
    unsafe { KeBugCheckEx(0xE2, 0x5253_4358, 0, 0, 0) }
}

/// A panic stops the machine, as any driver fault does (ndis-safe itself
/// never panics).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: KeBugCheckEx stops the machine and never returns (the kit
    // declares it DECLSPEC_NORETURN); 0xE2 is MANUALLY_INITIATED_CRASH.
    unsafe { KeBugCheckEx(0xE2, 0x5253_5F4E, 0, 0, 0) }
}

static DEVICE: AtomicU64 = AtomicU64::new(0);
static NDIS_OBJECT: AtomicU64 = AtomicU64::new(0);

/// What the driver keeps in its device extension until unload.
struct State {
    inspector: Inspector,
    callouts: Option<Callouts>,
}

/// The driver's entry point.
///
/// # Safety
///
/// Called once by the I/O manager with its driver object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(driver: *mut DRIVER_OBJECT, _registry: *mut UNICODE_STRING) -> NTSTATUS {
    let mut device: *mut DEVICE_OBJECT = null_mut();
    // SAFETY: the I/O manager's driver object; the extension holds the state.
    let status = unsafe {
        IoCreateDevice(
            driver,
            size_of::<State>() as u32,
            null_mut(),
            FILE_DEVICE_UNKNOWN,
            FILE_DEVICE_SECURE_OPEN,
            0,
            &mut device,
        )
    };
    if status != STATUS_SUCCESS {
        return status;
    }
    // SAFETY: a valid driver object; the generic object is freed at unload.
    let ndis = unsafe { NdisAllocateGenericObject(driver, TAG, 0) };
    if ndis.is_null() {
        // SAFETY: ours, created above.
        unsafe { IoDeleteDevice(device) };
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // SAFETY: NDIS gave this handle to the driver; it lives until unload,
    // after the inspector made with it.
    let owner = unsafe { ndis_safe::NdisHandle::from_raw(ndis.cast()) };
    let Some(made) = Inspector::new(&owner) else {
        // SAFETY: ours, created above.
        unsafe {
            NdisFreeGenericObject(ndis);
            IoDeleteDevice(device);
        }
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    // SAFETY: our device object, live while the callouts are registered.
    let object = unsafe { DeviceObject::from_raw(NonNull::new_unchecked(device.cast())) };
    // Registered before the state is installed: a classify meanwhile finds
    // none and lets the packet pass.
    let Ok(callouts) = Callouts::register(object) else {
        drop(made);
        // SAFETY: ours, created above; nothing uses them any more.
        unsafe {
            NdisFreeGenericObject(ndis);
            IoDeleteDevice(device);
        }
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    // The state lives in the device extension, until unload.
    // SAFETY: the extension has room for a State, suitably aligned (the I/O
    // manager aligns it for any type), is ours, and outlives every use of
    // the `'static` borrow (unload unregisters and uninstalls before
    // dropping it).
    let state: &'static State = unsafe {
        let slot = (*device).DeviceExtension.cast::<MaybeUninit<State>>();
        (*slot).write(State { inspector: made, callouts: Some(callouts) })
    };
    callout::install(&state.inspector);
    DEVICE.store(device as u64, Ordering::Relaxed);
    NDIS_OBJECT.store(ndis as u64, Ordering::Relaxed);
    // SAFETY: the driver object is ours to fill in.
    unsafe { (*driver).DriverUnload = Some(unload) };
    STATUS_SUCCESS
}

/// Unload: unregister the callouts (no classify after it returns), destroy
/// the injection handle (which waits for pending injections), free the
/// pool, then the NDIS object and the device.
unsafe extern "system" fn unload(_driver: *mut DRIVER_OBJECT) {
    let device = DEVICE.load(Ordering::Relaxed) as *mut DEVICE_OBJECT;
    let Some(device) = NonNull::new(device) else { return };
    // SAFETY: no classify runs any more once the callouts are unregistered;
    // the state in the extension is moved out once (nothing reads it again)
    // and dropped: its injection handle first (waiting for completions),
    // then its pool.
    unsafe {
        let State { inspector, callouts } = (*device.as_ptr()).DeviceExtension.cast::<State>().read();
        // Each registration, dropped, unregisters its callout once
        // (FwpsCalloutUnregisterById0), the result ignored as the raw twin
        // ignores it: the filters that used them are gone by unload.
        drop(callouts);
        callout::uninstall();
        drop(inspector);
        NdisFreeGenericObject(NDIS_OBJECT.load(Ordering::Relaxed) as *mut _);
        IoDeleteDevice(device.as_ptr());
    }
}
