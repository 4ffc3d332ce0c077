//! The Windows kernel glue: `DriverEntry` registers the filter driver and
//! sets unload, which deregisters it. Everything else is in
//! [`crate::filter`], on ndis-safe.
#![allow(unsafe_code, reason = "a driver's entry points are raw by nature")]

use core::sync::atomic::{AtomicPtr, Ordering};

use ndis_safe::filter::FilterDriver;
use ndis_sys::{_DRIVER_OBJECT as DRIVER_OBJECT, NTSTATUS, PUNICODE_STRING, STATUS_SUCCESS};

use crate::filter::{EtherFilter, REGISTRATION};

unsafe extern "system" {
    /// Stops the machine (ntoskrnl.exe; declared `DECLSPEC_NORETURN` by the kit).
    fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;
}

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

/// A panic stops the machine, as any driver fault does.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: stops the machine; never returns. 0xE2: MANUALLY_INITIATED_CRASH.
    unsafe { KeBugCheckEx(0xE2, 0x5253_5F4E, 0, 0, 0) }
}

/// The registration, from `DriverEntry` to unload.
static DRIVER: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(core::ptr::null_mut());

/// The driver's entry point.
///
/// # Safety
///
/// Called once by the I/O manager with its driver object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(driver: *mut DRIVER_OBJECT, _registry: PUNICODE_STRING) -> NTSTATUS {
    // SAFETY: DriverEntry's driver object, at PASSIVE_LEVEL, once.
    match unsafe { FilterDriver::<EtherFilter>::register(driver, &REGISTRATION) } {
        Ok(registered) => {
            DRIVER.store(registered.into_raw(), Ordering::Release);
            // SAFETY: the driver object is ours to fill in.
            unsafe { (*driver).DriverUnload = Some(unload) };
            STATUS_SUCCESS
        }
        Err(status) => status.raw(),
    }
}

/// Unload: deregister (NDIS detaches every module first).
unsafe extern "system" fn unload(_driver: *mut DRIVER_OBJECT) {
    let handle = DRIVER.swap(core::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: the handle DriverEntry registered, taken back once.
    if let Some(registered) = unsafe { FilterDriver::<EtherFilter>::from_raw(handle) } {
        drop(registered);
    }
}
