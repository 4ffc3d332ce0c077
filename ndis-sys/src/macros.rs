//! Ports of the NDIS and MDL accessor macros (`nblaccessors.h`, `wdm.h`,
//! with wdm.h's inline `MmGetSystemAddressForMdlSafe`) and of the send,
//! receive and return flag helpers (`nblsend.h`, `nblreceive.h`).
//!
//! In C most of these macros are *lvalues*: `NET_BUFFER_DATA_LENGTH(nb) = 0`
//! assigns, and the same macro reads. Their ports return a raw pointer to the
//! field — read with `*`, assign with `*… = v` — computed with `&raw mut`, so
//! that no Rust reference to a structure the system may be writing at the
//! same time is ever created. Macros that compute a value (`NBL_TEST_FLAG`,
//! `NET_BUFFER_LIST_CONTEXT_DATA_START`, `MmGetMdlVirtualAddress`) return it.
//!
//! ```
//! use ndis_sys::*;
//!
//! // SAFETY: an all-zero NET_BUFFER_LIST is a valid value (null pointers, zero counts).
//! let mut nbl: NET_BUFFER_LIST = unsafe { core::mem::zeroed() };
//! let nbl = &raw mut nbl;
//! // SAFETY: `nbl` points to a live NET_BUFFER_LIST owned by this function.
//! unsafe {
//!     *NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_RESOURCES;
//!     assert_eq!(*NET_BUFFER_LIST_STATUS(nbl), NDIS_STATUS_RESOURCES);
//!     assert!((*NET_BUFFER_LIST_FIRST_NB(nbl)).is_null());
//! }
//! ```
#![allow(non_snake_case, reason = "the ports keep the C macros' names")]

use crate::{
    CSHORT, KPROCESSOR_MODE, KernelMode, LONG, MDL, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL,
    MEMORY_CACHING_TYPE, MmCached, NBL_FLAGS_PROTOCOL_RESERVED, NDIS_STATUS, NET_BUFFER, NET_BUFFER_LIST,
    NET_BUFFER_LIST_CONTEXT, NTSTATUS, PHYSICAL_ADDRESS, PMDL, PVOID, UCHAR, ULONG, USHORT,
};

/// `NT_SUCCESS(Status)`: success and informational statuses (`>= 0`).
#[inline]
#[must_use]
pub const fn NT_SUCCESS(status: NTSTATUS) -> bool {
    status >= 0
}

/// Generates an lvalue-macro port: `name(ptr) -> *mut FieldType`.
macro_rules! place {
    ($(#[$doc:meta])* $name:ident($arg:ident: $rec:ty) -> $ty:ty = $($field:tt).+) => {
        $(#[$doc])*
        ///
        /// Returns a pointer to the field: read it with `*`, assign with `*… = v`.
        ///
        /// # Safety
        ///
        #[doc = concat!("`", stringify!($arg), "` must point to a live `", stringify!($rec), "`.")]
        /// The pointer returned is valid while that structure is; accesses
        /// through it must not race with other writers.
        #[inline(always)]
        #[must_use]
        pub unsafe fn $name($arg: *mut $rec) -> *mut $ty {
            // SAFETY: the caller guarantees `$arg` points to a live record, so
            // the field projection stays inside it; no reference is created.
            unsafe { &raw mut (*$arg).$($field).+ }
        }
    };
}

// ---- NET_BUFFER_LIST ----

place!(
    /// `NET_BUFFER_LIST_NEXT_NBL(_NBL)`: the next NBL in the chain.
    NET_BUFFER_LIST_NEXT_NBL(nbl: NET_BUFFER_LIST) -> *mut NET_BUFFER_LIST = __bindgen_anon_1.__bindgen_anon_1.Next
);
place!(
    /// `NET_BUFFER_LIST_FIRST_NB(_NBL)`: the NBL's first NET_BUFFER.
    NET_BUFFER_LIST_FIRST_NB(nbl: NET_BUFFER_LIST) -> *mut NET_BUFFER = __bindgen_anon_1.__bindgen_anon_1.FirstNetBuffer
);
place!(
    /// `NET_BUFFER_LIST_FLAGS(_NBL)`: the private `Flags`.
    NET_BUFFER_LIST_FLAGS(nbl: NET_BUFFER_LIST) -> ULONG = Flags
);
place!(
    /// `NET_BUFFER_LIST_NBL_FLAGS(_NBL)`: the public `NblFlags` (`NDIS_NBL_FLAGS_*`).
    NET_BUFFER_LIST_NBL_FLAGS(nbl: NET_BUFFER_LIST) -> ULONG = NblFlags
);
place!(
    /// `NET_BUFFER_LIST_PROTOCOL_RESERVED(_NBL)`: the protocol's reserved words.
    NET_BUFFER_LIST_PROTOCOL_RESERVED(nbl: NET_BUFFER_LIST) -> [PVOID; 4] = ProtocolReserved
);
place!(
    /// `NET_BUFFER_LIST_MINIPORT_RESERVED(_NBL)`: the miniport's reserved words.
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl: NET_BUFFER_LIST) -> [PVOID; 2] = MiniportReserved
);
place!(
    /// `NET_BUFFER_LIST_STATUS(_NBL)`: the completion status.
    NET_BUFFER_LIST_STATUS(nbl: NET_BUFFER_LIST) -> NDIS_STATUS = __bindgen_anon_2.Status
);
place!(
    /// `(_NBL)->ParentNetBufferList`: the parent of a clone, or null.
    NET_BUFFER_LIST_PARENT(nbl: NET_BUFFER_LIST) -> *mut NET_BUFFER_LIST = ParentNetBufferList
);
place!(
    /// `(_NBL)->ChildRefCount`: how many clones of this NBL are alive.
    NET_BUFFER_LIST_CHILD_REF_COUNT(nbl: NET_BUFFER_LIST) -> LONG = ChildRefCount
);

/// `NET_BUFFER_LIST_INFO(_NBL, _Id)`: one out-of-band information slot.
///
/// Returns a pointer to the slot: read it with `*`, assign with `*… = v`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST`, and `id` must be below
/// `MaxNetBufferListInfo` (a `NDIS_NET_BUFFER_LIST_INFO` value).
#[inline(always)]
#[must_use]
pub unsafe fn NET_BUFFER_LIST_INFO(nbl: *mut NET_BUFFER_LIST, id: crate::NDIS_NET_BUFFER_LIST_INFO) -> *mut PVOID {
    // SAFETY: the caller guarantees `nbl` is live and `id` is in bounds of
    // `NetBufferListInfo`; the projection and the offset stay inside it.
    unsafe { (&raw mut (*nbl).NetBufferListInfo).cast::<PVOID>().add(id as usize) }
}

/// `NET_BUFFER_LIST_CONTEXT_DATA_START(_NBL)`: the start of the NBL's current
/// context area (the one the last context allocation made).
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` whose `Context` is not null.
#[inline(always)]
#[must_use]
pub unsafe fn NET_BUFFER_LIST_CONTEXT_DATA_START(nbl: *mut NET_BUFFER_LIST) -> *mut UCHAR {
    // SAFETY: the caller guarantees `nbl` is live with a context; the context
    // data follows the header, `Offset` bytes in, inside the same allocation.
    unsafe {
        let ctx: *mut NET_BUFFER_LIST_CONTEXT = (*nbl).Context;
        ctx.add(1).cast::<UCHAR>().add(usize::from((*ctx).Offset))
    }
}

/// `NET_BUFFER_LIST_CONTEXT_DATA_SIZE(_NBL)`: the size of the NBL's current
/// context area.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` whose `Context` is not null.
#[inline(always)]
#[must_use]
pub unsafe fn NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl: *mut NET_BUFFER_LIST) -> USHORT {
    // SAFETY: the caller guarantees `nbl` is live with a context.
    unsafe { (*(*nbl).Context).Size }
}

/// `NBL_TEST_FLAG(_NBL, _F)`: whether any of `flags` is set in `Flags`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST`.
#[inline(always)]
#[must_use]
pub unsafe fn NBL_TEST_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) -> bool {
    // SAFETY: the caller guarantees `nbl` is live.
    unsafe { (*nbl).Flags & flags != 0 }
}

/// `NBL_SET_FLAG(_NBL, _F)`: sets `flags` in `Flags`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` this code may write.
#[inline(always)]
pub unsafe fn NBL_SET_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the caller guarantees `nbl` is live and writable.
    unsafe { (*nbl).Flags |= flags }
}

/// `NBL_CLEAR_FLAG(_NBL, _F)`: clears `flags` in `Flags`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` this code may write.
#[inline(always)]
pub unsafe fn NBL_CLEAR_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the caller guarantees `nbl` is live and writable.
    unsafe { (*nbl).Flags &= !flags }
}

/// `NBL_SET_PROTOCOL_RSVD_FLAG(_NBL, _F)`: sets those of `flags` that are in
/// `NBL_FLAGS_PROTOCOL_RESERVED`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` this code may write.
#[inline(always)]
pub unsafe fn NBL_SET_PROTOCOL_RSVD_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the caller guarantees `nbl` is live and writable.
    unsafe { (*nbl).Flags |= flags & NBL_FLAGS_PROTOCOL_RESERVED }
}

/// `NBL_CLEAR_PROTOCOL_RSVD_FLAG(_NBL, _F)`: clears those of `flags` that are
/// in `NBL_FLAGS_PROTOCOL_RESERVED`.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST` this code may write.
#[inline(always)]
pub unsafe fn NBL_CLEAR_PROTOCOL_RSVD_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the caller guarantees `nbl` is live and writable.
    unsafe { (*nbl).Flags &= !(flags & NBL_FLAGS_PROTOCOL_RESERVED) }
}

/// `NBL_TEST_PROTOCOL_RSVD_FLAG(_NBL, _F)`: whether any of those of `flags`
/// that are in `NBL_FLAGS_PROTOCOL_RESERVED` is set.
///
/// # Safety
///
/// `nbl` must point to a live `NET_BUFFER_LIST`.
#[inline(always)]
#[must_use]
pub unsafe fn NBL_TEST_PROTOCOL_RSVD_FLAG(nbl: *mut NET_BUFFER_LIST, flags: ULONG) -> bool {
    // SAFETY: the caller guarantees `nbl` is live.
    unsafe { (*nbl).Flags & (flags & NBL_FLAGS_PROTOCOL_RESERVED) != 0 }
}

// ---- NET_BUFFER ----

place!(
    /// `NET_BUFFER_NEXT_NB(_NB)`: the next NET_BUFFER of the same NBL.
    NET_BUFFER_NEXT_NB(nb: NET_BUFFER) -> *mut NET_BUFFER = __bindgen_anon_1.__bindgen_anon_1.Next
);
place!(
    /// `NET_BUFFER_FIRST_MDL(_NB)`: the head of the NB's MDL chain.
    NET_BUFFER_FIRST_MDL(nb: NET_BUFFER) -> *mut MDL = __bindgen_anon_1.__bindgen_anon_1.MdlChain
);
place!(
    /// `NET_BUFFER_CURRENT_MDL(_NB)`: the MDL that holds the data start.
    NET_BUFFER_CURRENT_MDL(nb: NET_BUFFER) -> *mut MDL = __bindgen_anon_1.__bindgen_anon_1.CurrentMdl
);
place!(
    /// `NET_BUFFER_CURRENT_MDL_OFFSET(_NB)`: the data start's offset in the current MDL.
    NET_BUFFER_CURRENT_MDL_OFFSET(nb: NET_BUFFER) -> ULONG = __bindgen_anon_1.__bindgen_anon_1.CurrentMdlOffset
);
place!(
    /// `NET_BUFFER_DATA_LENGTH(_NB)`: the length of the used data.
    NET_BUFFER_DATA_LENGTH(nb: NET_BUFFER) -> ULONG = __bindgen_anon_1.__bindgen_anon_1.__bindgen_anon_1.DataLength
);
place!(
    /// `NET_BUFFER_DATA_OFFSET(_NB)`: the data start's offset from the start of the MDL chain.
    NET_BUFFER_DATA_OFFSET(nb: NET_BUFFER) -> ULONG = __bindgen_anon_1.__bindgen_anon_1.DataOffset
);
place!(
    /// `NET_BUFFER_PROTOCOL_RESERVED(_NB)`: the protocol's reserved words.
    NET_BUFFER_PROTOCOL_RESERVED(nb: NET_BUFFER) -> [PVOID; 6] = ProtocolReserved
);
place!(
    /// `NET_BUFFER_MINIPORT_RESERVED(_NB)`: the miniport's reserved words.
    NET_BUFFER_MINIPORT_RESERVED(nb: NET_BUFFER) -> [PVOID; 4] = MiniportReserved
);
place!(
    /// `NET_BUFFER_CHECKSUM_BIAS(_NB)`: bytes before the data start the checksum covers.
    NET_BUFFER_CHECKSUM_BIAS(nb: NET_BUFFER) -> USHORT = ChecksumBias
);
place!(
    /// `NET_BUFFER_DATA_PHYSICAL_ADDRESS(_NB)`: the data's physical address, where known.
    NET_BUFFER_DATA_PHYSICAL_ADDRESS(nb: NET_BUFFER) -> PHYSICAL_ADDRESS = DataPhysicalAddress
);

// ---- MDL ----

place!(
    /// `NDIS_MDL_LINKAGE(_Mdl)`: the next MDL in the chain.
    NDIS_MDL_LINKAGE(mdl: MDL) -> *mut MDL = Next
);
place!(
    /// `(_Mdl)->MdlFlags`: the `MDL_*` flags.
    MDL_FLAGS(mdl: MDL) -> CSHORT = MdlFlags
);

/// `MmGetMdlByteCount(Mdl)`: the bytes the MDL describes.
///
/// # Safety
///
/// `mdl` must point to a live `MDL`.
#[inline(always)]
#[must_use]
pub unsafe fn MmGetMdlByteCount(mdl: *const MDL) -> ULONG {
    // SAFETY: the caller guarantees `mdl` is live.
    unsafe { (*mdl).ByteCount }
}

/// `MmGetMdlByteOffset(Mdl)`: the offset of the buffer in its first page.
///
/// # Safety
///
/// `mdl` must point to a live `MDL`.
#[inline(always)]
#[must_use]
pub unsafe fn MmGetMdlByteOffset(mdl: *const MDL) -> ULONG {
    // SAFETY: the caller guarantees `mdl` is live.
    unsafe { (*mdl).ByteOffset }
}

/// `MmGetMdlVirtualAddress(Mdl)`: `StartVa + ByteOffset`, the buffer's
/// virtual address in the context the MDL was built in.
///
/// # Safety
///
/// `mdl` must point to a live `MDL`.
#[inline(always)]
#[must_use]
pub unsafe fn MmGetMdlVirtualAddress(mdl: *const MDL) -> PVOID {
    // SAFETY: the caller guarantees `mdl` is live. The address is computed
    // with wrapping arithmetic: it is a description, not dereferenced here.
    unsafe { (*mdl).StartVa.cast::<u8>().wrapping_add((*mdl).ByteOffset as usize).cast() }
}

#[cfg_attr(feature = "link", link(name = "ntoskrnl"))]
unsafe extern "system" {
    /// [`MmMapLockedPagesSpecifyCache`](https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/wdm/nf-wdm-mmmaplockedpagesspecifycache)
    /// on learn.microsoft.com: maps the locked pages an MDL describes.
    /// Declared here, with the signature wdm.h gives it, rather than
    /// generated: it is an ntoskrnl export, and the generated declarations
    /// link NDIS.SYS. With the `link` feature it links `ntoskrnl.lib`.
    pub fn MmMapLockedPagesSpecifyCache(
        MemoryDescriptorList: PMDL,
        AccessMode: KPROCESSOR_MODE,
        CacheType: MEMORY_CACHING_TYPE,
        RequestedAddress: PVOID,
        BugCheckOnFailure: ULONG,
        Priority: ULONG,
    ) -> PVOID;
}

/// `MmGetSystemAddressForMdlSafe(Mdl, Priority)` (an inline function of
/// `wdm.h`): a system-space address of the buffer the MDL describes. An MDL
/// already mapped into system space, or describing nonpaged pool
/// (`MDL_MAPPED_TO_SYSTEM_VA` or `MDL_SOURCE_IS_NONPAGED_POOL` in its flags),
/// gives its `MappedSystemVa`; any other is mapped by
/// `MmMapLockedPagesSpecifyCache` — kernel mode, cached, at no requested
/// address, returning null on failure instead of bug-checking. `priority` is
/// an `MM_PAGE_PRIORITY` ORed with `MdlMapping*` flags, e.g.
/// `NormalPagePriority as ULONG | MdlMappingNoExecute`. Null means the
/// mapping failed.
///
/// # Safety
///
/// `mdl` must point to a live `MDL` this code may update (a new mapping is
/// recorded in it) whose pages are locked, or that describes nonpaged pool;
/// the caller runs at IRQL <= `DISPATCH_LEVEL`.
#[inline(always)]
#[must_use]
pub unsafe fn MmGetSystemAddressForMdlSafe(mdl: *mut MDL, priority: ULONG) -> PVOID {
    // SAFETY: the caller guarantees `mdl` is live.
    let flags = unsafe { (*mdl).MdlFlags };
    if flags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
        // SAFETY: as above.
        unsafe { (*mdl).MappedSystemVa }
    } else {
        // SAFETY: a live MDL with locked pages, at an IRQL the DDI allows (the
        // caller's guarantees); no address is requested, and a failure
        // returns null (BugCheckOnFailure is FALSE).
        unsafe {
            MmMapLockedPagesSpecifyCache(
                mdl,
                KernelMode as KPROCESSOR_MODE,
                MmCached,
                core::ptr::null_mut(),
                0,
                priority,
            )
        }
    }
}

// ---- send, send-complete, receive and return flags (nblsend.h, nblreceive.h) ----

/// Generates a flag-test port: all of `fl`'s bits are set in `flags`.
macro_rules! test_flag {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[inline(always)]
        #[must_use]
        pub const fn $name(flags: ULONG, fl: ULONG) -> bool {
            flags & fl == fl
        }
    };
}

/// Generates a flag-set port: `*flags |= fl` (the C macro assigns its lvalue).
macro_rules! set_flag {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[inline(always)]
        pub const fn $name(flags: &mut ULONG, fl: ULONG) {
            *flags |= fl;
        }
    };
}

test_flag!(
    /// `NDIS_TEST_SEND_FLAG(_Flags, _Fl)`: every bit of `fl` is set in the
    /// send flags (`NDIS_SEND_FLAGS_*`).
    NDIS_TEST_SEND_FLAG
);
set_flag!(
    /// `NDIS_SET_SEND_FLAG(_Flags, _Fl)`: sets `fl`'s bits in the send flags.
    NDIS_SET_SEND_FLAG
);

/// `NDIS_CLEAR_SEND_FLAG(_Flags, _Fl)`: clears `fl`'s bits in the send flags.
#[inline(always)]
pub const fn NDIS_CLEAR_SEND_FLAG(flags: &mut ULONG, fl: ULONG) {
    *flags &= !fl;
}

/// `NDIS_TEST_SEND_AT_DISPATCH_LEVEL(_Flags)`: `NDIS_SEND_FLAGS_DISPATCH_LEVEL` is set.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_SEND_AT_DISPATCH_LEVEL(flags: ULONG) -> bool {
    NDIS_TEST_SEND_FLAG(flags, crate::NDIS_SEND_FLAGS_DISPATCH_LEVEL)
}

test_flag!(
    /// `NDIS_TEST_SEND_COMPLETE_FLAG(_Flags, _Fl)`: every bit of `fl` is set in
    /// the send-complete flags (`NDIS_SEND_COMPLETE_FLAGS_*`).
    NDIS_TEST_SEND_COMPLETE_FLAG
);
set_flag!(
    /// `NDIS_SET_SEND_COMPLETE_FLAG(_Flags, _Fl)`: sets `fl`'s bits in the
    /// send-complete flags.
    NDIS_SET_SEND_COMPLETE_FLAG
);

/// `NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(_Flags)`:
/// `NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL` is set.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(flags: ULONG) -> bool {
    NDIS_TEST_SEND_COMPLETE_FLAG(flags, crate::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL)
}

test_flag!(
    /// `NDIS_TEST_RECEIVE_FLAG(_Flags, _Fl)`: every bit of `fl` is set in the
    /// receive flags (`NDIS_RECEIVE_FLAGS_*`).
    NDIS_TEST_RECEIVE_FLAG
);
set_flag!(
    /// `NDIS_SET_RECEIVE_FLAG(_Flags, _Fl)`: sets `fl`'s bits in the receive flags.
    NDIS_SET_RECEIVE_FLAG
);

/// `NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(_Flags)`: `NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL` is set.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(flags: ULONG) -> bool {
    NDIS_TEST_RECEIVE_FLAG(flags, crate::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL)
}

/// `NDIS_TEST_RECEIVE_CANNOT_PEND(_Flags)`: `NDIS_RECEIVE_FLAGS_RESOURCES` is
/// set — the receiver must copy what it keeps and return at once.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_RECEIVE_CANNOT_PEND(flags: ULONG) -> bool {
    NDIS_TEST_RECEIVE_FLAG(flags, crate::NDIS_RECEIVE_FLAGS_RESOURCES)
}

/// `NDIS_TEST_RECEIVE_CAN_PEND(_Flags)`: `NDIS_RECEIVE_FLAGS_RESOURCES` is clear.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_RECEIVE_CAN_PEND(flags: ULONG) -> bool {
    flags & crate::NDIS_RECEIVE_FLAGS_RESOURCES == 0
}

test_flag!(
    /// `NDIS_TEST_RETURN_FLAG(_Flags, _Fl)`: every bit of `fl` is set in the
    /// return flags (`NDIS_RETURN_FLAGS_*`).
    NDIS_TEST_RETURN_FLAG
);
set_flag!(
    /// `NDIS_SET_RETURN_FLAG(_Flags, _Fl)`: sets `fl`'s bits in the return flags.
    NDIS_SET_RETURN_FLAG
);

/// `NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(_Flags)`: `NDIS_RETURN_FLAGS_DISPATCH_LEVEL` is set.
#[inline(always)]
#[must_use]
pub const fn NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(flags: ULONG) -> bool {
    NDIS_TEST_RETURN_FLAG(flags, crate::NDIS_RETURN_FLAGS_DISPATCH_LEVEL)
}
