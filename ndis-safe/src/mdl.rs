//! MDLs over the driver's memory, and chains of them.
#![allow(unsafe_code, reason = "MDL allocation and linking are raw-pointer work")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::MDL;

use crate::error::{Error, Result};
use crate::pool::NdisHandle;

/// An MDL describing a buffer of the driver's (`NdisAllocateMdl`), freed by
/// `NdisFreeMdl` on drop.
///
/// # Invariants
///
/// `ptr` is an MDL `NdisAllocateMdl` returned over the `'b` buffer, not on
/// any chain unless a [`MdlChain`] borrowing it says so, and freed once.
///
/// ```
/// use ndis_safe::Mdl;
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let mut buffer = [0u8; 64];
/// let mdl = Mdl::new(&owner, &mut buffer)?;
/// assert_eq!(mdl.byte_count(), 64);
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct Mdl<'b> {
    ptr: NonNull<MDL>,
    _buf: PhantomData<&'b mut [u8]>,
}

// SAFETY: an MDL is a description of memory; it may move between threads
// (the buffer it borrows is borrowed mutably, so no one else touches it).
unsafe impl Send for Mdl<'_> {}

impl<'b> Mdl<'b> {
    /// Describes `buffer` (which must be nonpaged memory in a driver; any
    /// memory on the simulator). Empty buffers and buffers longer than a
    /// `ULONG` are refused.
    pub fn new(owner: &NdisHandle, buffer: &'b mut [u8]) -> Result<Mdl<'b>> {
        let len = u32::try_from(buffer.len()).map_err(|_| Error::InvalidArgument)?;
        if len == 0 {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: the buffer is valid for `len` bytes for 'b, which the MDL
        // borrows; the handle is the driver's.
        let ptr = unsafe { ndis_sys::NdisAllocateMdl(owner.as_raw(), buffer.as_mut_ptr().cast(), len) };
        NonNull::new(ptr).map(|ptr| Mdl { ptr, _buf: PhantomData }).ok_or(Error::NoResources)
    }

    /// The raw pointer.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut MDL {
        self.ptr.as_ptr()
    }

    /// The bytes it describes.
    #[inline]
    pub fn byte_count(&self) -> u32 {
        // SAFETY: the MDL is live (type invariant).
        unsafe { ndis_sys::MmGetMdlByteCount(self.as_ptr()) }
    }
}

impl Drop for Mdl<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the MDL is off every chain (a chain borrows it mutably and
        // unlinks on drop) and freed once, by the function that matches
        // its allocator.
        unsafe { ndis_sys::NdisFreeMdl(self.as_ptr()) }
    }
}

/// MDLs linked into a chain (their `Next` pointers), unlinked on drop.
///
/// The links are set when the chain is built, never inherited: `new` clears
/// the head's `Next` and `then` clears each new tail's, so a chain that was
/// leaked (its links left in place, its MDLs freed later) cannot make a
/// later chain link into freed or cyclic MDLs. Dropping it unlinks from the
/// head to the tail it built, and no further.
///
/// # Invariants
///
/// Every MDL on the chain is borrowed mutably for `'m`, so nothing else can
/// relink or free it while the chain lives; the chain runs from `head` to
/// `tail` through links this value set, and `tail`'s `Next` is NULL.
///
/// ```
/// use ndis_safe::{Mdl, MdlChain, NbPool, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let (mut header, mut body) = ([1u8; 14], [2u8; 50]);
/// let mut h = Mdl::new(&owner, &mut header)?;
/// let mut b = Mdl::new(&owner, &mut body)?;
/// let mut chain = MdlChain::new(&mut h).then(&mut b);
/// let pool = NbPool::new(&owner, Tag(*b"Chan"))?;
/// let nb = pool.allocate_over(&mut chain, 0, 64)?;
/// assert_eq!(nb.mdls().count(), 2);
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct MdlChain<'m> {
    head: NonNull<MDL>,
    tail: NonNull<MDL>,
    /// Invariant in `'m`: every MDL linked in is borrowed for exactly `'m`.
    _mdls: PhantomData<fn(&'m mut MDL) -> &'m mut MDL>,
}

// SAFETY: as for Mdl.
unsafe impl Send for MdlChain<'_> {}

impl<'m> MdlChain<'m> {
    /// A chain of one MDL (whatever `Next` it had is cleared).
    #[inline]
    pub fn new(first: &'m mut Mdl<'_>) -> MdlChain<'m> {
        // SAFETY: the MDL is live and borrowed mutably for 'm: no live chain
        // holds it, so its `Next` is ours to set.
        unsafe { *ndis_sys::NDIS_MDL_LINKAGE(first.as_ptr()) = core::ptr::null_mut() };
        MdlChain { head: first.ptr, tail: first.ptr, _mdls: PhantomData }
    }

    /// Appends an MDL (whatever `Next` it had is cleared).
    #[inline]
    pub fn then(mut self, next: &'m mut Mdl<'_>) -> MdlChain<'m> {
        // SAFETY: the tail is borrowed mutably by the chain; `next` is
        // borrowed mutably for 'm and thus on no live chain.
        unsafe {
            *ndis_sys::NDIS_MDL_LINKAGE(next.as_ptr()) = core::ptr::null_mut();
            *ndis_sys::NDIS_MDL_LINKAGE(self.tail.as_ptr()) = next.as_ptr();
        }
        self.tail = next.ptr;
        self
    }

    /// The head MDL.
    #[inline(always)]
    pub fn head(&self) -> *mut MDL {
        self.head.as_ptr()
    }

    /// The bytes the chain describes.
    pub fn byte_count(&self) -> u64 {
        let mut total = 0u64;
        let mut m = self.head.as_ptr();
        while !m.is_null() {
            // SAFETY: the chain's MDLs are live and borrowed by it.
            unsafe {
                total += u64::from(ndis_sys::MmGetMdlByteCount(m));
                m = *ndis_sys::NDIS_MDL_LINKAGE(m);
            }
        }
        total
    }
}

impl Drop for MdlChain<'_> {
    fn drop(&mut self) {
        let mut m = self.head.as_ptr();
        let tail = self.tail.as_ptr();
        while m != tail && !m.is_null() {
            // SAFETY: the MDLs from head to tail are live and borrowed by
            // the chain, linked by it; NBLs over the chain borrowed it and
            // are gone.
            unsafe {
                let next = *ndis_sys::NDIS_MDL_LINKAGE(m);
                *ndis_sys::NDIS_MDL_LINKAGE(m) = core::ptr::null_mut();
                m = next;
            }
        }
    }
}
