//! Shared views of the C records: [`NetBufferList`], [`NetBuffer`] and
//! [`MdlView`], `#[repr(transparent)]` over `UnsafeCell<C record>`, handed
//! out only as shared references (never `&mut`, so no safe code can move
//! or swap the records NDIS owns). They read; owners write.
#![allow(unsafe_code, reason = "the views are the crate's raw-pointer layer")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::{MDL, NET_BUFFER, NET_BUFFER_LIST};

/// A NET_BUFFER_LIST, seen through a shared reference.
///
/// # Invariants
///
/// A `&NetBufferList` points to a live NET_BUFFER_LIST whose NB and MDL
/// chains are live and are not changed while the reference lives, except by
/// NDIS through its own synchronization (`ChildRefCount`, `Status`), which
/// the `UnsafeCell` permits.
///
/// ```
/// use core::num::NonZeroU32;
/// use ndis_safe::{NblPool, NblPoolOptions, NoContext, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool<NoContext, _> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"View")).with_data(NonZeroU32::new(8).unwrap()))?;
/// let mut nbl = pool.allocate(NoContext)?;
/// nbl.write(0, b"abcdefgh")?;
/// let view: &ndis_safe::NetBufferList = &nbl;
/// let mut storage = [0; 4];
/// assert_eq!(view.first().and_then(|nb| nb.peek(&mut storage)), Some(&b"abcd"[..]));
/// assert_eq!(view.net_buffers().count(), 1);
/// assert!(!view.is_clone());
/// # Ok::<(), ndis_safe::Error>(())
/// ```
#[repr(transparent)]
pub struct NetBufferList(UnsafeCell<NET_BUFFER_LIST>);

// SAFETY: a `&NetBufferList` only reads; what NDIS writes concurrently it
// writes with its own synchronization.
unsafe impl Sync for NetBufferList {}

/// A NET_BUFFER, seen through a shared reference (same invariants as
/// [`NetBufferList`]).
#[repr(transparent)]
pub struct NetBuffer(UnsafeCell<NET_BUFFER>);

// SAFETY: as for NetBufferList.
unsafe impl Sync for NetBuffer {}

/// An MDL on a NET_BUFFER's chain, seen through a shared reference.
#[repr(transparent)]
pub struct MdlView(UnsafeCell<MDL>);

// SAFETY: as for NetBufferList.
unsafe impl Sync for MdlView {}

impl NetBufferList {
    /// The view of a live NBL.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live NET_BUFFER_LIST whose NB and MDL chains stay
    /// live and unchanged (but for NDIS' own synchronized fields) for `'a`.
    #[inline(always)]
    pub unsafe fn from_raw<'a>(ptr: NonNull<NET_BUFFER_LIST>) -> &'a NetBufferList {
        // SAFETY: `NetBufferList` is a transparent wrapper of the record;
        // the caller guarantees liveness for 'a.
        unsafe { ptr.cast::<NetBufferList>().as_ref() }
    }

    /// The raw pointer, for DDIs this crate does not wrap.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut NET_BUFFER_LIST {
        self.0.get()
    }

    /// The NBL's NET_BUFFERs, in order.
    #[inline]
    pub fn net_buffers(&self) -> NetBuffers<'_> {
        // SAFETY: the NBL is live (type invariant).
        let first = unsafe { *ndis_sys::NET_BUFFER_LIST_FIRST_NB(self.as_ptr()) };
        NetBuffers { next: NonNull::new(first), _nbl: PhantomData }
    }

    /// The first NET_BUFFER, if any.
    #[inline]
    pub fn first(&self) -> Option<&NetBuffer> {
        self.net_buffers().next()
    }

    /// `NET_BUFFER_LIST_STATUS`: the completion status NDIS or WFP set.
    #[inline]
    pub fn status(&self) -> i32 {
        // SAFETY: the NBL is live (type invariant); a plain read.
        unsafe { *ndis_sys::NET_BUFFER_LIST_STATUS(self.as_ptr()) }
    }

    /// Whether this NBL is a clone (`ParentNetBufferList` is set).
    #[inline]
    pub fn is_clone(&self) -> bool {
        // SAFETY: the NBL is live (type invariant).
        !unsafe { *ndis_sys::NET_BUFFER_LIST_PARENT(self.as_ptr()) }.is_null()
    }

    /// The smallest `DataLength` of its NBs (0 with none): how far every
    /// NB can be advanced.
    pub(crate) fn min_data_length(&self) -> u32 {
        self.net_buffers().map(NetBuffer::data_length).min().unwrap_or(0)
    }
}

/// The NET_BUFFERs of an NBL.
pub struct NetBuffers<'a> {
    next: Option<NonNull<NET_BUFFER>>,
    _nbl: PhantomData<&'a NetBufferList>,
}

impl<'a> Iterator for NetBuffers<'a> {
    type Item = &'a NetBuffer;

    #[inline]
    fn next(&mut self) -> Option<&'a NetBuffer> {
        let nb = self.next?;
        // SAFETY: the NB is on a live NBL's chain, unchanged for 'a.
        self.next = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_NEXT_NB(nb.as_ptr()) });
        // SAFETY: as above; NetBuffer is a transparent wrapper.
        Some(unsafe { nb.cast::<NetBuffer>().as_ref() })
    }
}

impl NetBuffer {
    /// The raw pointer, for DDIs this crate does not wrap.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut NET_BUFFER {
        self.0.get()
    }

    /// `NET_BUFFER_DATA_LENGTH`: the bytes of used data.
    #[inline]
    pub fn data_length(&self) -> u32 {
        // SAFETY: the NB is live (type invariant).
        unsafe { *ndis_sys::NET_BUFFER_DATA_LENGTH(self.as_ptr()) }
    }

    /// `NET_BUFFER_DATA_OFFSET`: the data start's offset in the MDL chain,
    /// which is also the unused space before it.
    #[inline]
    pub fn data_offset(&self) -> u32 {
        // SAFETY: the NB is live (type invariant).
        unsafe { *ndis_sys::NET_BUFFER_DATA_OFFSET(self.as_ptr()) }
    }

    /// The MDLs of the NB's chain, in order.
    #[inline]
    pub fn mdls(&self) -> Mdls<'_> {
        // SAFETY: the NB is live (type invariant).
        let first = unsafe { *ndis_sys::NET_BUFFER_FIRST_MDL(self.as_ptr()) };
        Mdls { next: NonNull::new(first), _nb: PhantomData }
    }

    /// `NdisGetDataBuffer`: the first `storage.len()` bytes of data, from
    /// the MDL itself when they are contiguous there, else copied into
    /// `storage`. `None` when the data is shorter (or `storage` is empty).
    #[inline]
    pub fn peek<'s>(&'s self, storage: &'s mut [u8]) -> Option<&'s [u8]> {
        let len = u32::try_from(storage.len()).ok()?;
        // SAFETY: the NB is live; `storage` is writable for `len` bytes.
        let p = unsafe { ndis_sys::NdisGetDataBuffer(self.as_ptr(), len, storage.as_mut_ptr().cast(), 1, 0) };
        let p = NonNull::new(p.cast::<u8>())?;
        // SAFETY: NdisGetDataBuffer returns `len` readable bytes, either in
        // the NB's MDL (unchanged while `self` is borrowed) or in `storage`.
        Some(unsafe { core::slice::from_raw_parts(p.as_ptr(), storage.len()) })
    }

    /// `NdisGetDataBuffer` without storage: the first `len` bytes when they
    /// are contiguous in the current MDL, else `None`.
    #[inline]
    pub fn peek_contiguous(&self, len: u32) -> Option<&[u8]> {
        // SAFETY: the NB is live; NULL storage asks for no copy.
        let p = unsafe { ndis_sys::NdisGetDataBuffer(self.as_ptr(), len, core::ptr::null_mut(), 1, 0) };
        let p = NonNull::new(p.cast::<u8>())?;
        // SAFETY: `len` bytes in the NB's current MDL, unchanged while
        // `self` is borrowed.
        Some(unsafe { core::slice::from_raw_parts(p.as_ptr(), len as usize) })
    }
}

/// The MDLs of a NET_BUFFER's chain.
pub struct Mdls<'a> {
    next: Option<NonNull<MDL>>,
    _nb: PhantomData<&'a NetBuffer>,
}

impl<'a> Iterator for Mdls<'a> {
    type Item = &'a MdlView;

    #[inline]
    fn next(&mut self) -> Option<&'a MdlView> {
        let mdl = self.next?;
        // SAFETY: the MDL is on a live NB's chain, unchanged for 'a.
        self.next = NonNull::new(unsafe { *ndis_sys::NDIS_MDL_LINKAGE(mdl.as_ptr()) });
        // SAFETY: as above; MdlView is a transparent wrapper.
        Some(unsafe { mdl.cast::<MdlView>().as_ref() })
    }
}

impl MdlView {
    /// The raw pointer, for DDIs this crate does not wrap.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut MDL {
        self.0.get()
    }

    /// `MmGetMdlByteCount`: the bytes the MDL describes.
    #[inline]
    pub fn byte_count(&self) -> u32 {
        // SAFETY: the MDL is live (type invariant).
        unsafe { ndis_sys::MmGetMdlByteCount(self.as_ptr()) }
    }
}
