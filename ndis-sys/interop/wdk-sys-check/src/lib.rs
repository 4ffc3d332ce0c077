//! Compile-time proof that ndis-sys' base kernel records and wdk-sys' are
//! the same C declarations laid out the same way (both are bindgen output
//! of the kit's headers): size, alignment and the offsets drivers read.
//! Building this crate is the check; it has nothing to run.
#![no_std]

use core::mem::{align_of, offset_of, size_of};

/// Size and alignment equal.
macro_rules! same_layout {
    ($($name:ident),* $(,)?) => {$(
        const _: () = assert!(size_of::<ndis_sys::$name>() == size_of::<wdk_sys::$name>(), stringify!($name));
        const _: () = assert!(align_of::<ndis_sys::$name>() == align_of::<wdk_sys::$name>(), stringify!($name));
    )*};
}

/// One field's offset equal.
macro_rules! same_offset {
    ($($name:ident . $field:ident),* $(,)?) => {$(
        const _: () = assert!(
            offset_of!(ndis_sys::$name, $field) == offset_of!(wdk_sys::$name, $field),
            concat!(stringify!($name), ".", stringify!($field))
        );
    )*};
}

same_layout!(MDL, DEVICE_OBJECT, DRIVER_OBJECT, UNICODE_STRING, GUID, KSPIN_LOCK, LIST_ENTRY, IRP);
same_offset!(
    MDL.Next,
    MDL.Size,
    MDL.MdlFlags,
    MDL.MappedSystemVa,
    MDL.StartVa,
    MDL.ByteCount,
    MDL.ByteOffset,
    DRIVER_OBJECT.DeviceObject,
    DRIVER_OBJECT.DriverUnload,
    DRIVER_OBJECT.MajorFunction,
    DEVICE_OBJECT.DeviceExtension,
    UNICODE_STRING.Length,
    UNICODE_STRING.Buffer,
    GUID.Data4,
);

/// The scalar types are the same Rust types in both crates: values pass
/// through with no conversion at all.
pub fn scalars_are_the_same_types(
    status: ndis_sys::NTSTATUS,
    handle: ndis_sys::NDIS_HANDLE,
    lock: ndis_sys::KSPIN_LOCK,
) -> (wdk_sys::NTSTATUS, wdk_sys::PVOID, wdk_sys::KSPIN_LOCK) {
    (status, handle, lock)
}

/// A record pointer converts with a cast.
pub fn mdl_from_wdk(mdl: *mut wdk_sys::MDL) -> *mut ndis_sys::MDL {
    mdl.cast()
}
