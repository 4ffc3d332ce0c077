//! Typed context areas: the bytes NDIS keeps with each NET_BUFFER_LIST
//! for the driver that allocated it (`NET_BUFFER_LIST_CONTEXT`).

#![allow(unsafe_code, reason = "the context traits are unsafe: only the derives implement them")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::NET_BUFFER_LIST;

/// A type that is an NBL's context area: derive it, never implement it.
///
/// `#[derive(ContextArea)]` checks at compile time, for the target being
/// compiled, that the type is `#[repr(C)]`, its size a non-zero multiple of
/// `MEMORY_ALLOCATION_ALIGNMENT` that fits a `USHORT` with its backfill,
/// its alignment at most `MEMORY_ALLOCATION_ALIGNMENT`, and that it needs no
/// `Drop`, borrows nothing and is `Send`.
///
/// # Safety
///
/// `SIZE` is `size_of::<Self>()`, a multiple of `MEMORY_ALLOCATION_ALIGNMENT`
/// no larger than `u16::MAX - BACKFILL`; `align_of::<Self>()` is at most
/// `MEMORY_ALLOCATION_ALIGNMENT`; `BACKFILL` is a multiple of it; `Self`
/// needs no drop and is `'static + Send`. Only the derive implements this
/// trait, after checking all of it.
///
/// ```
/// use ndis_safe::ContextArea;
///
/// #[derive(ContextArea)]
/// #[context_area(backfill = 32)] // room for contexts pushed later
/// #[repr(C)]
/// struct Flow { id: u64, packets: u32, flags: u32 }
///
/// assert_eq!(<Flow as ContextArea>::SIZE, 16);
/// assert_eq!(<Flow as ContextArea>::BACKFILL, 32);
/// ```
///
/// A type that breaks a rule does not compile, and the error names the type,
/// its size and the rule:
///
/// ```compile_fail
/// #[derive(ndis_safe::ContextArea)]
/// #[repr(C)]
/// struct ThreeWords { a: u64, b: u64, c: u64 } // 24: not a multiple of 16
/// ```
pub unsafe trait ContextArea: Sized + Send + 'static {
    /// `ContextSize`: the bytes of the area.
    const SIZE: u16;
    /// `ContextBackFill`: unused bytes before it, for contexts pushed later.
    const BACKFILL: u16;
}

/// The context type of a pool whose NBLs carry no context area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct NoContext;

// SAFETY: zero bytes and no backfill: no context is asked for.
unsafe impl ContextArea for NoContext {
    const SIZE: u16 = 0;
    const BACKFILL: u16 = 0;
}

/// A type that is a context pushed with `NdisAllocateNetBufferListContext`:
/// derive it (`#[derive(PushedContext)]`), never implement it. Its rule is
/// the pointer size's, not `MEMORY_ALLOCATION_ALIGNMENT`'s.
///
/// # Safety
///
/// `SIZE` is `size_of::<Self>()`, a non-zero multiple of the pointer size;
/// `align_of::<Self>()` is at most the pointer's; `Self` needs no drop and
/// is `'static + Send`. Only the derive implements this trait.
pub unsafe trait PushedContext: Sized + Send + 'static {
    /// `ContextSize` for `NdisAllocateNetBufferListContext`.
    const SIZE: u16;
}

/// The derives' compile-time checks; public only for the derives.
#[doc(hidden)]
pub struct ContextAreaLayout<T, const SIZE: usize, const ALIGN: usize, const BACKFILL: u16>(PhantomData<T>);

const MAA: usize = ndis_sys::MEMORY_ALLOCATION_ALIGNMENT;

impl<T, const SIZE: usize, const ALIGN: usize, const BACKFILL: u16> ContextAreaLayout<T, SIZE, ALIGN, BACKFILL> {
    /// Evaluating this fails the build, with the rule, when a rule is broken;
    /// the error names `ContextAreaLayout::<Type, size, align, backfill>`.
    pub const OK: () = {
        assert!(SIZE != 0, "a ContextArea must not be zero-sized (use NoContext for no context)");
        assert!(SIZE % MAA == 0, "a ContextArea's size must be a multiple of MEMORY_ALLOCATION_ALIGNMENT");
        assert!(ALIGN <= MAA, "a ContextArea's alignment must not exceed MEMORY_ALLOCATION_ALIGNMENT");
        assert!(
            SIZE + BACKFILL as usize <= u16::MAX as usize,
            "a ContextArea's size plus backfill must fit a USHORT (65535 bytes)"
        );
        assert!(
            BACKFILL as usize % MAA == 0,
            "a ContextArea's backfill must be a multiple of MEMORY_ALLOCATION_ALIGNMENT"
        );
        assert!(!core::mem::needs_drop::<T>(), "a ContextArea must not need Drop: NDIS frees it without running it");
    };

    /// The size as a `USHORT`, once the checks passed.
    pub const SIZE: u16 = {
        let () = Self::OK;
        SIZE as u16
    };
}

/// The derive's checks for pushed contexts; public only for the derive.
#[doc(hidden)]
pub struct PushedContextLayout<T, const SIZE: usize, const ALIGN: usize, const BACKFILL: u16>(PhantomData<T>);

const PTR: usize = size_of::<usize>();

impl<T, const SIZE: usize, const ALIGN: usize, const BACKFILL: u16> PushedContextLayout<T, SIZE, ALIGN, BACKFILL> {
    /// As [`ContextAreaLayout::OK`], with the pointer-size rule.
    pub const OK: () = {
        assert!(SIZE != 0, "a PushedContext must not be zero-sized");
        assert!(SIZE % PTR == 0, "a PushedContext's size must be a multiple of the pointer size");
        assert!(ALIGN <= PTR, "a PushedContext's alignment must not exceed the pointer's");
        assert!(SIZE <= u16::MAX as usize, "a PushedContext's size must fit a USHORT (65535 bytes)");
        assert!(!core::mem::needs_drop::<T>(), "a PushedContext must not need Drop: NDIS frees it without running it");
    };

    /// The size as a `USHORT`, once the checks passed.
    pub const SIZE: u16 = {
        let () = Self::OK;
        SIZE as u16
    };
}

/// A field of a context type: plain data the NBL may carry anywhere.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a context area: it must be 'static and Send",
    note = "a context area travels with its NET_BUFFER_LIST across completions and processors"
)]
pub trait PlainField: Send + 'static {}
impl<T: Send + 'static> PlainField for T {}

/// Names each field's type with the `PlainField` bound.
#[doc(hidden)]
pub const fn assert_plain_field<T: PlainField>() {}

/// Writes `init` into `nbl`'s current context area (nothing for a
/// zero-sized `C`, which has no area).
///
/// # Safety
///
/// `nbl` is live and ours, and, unless `C::SIZE` is 0, its current context
/// area has `C::SIZE` bytes.
#[inline(always)]
pub(crate) unsafe fn write_area<C: ContextArea>(nbl: NonNull<NET_BUFFER_LIST>, init: C) {
    if C::SIZE > 0 {
        // SAFETY: the area is `C::SIZE` bytes, MEMORY_ALLOCATION_ALIGNMENT
        // aligned (C's alignment is at most that), and ours.
        unsafe { ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(nbl.as_ptr()).cast::<C>().write(init) };
    }
}

/// `nbl`'s current context area as a `C`. A zero-sized `C` (a pool without
/// a context) has no area: any aligned pointer is a valid reference to it.
///
/// # Safety
///
/// `nbl` is live for `'x` and, unless `C::SIZE` is 0, its current context
/// area holds an initialized `C` that nothing changes during `'x`.
#[inline(always)]
pub(crate) unsafe fn area<'x, C: ContextArea>(nbl: NonNull<NET_BUFFER_LIST>) -> &'x C {
    if C::SIZE == 0 {
        // SAFETY: `C::SIZE` is `size_of::<C>()` (the ContextArea contract),
        // so C is zero-sized; a dangling aligned pointer is valid for it.
        return unsafe { NonNull::<C>::dangling().as_ref() };
    }
    // SAFETY: the caller guarantees an initialized, unchanging C.
    unsafe { &*ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(nbl.as_ptr()).cast::<C>() }
}

/// As [`area`], to change.
///
/// # Safety
///
/// As [`area`], and nothing else reads or writes the area during `'x`.
#[inline(always)]
pub(crate) unsafe fn area_mut<'x, C: ContextArea>(nbl: NonNull<NET_BUFFER_LIST>) -> &'x mut C {
    if C::SIZE == 0 {
        // SAFETY: as in `area`; zero-sized mutable references never overlap
        // in memory.
        return unsafe { NonNull::<C>::dangling().as_mut() };
    }
    // SAFETY: the caller guarantees an initialized C, exclusively ours.
    unsafe { &mut *ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(nbl.as_ptr()).cast::<C>() }
}
