//! The Windows kernel glue: `DriverEntry` creates the device object the
//! callouts register with, an NDIS generic object for the timer, loads the
//! firewall ([`Driver::load`]: the redirect handle, the callouts) and
//! starts a periodic NDIS timer whose function calls
//! [`Firewall::tick`](crate::Firewall::tick) once a second; unload stops
//! the timer, unloads the firewall ([`Driver::unload`]: every waiting
//! connection completed, the callouts unregistered, the redirect handle
//! destroyed) and frees the objects. Everything the driver does with
//! connections is in [`crate::callout`] and [`crate::firewall`], on
//! ndis-safe, without `unsafe`.
#![allow(unsafe_code, reason = "a driver's entry points are raw by nature")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "each block is one step of setting up or tearing down the driver, under one argument"
)]

use core::mem::MaybeUninit;
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicPtr, Ordering};

use ndis_safe::wfp::callout::DeviceObject;
use ndis_sys::{
    _DRIVER_OBJECT as DRIVER_OBJECT, BOOLEAN, DEVICE_OBJECT, LARGE_INTEGER, NDIS_HANDLE,
    NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS, NDIS_STATUS_SUCCESS, NDIS_TIMER_CHARACTERISTICS,
    NDIS_TIMER_CHARACTERISTICS_REVISION_1, NTSTATUS, NdisAllocateGenericObject, NdisAllocateTimerObject,
    NdisCancelTimerObject, NdisFreeGenericObject, NdisFreeTimerObject, NdisSetTimerObject, PUNICODE_STRING, PVOID,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, ULONG,
};

use crate::FIREWALL;
use crate::callout::Driver;

unsafe extern "system" {
    /// Creates a device object (ntoskrnl.exe, wdm.h).
    fn IoCreateDevice(
        driver: *mut DRIVER_OBJECT,
        extension_size: ULONG,
        name: PUNICODE_STRING,
        device_type: ULONG,
        characteristics: ULONG,
        exclusive: BOOLEAN,
        device: *mut *mut DEVICE_OBJECT,
    ) -> NTSTATUS;
    /// Deletes it (ntoskrnl.exe, wdm.h).
    fn IoDeleteDevice(device: *mut DEVICE_OBJECT);
    /// Waits for the DPCs queued on every processor, the timer's included
    /// (ntoskrnl.exe, wdm.h).
    fn KeFlushQueuedDpcs();
    /// Stops the machine (ntoskrnl.exe; declared `DECLSPEC_NORETURN` by the kit).
    fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;
}

/// `FILE_DEVICE_UNKNOWN` (wdm.h).
const FILE_DEVICE_UNKNOWN: ULONG = 0x22;
/// `FILE_DEVICE_SECURE_OPEN` (wdm.h).
const FILE_DEVICE_SECURE_OPEN: ULONG = 0x100;
/// The pool tag of the driver's NDIS objects.
const TAG: u32 = u32::from_le_bytes(*b"FwFw");
/// The timer's period: the firewall's tick.
const TICK_MS: i32 = 1000;

/// The MSVC toolchain's marker that floating point is used; a driver links
/// no CRT that would define it.
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

/// The prebuilt `core` names this personality routine in its unwind
/// tables; nothing unwinds here (`panic=abort`), so it is never called.
#[unsafe(no_mangle)]
pub extern "system" fn __CxxFrameHandler3() -> ! {
    // SAFETY: stops the machine; never returns.
    unsafe { KeBugCheckEx(0xE2, 0x5253_4358, 0, 0, 0) }
}

/// A panic stops the machine, as any driver fault does (ndis-safe itself
/// never panics).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: stops the machine; never returns. 0xE2: MANUALLY_INITIATED_CRASH.
    unsafe { KeBugCheckEx(0xE2, 0x5253_5F4E, 0, 0, 0) }
}

static DEVICE: AtomicPtr<DEVICE_OBJECT> = AtomicPtr::new(null_mut());
static NDIS_OBJECT: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(null_mut());
static TIMER: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(null_mut());

/// The timer's function, at `DISPATCH_LEVEL`: one tick of the firewall
/// (completing a classify is allowed up to `DISPATCH_LEVEL`).
unsafe extern "system" fn on_timer(_s1: PVOID, _context: PVOID, _s2: PVOID, _s3: PVOID) {
    FIREWALL.tick();
}

/// Frees the objects made so far, in reverse order.
///
/// # Safety
///
/// Each non-NULL pointer is the driver's own, not freed yet and no longer
/// used (the timer cancelled before).
unsafe fn free_objects(device: *mut DEVICE_OBJECT, ndis: *mut core::ffi::c_void, timer: NDIS_HANDLE) {
    // SAFETY: the caller's guarantee.
    unsafe {
        if !timer.is_null() {
            NdisFreeTimerObject(timer);
        }
        if !ndis.is_null() {
            NdisFreeGenericObject(ndis.cast());
        }
        if !device.is_null() {
            IoDeleteDevice(device);
        }
    }
}

/// The driver's entry point.
///
/// # Safety
///
/// Called once by the I/O manager with its driver object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(driver: *mut DRIVER_OBJECT, _registry: PUNICODE_STRING) -> NTSTATUS {
    let mut device: *mut DEVICE_OBJECT = null_mut();
    // SAFETY: the I/O manager's driver object; the extension holds the
    // loaded `Driver` until unload.
    let status = unsafe {
        IoCreateDevice(
            driver,
            size_of::<Driver>() as ULONG,
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
    let ndis = unsafe { NdisAllocateGenericObject(driver, TAG, 0) }.cast::<core::ffi::c_void>();
    if ndis.is_null() {
        // SAFETY: ours, made above, unused.
        unsafe { free_objects(device, null_mut(), null_mut()) };
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let mut timer: NDIS_HANDLE = null_mut();
    // SAFETY: all-zero characteristics are filled in below.
    let mut chars: NDIS_TIMER_CHARACTERISTICS = unsafe { core::mem::zeroed() };
    chars.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    chars.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1 as u8;
    chars.Header.Size = size_of::<NDIS_TIMER_CHARACTERISTICS>() as u16;
    chars.AllocationTag = TAG;
    chars.TimerFunction = Some(on_timer);
    // SAFETY: the NDIS handle made above; complete characteristics.
    let status = unsafe { NdisAllocateTimerObject(ndis, &mut chars, &mut timer) };
    if status != NDIS_STATUS_SUCCESS {
        // SAFETY: ours, made above, unused.
        unsafe { free_objects(device, ndis, null_mut()) };
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // SAFETY: our device object, live while the callouts are registered.
    let object = unsafe { DeviceObject::from_raw(NonNull::new_unchecked(device.cast())) };
    let loaded = match Driver::load(object) {
        Ok(loaded) => loaded,
        Err(_) => {
            // SAFETY: ours, made above; the timer was never set.
            unsafe { free_objects(device, ndis, timer) };
            return STATUS_INSUFFICIENT_RESOURCES;
        }
    };
    // SAFETY: the extension has room for a `Driver`, suitably aligned (the
    // I/O manager aligns it for any type), is ours until unload reads it
    // back out.
    unsafe {
        let slot = (*device).DeviceExtension.cast::<MaybeUninit<Driver>>();
        (*slot).write(loaded);
    }
    DEVICE.store(device, Ordering::Release);
    NDIS_OBJECT.store(ndis, Ordering::Release);
    TIMER.store(timer, Ordering::Release);
    // The first tick a period from now, then one every period.
    let due = LARGE_INTEGER { QuadPart: -i64::from(TICK_MS) * 10_000 };
    // SAFETY: our timer object, freed only at unload after cancelling it.
    unsafe {
        NdisSetTimerObject(timer, due, TICK_MS, null_mut());
        (*driver).DriverUnload = Some(unload);
    }
    STATUS_SUCCESS
}

/// Unload: stop the timer, unload the firewall (waiting connections
/// completed with the default, callouts unregistered, redirect handle
/// destroyed), then free the timer, the NDIS object and the device.
unsafe extern "system" fn unload(_driver: *mut DRIVER_OBJECT) {
    let device = DEVICE.swap(null_mut(), Ordering::AcqRel);
    let timer = TIMER.swap(null_mut(), Ordering::AcqRel);
    let ndis = NDIS_OBJECT.swap(null_mut(), Ordering::AcqRel);
    if device.is_null() {
        return;
    }
    // SAFETY: the timer DriverEntry set; once cancelled it is not queued
    // again, and flushing the DPCs waits for a tick already running (the
    // documentation of NdisFreeTimerObject does not say it waits).
    unsafe {
        NdisCancelTimerObject(timer);
        KeFlushQueuedDpcs();
    }
    // SAFETY: the `Driver` DriverEntry wrote into the extension, read out
    // once; after its unload no classify runs and no pend is left.
    let loaded = unsafe { (*device).DeviceExtension.cast::<Driver>().read() };
    let _ = loaded.unload();
    // SAFETY: ours, no longer used: the timer cancelled, the callouts gone.
    unsafe { free_objects(device, ndis, timer) };
}
