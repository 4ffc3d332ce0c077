//! NET_BUFFER_LIST and NET_BUFFER pools, typed by their context area and by
//! what they preallocate.
#![allow(unsafe_code, reason = "pool allocation is raw-pointer work")]

use core::ffi::c_void;
use core::marker::PhantomData;
use core::num::NonZeroU32;
use core::ptr::NonNull;
use core::sync::atomic::AtomicUsize;

use ndis_sys::{
    NDIS_HANDLE, NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_DEFAULT, NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
    NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1, NET_BUFFER_LIST_POOL_PARAMETERS,
    NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NET_BUFFER_POOL_PARAMETERS, NET_BUFFER_POOL_PARAMETERS_REVISION_1,
};

use crate::context::{ContextArea, NoContext};
use crate::error::{Error, Result};

/// The driver's NDIS handle (from `NdisAllocateGenericObject`, or its
/// filter or protocol registration), which pools and MDLs are made for.
#[derive(Debug, Clone, Copy)]
pub struct NdisHandle(NDIS_HANDLE);

// SAFETY: an NDIS handle is usable from any thread.
unsafe impl Send for NdisHandle {}
// SAFETY: as above.
unsafe impl Sync for NdisHandle {}

impl NdisHandle {
    /// Wraps a handle.
    ///
    /// # Safety
    ///
    /// `raw` is a handle NDIS gave the driver, valid while anything made
    /// with it lives. (The host simulator accepts any value.)
    #[inline(always)]
    pub const unsafe fn from_raw(raw: NDIS_HANDLE) -> NdisHandle {
        NdisHandle(raw)
    }

    /// The raw handle.
    #[inline(always)]
    pub const fn as_raw(&self) -> NDIS_HANDLE {
        self.0
    }
}

/// A pool tag: four characters, written as the kit writes `'tseT'` for "Test".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag(pub [u8; 4]);

impl Tag {
    /// The `ULONG` NDIS takes.
    #[inline(always)]
    pub const fn raw(self) -> u32 {
        u32::from_le_bytes(self.0)
    }
}

/// What a pool's NBLs come with (a type-level choice, so that the
/// allocators a pool cannot serve do not exist for it).
///
/// Each DDI allocates only from the pool kind its documentation gives it:
///
/// | DDI | pool |
/// |---|---|
/// | `NdisAllocateNetBufferList` | any NBL pool (`allocate`, `allocate_empty`) |
/// | `NdisAllocateNetBufferAndNetBufferList` | [`WithNetBuffer`] over the caller's chain; [`WithData`] over the pool's data (a NULL chain) |
/// | `FwpsAllocateNetBufferAndNetBufferList0` | [`WithNetBuffer`] only: the DDI initializes the pool's preallocated NET_BUFFER with the caller's chain (or none) |
/// | `NdisAllocateCloneNetBufferList`, `FwpsAllocateCloneNetBufferList0` | [`NoNetBuffer`] (or the DDI's own, NULL): a clone's NET_BUFFERs are clones of the original's, never a preallocated one; their NB pool is always the DDI's own |
/// | `NdisAllocateNetBuffer` | an [`NbPool`] without data |
/// | `NdisAllocateNetBufferMdlAndData` | an [`NbPool`] with data |
pub mod prealloc {
    mod sealed {
        pub trait Sealed {}
    }
    /// A preallocation choice.
    pub trait Prealloc: sealed::Sealed + Send + Sync + 'static {
        /// `fAllocateNetBuffer`.
        #[doc(hidden)]
        const NET_BUFFER: bool;
    }
    /// No NET_BUFFER with each NBL (`fAllocateNetBuffer` FALSE).
    #[derive(Debug)]
    pub enum NoNetBuffer {}
    /// One NET_BUFFER with each NBL (`fAllocateNetBuffer` TRUE).
    #[derive(Debug)]
    pub enum WithNetBuffer {}
    /// One NET_BUFFER, an MDL and `DataSize` bytes of data with each NBL.
    #[derive(Debug)]
    pub enum WithData {}
    impl sealed::Sealed for NoNetBuffer {}
    impl sealed::Sealed for WithNetBuffer {}
    impl sealed::Sealed for WithData {}
    impl Prealloc for NoNetBuffer {
        const NET_BUFFER: bool = false;
    }
    impl Prealloc for WithNetBuffer {
        const NET_BUFFER: bool = true;
    }
    impl Prealloc for WithData {
        const NET_BUFFER: bool = true;
    }
}
use prealloc::{NoNetBuffer, Prealloc, WithData, WithNetBuffer};

/// How to make an [`NblPool`]: named options; the combinations NDIS rejects
/// (a `DataSize` without `fAllocateNetBuffer`) cannot be written.
#[derive(Debug, Clone, Copy)]
///
/// ```
/// use core::num::NonZeroU32;
/// use ndis_safe::{NblPool, NblPoolOptions, NoContext, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let options = NblPoolOptions::new(Tag(*b"Send")).with_data(NonZeroU32::new(1514).unwrap());
/// let pool: NblPool<NoContext, _> = NblPool::new(&owner, options)?;
/// let frame = pool.allocate(NoContext)?;
/// assert_eq!(frame.first().map(|nb| nb.data_length()), Some(1514));
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NblPoolOptions<P: Prealloc = NoNetBuffer> {
    tag: Tag,
    protocol_id: u8,
    data_size: u32,
    _p: PhantomData<P>,
}

impl NblPoolOptions<NoNetBuffer> {
    /// A pool tagged `tag`, for a miniport, filter or callout
    /// (`NDIS_PROTOCOL_ID_DEFAULT`), with no NET_BUFFER preallocated.
    #[inline]
    pub const fn new(tag: Tag) -> Self {
        NblPoolOptions { tag, protocol_id: ndis_sys::NDIS_PROTOCOL_ID_DEFAULT, data_size: 0, _p: PhantomData }
    }

    /// Preallocate a NET_BUFFER with each NBL.
    #[inline]
    pub const fn with_net_buffer(self) -> NblPoolOptions<WithNetBuffer> {
        NblPoolOptions { tag: self.tag, protocol_id: self.protocol_id, data_size: 0, _p: PhantomData }
    }

    /// Preallocate a NET_BUFFER, an MDL and `size` bytes of data with each NBL.
    #[inline]
    pub const fn with_data(self, size: NonZeroU32) -> NblPoolOptions<WithData> {
        NblPoolOptions { tag: self.tag, protocol_id: self.protocol_id, data_size: size.get(), _p: PhantomData }
    }
}

impl<P: Prealloc> NblPoolOptions<P> {
    /// The protocol the NBLs are for (`NDIS_PROTOCOL_ID_*`; protocol
    /// drivers set theirs).
    #[inline]
    pub const fn protocol_id(mut self, id: u8) -> Self {
        self.protocol_id = id;
        self
    }
}

/// A pool of NET_BUFFER_LISTs whose context area is a `C`, and that
/// preallocates `P` with each (`NdisAllocateNetBufferListPool`), freed by
/// `NdisFreeNetBufferListPool` on drop.
///
/// # Invariants
///
/// `handle` is a live NBL pool made with `ContextSize` `C::SIZE +
/// C::BACKFILL` and `P`'s preallocation; everything allocated from it
/// borrows it, so it is freed only when nothing allocated from it lives.
///
/// ```
/// use ndis_safe::{ContextArea, NblPool, NblPoolOptions, Tag};
///
/// #[derive(ContextArea)]
/// #[repr(C)]
/// struct Flow { id: u64, packets: u64 }
///
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool<Flow> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Flow")))?;
/// let nbl = pool.allocate(Flow { id: 1, packets: 0 })?;
/// assert_eq!(nbl.context().id, 1);
/// drop(nbl); // before the pool: the NBL borrows it
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NblPool<C: ContextArea = NoContext, P: Prealloc = NoNetBuffer> {
    handle: NonNull<c_void>,
    data_size: u32,
    /// NBLs alive (or leaked with `mem::forget`): a pool with any is never
    /// freed, so forgetting an NBL leaks its pool instead of freeing a pool
    /// NDIS still has allocations in.
    pub(crate) outstanding: AtomicUsize,
    _c: PhantomData<fn(C) -> C>,
    _p: PhantomData<P>,
}

// SAFETY: NDIS pool DDIs are callable from any thread at IRQL <= DISPATCH.
unsafe impl<C: ContextArea, P: Prealloc> Send for NblPool<C, P> {}
// SAFETY: as above.
unsafe impl<C: ContextArea, P: Prealloc> Sync for NblPool<C, P> {}

impl<C: ContextArea, P: Prealloc> NblPool<C, P> {
    /// Makes the pool.
    pub fn new(owner: &NdisHandle, options: NblPoolOptions<P>) -> Result<Self> {
        let params = NET_BUFFER_LIST_POOL_PARAMETERS {
            Header: NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_DEFAULT,
                Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            },
            ProtocolId: options.protocol_id,
            fAllocateNetBuffer: u8::from(P::NET_BUFFER),
            // C's derive checked SIZE + BACKFILL fits a USHORT.
            ContextSize: C::SIZE + C::BACKFILL,
            PoolTag: options.tag.raw(),
            DataSize: options.data_size,
        };
        // SAFETY: the parameters are valid by construction (the context
        // size's rules were checked by C's derive).
        let handle = unsafe { ndis_sys::NdisAllocateNetBufferListPool(owner.as_raw(), &params) };
        let handle = NonNull::new(handle).ok_or(Error::NoResources)?;
        Ok(NblPool {
            handle,
            data_size: options.data_size,
            outstanding: AtomicUsize::new(0),
            _c: PhantomData,
            _p: PhantomData,
        })
    }

    /// The raw handle.
    #[inline(always)]
    pub fn as_raw(&self) -> NDIS_HANDLE {
        self.handle.as_ptr()
    }

    /// The preallocated data size (0 without data).
    #[inline(always)]
    pub fn data_size(&self) -> u32 {
        self.data_size
    }
}

impl<C: ContextArea, P: Prealloc> Drop for NblPool<C, P> {
    #[inline]
    fn drop(&mut self) {
        if *self.outstanding.get_mut() != 0 {
            return; // an NBL was forgotten: leak the pool with it
        }
        // SAFETY: nothing allocated from the pool lives (it borrows the
        // pool, and none was forgotten); the handle is freed once.
        unsafe { ndis_sys::NdisFreeNetBufferListPool(self.as_raw()) }
    }
}

/// A pool of NET_BUFFERs (`NdisAllocateNetBufferPool`): without data
/// (`D` = [`NoData`]), or with `DataSize` bytes each ([`WithNbData`]).
///
/// # Invariants
///
/// As [`NblPool`]'s.
///
/// ```
/// use core::num::NonZeroU32;
/// use ndis_safe::{NbPool, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool = NbPool::with_data(&owner, Tag(*b"Data"), NonZeroU32::new(128).unwrap())?;
/// let mut nb = pool.allocate()?;
/// nb.write(0, b"payload")?;
/// assert_eq!(nb.peek_contiguous(7), Some(&b"payload"[..]));
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NbPool<D: NbData = NoData> {
    handle: NonNull<c_void>,
    /// As [`NblPool`]'s.
    pub(crate) outstanding: AtomicUsize,
    _d: PhantomData<D>,
}

/// Whether an NB pool carries data.
pub trait NbData: prealloc_nb::Sealed + Send + Sync + 'static {}
mod prealloc_nb {
    pub trait Sealed {}
}
/// NBs over the caller's MDL chains.
#[derive(Debug)]
pub enum NoData {}
/// NBs with their own MDL and data (`NdisAllocateNetBufferMdlAndData`).
#[derive(Debug)]
pub enum WithNbData {}
impl prealloc_nb::Sealed for NoData {}
impl prealloc_nb::Sealed for WithNbData {}
impl NbData for NoData {}
impl NbData for WithNbData {}

// SAFETY: as for NblPool.
unsafe impl<D: NbData> Send for NbPool<D> {}
// SAFETY: as for NblPool.
unsafe impl<D: NbData> Sync for NbPool<D> {}

fn nb_pool_params(tag: Tag, data_size: u32) -> NET_BUFFER_POOL_PARAMETERS {
    NET_BUFFER_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
        },
        PoolTag: tag.raw(),
        DataSize: data_size,
    }
}

fn new_nb_pool<D: NbData>(owner: &NdisHandle, tag: Tag, data_size: u32) -> Result<NbPool<D>> {
    let params = nb_pool_params(tag, data_size);
    // SAFETY: valid parameters by construction.
    let handle = unsafe { ndis_sys::NdisAllocateNetBufferPool(owner.as_raw(), &params) };
    NonNull::new(handle)
        .map(|handle| NbPool { handle, outstanding: AtomicUsize::new(0), _d: PhantomData })
        .ok_or(Error::NoResources)
}

impl NbPool<NoData> {
    /// A pool of NBs over the caller's MDL chains.
    pub fn new(owner: &NdisHandle, tag: Tag) -> Result<Self> {
        new_nb_pool(owner, tag, 0)
    }
}

impl NbPool<WithNbData> {
    /// A pool of NBs with `size` bytes of data each.
    pub fn with_data(owner: &NdisHandle, tag: Tag, size: NonZeroU32) -> Result<Self> {
        new_nb_pool(owner, tag, size.get())
    }
}

impl<D: NbData> NbPool<D> {
    /// The raw handle.
    #[inline(always)]
    pub fn as_raw(&self) -> NDIS_HANDLE {
        self.handle.as_ptr()
    }
}

impl<D: NbData> Drop for NbPool<D> {
    #[inline]
    fn drop(&mut self) {
        if *self.outstanding.get_mut() != 0 {
            return; // an NB was forgotten: leak the pool with it
        }
        // SAFETY: nothing allocated from the pool lives; freed once.
        unsafe { ndis_sys::NdisFreeNetBufferPool(self.as_raw()) }
    }
}
