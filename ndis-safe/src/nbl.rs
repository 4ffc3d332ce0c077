//! NET_BUFFER_LISTs and NET_BUFFERs the driver owns, NBLs the stack lends
//! it, and the guards that undo retreats and pushed contexts.
#![allow(unsafe_code, reason = "NBL allocation, free and data access are raw-pointer work")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use ndis_sys::{MDL, NET_BUFFER, NET_BUFFER_LIST};

use crate::context::{ContextArea, NoContext, PushedContext};
use crate::error::{Error, Result, Status};
use crate::mdl::MdlChain;
use crate::pool::prealloc::{NoNetBuffer, WithData, WithNetBuffer};
use crate::pool::{NbData, NbPool, NblPool, NoData, Tag, WithNbData};
use crate::view::{NetBuffer, NetBufferList};

/// Which DDI frees an owned NBL.
pub(crate) trait FreeNbl {
    /// Frees it.
    ///
    /// # Safety
    ///
    /// `nbl` was allocated by the matching DDI and is freed once.
    unsafe fn free(nbl: *mut NET_BUFFER_LIST);
}

/// NBLs from `NdisAllocateNetBufferList` / `NdisAllocateNetBufferAndNetBufferList`.
#[derive(Debug)]
pub enum NdisAllocated {}
/// NBLs from `FwpsAllocateNetBufferAndNetBufferList0`.
#[cfg(feature = "wfp")]
#[derive(Debug)]
pub enum FwpsAllocated {}

impl FreeNbl for NdisAllocated {
    #[inline(always)]
    unsafe fn free(nbl: *mut NET_BUFFER_LIST) {
        // SAFETY: the caller's guarantee.
        unsafe { ndis_sys::NdisFreeNetBufferList(nbl) }
    }
}

#[cfg(feature = "wfp")]
impl FreeNbl for FwpsAllocated {
    #[inline(always)]
    unsafe fn free(nbl: *mut NET_BUFFER_LIST) {
        // SAFETY: the caller's guarantee.
        unsafe { fwps_sys::FwpsFreeNetBufferList0(nbl) }
    }
}

/// Sealed set of NBL allocators.
#[allow(private_bounds, reason = "sealed: only this crate's allocators")]
pub trait Allocator: FreeNbl + Send + Sync + 'static {}
impl Allocator for NdisAllocated {}
#[cfg(feature = "wfp")]
impl Allocator for FwpsAllocated {}

/// A NET_BUFFER_LIST the driver owns, with a context area `C`, allocated by
/// `A` (NDIS or FWPS) from a pool borrowed for `'a`, and freed on drop by
/// `A`'s free function.
///
/// # Invariants
///
/// `ptr` is a live NBL `A` allocated from a pool that outlives `'a`, owned
/// by this value alone; while `C::SIZE > 0` and no context is pushed, its
/// current context area holds an initialized `C`. `pool_count` is the
/// pool's outstanding counter, incremented for this NBL.
///
/// ```
/// use ndis_safe::{Mdl, MdlChain, NblPool, NblPoolOptions, NoContext, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool<NoContext, _> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Own ")).with_net_buffer())?;
/// let mut bytes = *b"..headers..payload";
/// let mut mdl = Mdl::new(&owner, &mut bytes)?;
/// let mut chain = MdlChain::new(&mut mdl);
/// let mut nbl = pool.allocate_over(&mut chain, 11, 7, NoContext)?; // an Nbl
/// {
///     let whole = nbl.retreat(11)?; // advanced back when dropped
///     assert_eq!(whole.first().map(|nb| nb.data_length()), Some(18));
/// }
/// let fwps = pool.fwps_allocate_empty(NoContext)?; // an FwpsNbl, freed by FwpsFreeNetBufferList0
/// assert_eq!(fwps.first().map(|nb| nb.data_length()), Some(0));
/// # drop(nbl);
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NetBufferListOwned<'a, A: Allocator, C: ContextArea = NoContext> {
    ptr: NonNull<NET_BUFFER_LIST>,
    pool_count: &'a AtomicUsize,
    _a: PhantomData<A>,
    _c: PhantomData<fn(C) -> C>,
    /// `'a` is invariant: it is the borrow of the caller's MDL chain the
    /// NBL describes (and that an injection reads later).
    _chain: PhantomData<Brand<'a>>,
}

/// An NBL from `NdisAllocateNetBufferList` (or `…AndNetBufferList`), freed
/// by `NdisFreeNetBufferList`.
pub type Nbl<'a, C = NoContext> = NetBufferListOwned<'a, NdisAllocated, C>;
/// An NBL from `FwpsAllocateNetBufferAndNetBufferList0`, freed by
/// `FwpsFreeNetBufferList0`.
#[cfg(feature = "wfp")]
pub type FwpsNbl<'a, C = NoContext> = NetBufferListOwned<'a, FwpsAllocated, C>;

// SAFETY: an owned NBL may be used and freed from any thread; C is Send.
unsafe impl<A: Allocator, C: ContextArea> Send for NetBufferListOwned<'_, A, C> {}
// SAFETY: `&self` methods only read (the view is Sync); C is Sync-free
// because `context` hands out `&C` only where C: Sync.
unsafe impl<A: Allocator, C: ContextArea + Sync> Sync for NetBufferListOwned<'_, A, C> {}

impl<'a, A: Allocator, C: ContextArea> NetBufferListOwned<'a, A, C> {
    /// Takes ownership of a fresh NBL.
    ///
    /// # Safety
    ///
    /// `ptr` was just allocated by `A` from the pool whose counter is
    /// `pool_count`, with `C::SIZE` bytes of context.
    #[inline(always)]
    unsafe fn adopt(ptr: NonNull<NET_BUFFER_LIST>, pool_count: &'a AtomicUsize, init: C) -> Self {
        // SAFETY: the caller's guarantee.
        unsafe { crate::context::write_area(ptr, init) };
        pool_count.fetch_add(1, Ordering::Relaxed);
        NetBufferListOwned { ptr, pool_count, _a: PhantomData, _c: PhantomData, _chain: PhantomData }
    }

    /// The context area.
    #[inline(always)]
    pub fn context(&self) -> &C {
        // SAFETY: the area holds an initialized C (type invariant); shared
        // access through &self.
        unsafe { crate::context::area(self.ptr) }
    }

    /// The context area, to change.
    #[inline(always)]
    pub fn context_mut(&mut self) -> &mut C {
        // SAFETY: as above, exclusively through &mut self.
        unsafe { crate::context::area_mut(self.ptr) }
    }

    /// Retreats every NET_BUFFER's data start by `delta` bytes (into unused
    /// space, or a new MDL NDIS allocates); the guard advances it back, and
    /// frees that MDL, when dropped.
    #[inline]
    pub fn retreat(&mut self, delta: u32) -> Result<Retreated<'_>> {
        // SAFETY: the NBL is ours.
        unsafe { retreat_nbl(self.ptr, delta)? };
        Ok(Retreated { ptr: self.ptr, delta, _owner: PhantomData })
    }

    /// Advances every NET_BUFFER's data start by `delta` bytes, for good.
    /// `Err(OutOfRange)` (nothing changed) when an NB has less data.
    #[inline]
    pub fn advance(&mut self, delta: u32) -> Result<()> {
        if delta > self.min_data_length() {
            return Err(Error::OutOfRange);
        }
        // SAFETY: the NBL is ours; every NB has at least `delta` bytes.
        unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(self.ptr.as_ptr(), delta, 1, None) };
        Ok(())
    }

    /// Pushes a context `P` (`NdisAllocateNetBufferListContext`) and hands
    /// it to `f`; when `f` returns (or unwinds) the library pops it
    /// (`NdisFreeNetBufferListContext`, same size). The NBL is borrowed for
    /// the whole call, so its own context area cannot be reached while the
    /// pushed block is on top, and no guard can be leaked to leave it there.
    /// Pushes nest through [`Pushed::with_context`], popped last-in first-out.
    #[inline]
    pub fn with_context<P: PushedContext, R>(
        &mut self,
        tag: Tag,
        init: P,
        f: impl for<'s> FnOnce(&mut Pushed<'s, P>) -> R,
    ) -> Result<R> {
        // SAFETY: the NBL is ours, borrowed mutably for the call; nothing
        // else is pushed on it (we hold &mut).
        unsafe { Pushed::scoped(self.ptr, tag, init, f) }
    }

    /// Copies `bytes` into the first NET_BUFFER's data, `offset` bytes in.
    pub fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<()> {
        let nb = self.first().ok_or(Error::OutOfRange)?;
        // SAFETY: the NBL is ours, so its data is (no clone can exist: a
        // clone borrows the NBL).
        unsafe { write_nb(nb.as_ptr(), offset, bytes) }
    }

    /// The NBL and its pool's counter, for injection and own filter chains.
    #[cfg(any(feature = "wfp", feature = "filter"))]
    #[inline]
    pub(crate) fn into_parts(self) -> (NonNull<NET_BUFFER_LIST>, &'a AtomicUsize) {
        let parts = (self.ptr, self.pool_count);
        core::mem::forget(self);
        parts
    }

    /// Rebuilds an owned NBL from [`NetBufferListOwned::into_parts`].
    ///
    /// # Safety
    ///
    /// The parts came from `into_parts` of an NBL of the same type, back
    /// with the driver.
    #[inline]
    pub(crate) unsafe fn from_parts(ptr: NonNull<NET_BUFFER_LIST>, pool_count: &'a AtomicUsize) -> Self {
        NetBufferListOwned { ptr, pool_count, _a: PhantomData, _c: PhantomData, _chain: PhantomData }
    }

    /// Gives up ownership without freeing: the NBL is the caller's to free
    /// with `A`'s function (or to inject). The pool stays counted as in use.
    #[inline]
    pub fn into_raw(self) -> NonNull<NET_BUFFER_LIST> {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }
}

impl<A: Allocator, C: ContextArea> Deref for NetBufferListOwned<'_, A, C> {
    type Target = NetBufferList;

    #[inline(always)]
    fn deref(&self) -> &NetBufferList {
        // SAFETY: the NBL is live; its chains change only through &mut self.
        unsafe { NetBufferList::from_raw(self.ptr) }
    }
}

impl<A: Allocator, C: ContextArea> Drop for NetBufferListOwned<'_, A, C> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the NBL is live.
        if unsafe { *ndis_sys::NET_BUFFER_LIST_CHILD_REF_COUNT(self.ptr.as_ptr()) } != 0 {
            return; // a clone was forgotten: leak the NBL (and its pool) with it
        }
        // SAFETY: the NBL is ours, has no clones and no pushed contexts
        // (they borrow it), and is freed once by its allocator's function.
        unsafe { A::free(self.ptr.as_ptr()) };
        self.pool_count.fetch_sub(1, Ordering::Relaxed);
    }
}

// ---- allocation ----

/// Checks a data range against a chain; the lengths as ULONGs.
fn check_range(chain: &MdlChain<'_>, offset: u32, len: u32) -> Result<()> {
    if u64::from(offset) + u64::from(len) > chain.byte_count() { Err(Error::OutOfRange) } else { Ok(()) }
}

/// `FwpsAllocateNetBufferAndNetBufferList0` with the given chain (or NULL).
#[cfg(feature = "wfp")]
fn fwps_allocate<'a, C: ContextArea>(
    handle: ndis_sys::NDIS_HANDLE,
    count: &'a AtomicUsize,
    chain: *mut MDL,
    offset: u32,
    len: u32,
    init: C,
) -> Result<FwpsNbl<'a, C>> {
    let mut out = core::ptr::null_mut();
    // SAFETY: a live pool; the chain (if any) is borrowed for 'a and the
    // range was checked; `out` is writable.
    let status = unsafe {
        fwps_sys::FwpsAllocateNetBufferAndNetBufferList0(
            handle,
            C::SIZE,
            C::BACKFILL,
            chain,
            offset,
            len as ndis_sys::SIZE_T,
            &mut out,
        )
    };
    Status::result(status)?;
    let ptr = NonNull::new(out).ok_or(Error::NoResources)?;
    // SAFETY: FWPS just allocated it from this pool with C's context size.
    Ok(unsafe { FwpsNbl::adopt(ptr, count, init) })
}

#[cfg(feature = "wfp")]
impl<C: ContextArea> NblPool<C, WithNetBuffer> {
    /// `FwpsAllocateNetBufferAndNetBufferList0`: an NBL whose preallocated
    /// NB describes `chain`, data `offset` bytes in for `len` bytes, freed
    /// by `FwpsFreeNetBufferList0`. Only from a pool that preallocates
    /// NET_BUFFERs without data (the DDI initializes "the preallocated
    /// NET_BUFFER" with the chain).
    #[inline]
    pub fn fwps_allocate_over<'a>(
        &'a self,
        chain: &'a mut MdlChain<'_>,
        offset: u32,
        len: u32,
        init: C,
    ) -> Result<FwpsNbl<'a, C>> {
        check_range(chain, offset, len)?;
        fwps_allocate(self.as_raw(), &self.outstanding, chain.head(), offset, len, init)
    }

    /// `FwpsAllocateNetBufferAndNetBufferList0` with no MDL chain (offset
    /// and length 0, as the DDI requires), from a pool that preallocates
    /// NET_BUFFERs without data.
    #[inline]
    pub fn fwps_allocate_empty(&self, init: C) -> Result<FwpsNbl<'_, C>> {
        fwps_allocate(self.as_raw(), &self.outstanding, core::ptr::null_mut(), 0, 0, init)
    }
}

/// `NdisAllocateNetBufferList` from any pool.
#[inline(always)]
fn ndis_allocate<'a, C: ContextArea>(
    handle: ndis_sys::NDIS_HANDLE,
    count: &'a AtomicUsize,
    init: C,
) -> Result<Nbl<'a, C>> {
    // SAFETY: a live pool; C's sizes were checked by its derive.
    let ptr = unsafe { ndis_sys::NdisAllocateNetBufferList(handle, C::SIZE, C::BACKFILL) };
    let ptr = NonNull::new(ptr).ok_or(Error::NoResources)?;
    // SAFETY: NDIS just allocated it from this pool with C's context size.
    Ok(unsafe { Nbl::adopt(ptr, count, init) })
}

/// `NdisAllocateNetBufferAndNetBufferList`.
#[inline(always)]
fn ndis_allocate_with_nb<'a, C: ContextArea>(
    handle: ndis_sys::NDIS_HANDLE,
    count: &'a AtomicUsize,
    chain: *mut MDL,
    offset: u32,
    len: u32,
    init: C,
) -> Result<Nbl<'a, C>> {
    // SAFETY: a pool with fAllocateNetBuffer (the caller's type); the chain
    // and range were checked by the caller.
    let ptr = unsafe {
        ndis_sys::NdisAllocateNetBufferAndNetBufferList(
            handle,
            C::SIZE,
            C::BACKFILL,
            chain,
            offset,
            len as ndis_sys::SIZE_T,
        )
    };
    let ptr = NonNull::new(ptr).ok_or(Error::NoResources)?;
    // SAFETY: NDIS just allocated it from this pool with C's context size.
    Ok(unsafe { Nbl::adopt(ptr, count, init) })
}

impl<C: ContextArea> NblPool<C, NoNetBuffer> {
    /// `NdisAllocateNetBufferList`: an NBL with no NET_BUFFER.
    #[inline]
    pub fn allocate(&self, init: C) -> Result<Nbl<'_, C>> {
        ndis_allocate(self.as_raw(), &self.outstanding, init)
    }
}

impl<C: ContextArea> NblPool<C, WithNetBuffer> {
    /// `NdisAllocateNetBufferAndNetBufferList`: an NBL whose NET_BUFFER
    /// describes `chain`, data `offset` bytes in for `len` bytes.
    #[inline]
    pub fn allocate_over<'a>(
        &'a self,
        chain: &'a mut MdlChain<'_>,
        offset: u32,
        len: u32,
        init: C,
    ) -> Result<Nbl<'a, C>> {
        check_range(chain, offset, len)?;
        ndis_allocate_with_nb(self.as_raw(), &self.outstanding, chain.head(), offset, len, init)
    }

    /// `NdisAllocateNetBufferList`: an NBL whose NET_BUFFER has no MDL chain
    /// (offset and length 0).
    #[inline]
    pub fn allocate_empty(&self, init: C) -> Result<Nbl<'_, C>> {
        ndis_allocate(self.as_raw(), &self.outstanding, init)
    }
}

impl<C: ContextArea> NblPool<C, WithData> {
    /// `NdisAllocateNetBufferList`: an NBL whose NET_BUFFER holds the pool's
    /// data, all of it used.
    #[inline]
    pub fn allocate(&self, init: C) -> Result<Nbl<'_, C>> {
        ndis_allocate(self.as_raw(), &self.outstanding, init)
    }

    /// `NdisAllocateNetBufferAndNetBufferList` over the pool's data, with
    /// `offset` bytes unused before `len` bytes of data.
    #[inline]
    pub fn allocate_range(&self, offset: u32, len: u32, init: C) -> Result<Nbl<'_, C>> {
        if u64::from(offset) + u64::from(len) > u64::from(self.data_size()) {
            return Err(Error::OutOfRange);
        }
        ndis_allocate_with_nb(self.as_raw(), &self.outstanding, core::ptr::null_mut(), offset, len, init)
    }
}

// ---- owned NET_BUFFERs ----

/// A NET_BUFFER from an [`NbPool`], freed by `NdisFreeNetBuffer` on drop.
///
/// # Invariants
///
/// `ptr` is a live NB from a pool (and over an MDL chain) that outlive
/// `'a`, owned by this value alone.
///
/// ```
/// use ndis_safe::{Mdl, MdlChain, NbPool, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool = NbPool::new(&owner, Tag(*b"NBuf"))?;
/// let mut bytes = *b"0123456789";
/// let mut mdl = Mdl::new(&owner, &mut bytes)?;
/// let mut chain = MdlChain::new(&mut mdl);
/// let nb = pool.allocate_over(&mut chain, 2, 5)?;
/// assert_eq!(nb.peek_contiguous(5), Some(&b"23456"[..]));
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NetBufferOwned<'a> {
    ptr: NonNull<NET_BUFFER>,
    pool_count: &'a AtomicUsize,
    /// `'a` is invariant: it is the borrow of the caller's MDL chain.
    _chain: PhantomData<Brand<'a>>,
}

// SAFETY: an owned NB may be used and freed from any thread.
unsafe impl Send for NetBufferOwned<'_> {}
// SAFETY: &self methods only read.
unsafe impl Sync for NetBufferOwned<'_> {}

impl<'a> NetBufferOwned<'a> {
    fn adopt(ptr: *mut NET_BUFFER, pool_count: &'a AtomicUsize) -> Result<Self> {
        let ptr = NonNull::new(ptr).ok_or(Error::NoResources)?;
        pool_count.fetch_add(1, Ordering::Relaxed);
        Ok(NetBufferOwned { ptr, pool_count, _chain: PhantomData })
    }

    /// Copies `bytes` into the data, `offset` bytes in.
    pub fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<()> {
        // SAFETY: the NB and its data are ours.
        unsafe { write_nb(self.ptr.as_ptr(), offset, bytes) }
    }
}

impl Deref for NetBufferOwned<'_> {
    type Target = NetBuffer;

    #[inline(always)]
    fn deref(&self) -> &NetBuffer {
        // SAFETY: the NB is live; it changes only through &mut self.
        unsafe { self.ptr.cast::<NetBuffer>().as_ref() }
    }
}

impl Drop for NetBufferOwned<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: ours, from an NB pool, freed once.
        unsafe { ndis_sys::NdisFreeNetBuffer(self.ptr.as_ptr()) };
        self.pool_count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl NbPool<NoData> {
    /// `NdisAllocateNetBuffer` over `chain`, data `offset` bytes in for
    /// `len` bytes.
    #[inline]
    pub fn allocate_over<'a>(
        &'a self,
        chain: &'a mut MdlChain<'_>,
        offset: u32,
        len: u32,
    ) -> Result<NetBufferOwned<'a>> {
        check_range(chain, offset, len)?;
        // SAFETY: a pool without data; the chain is borrowed for 'a and the
        // range checked.
        let nb =
            unsafe { ndis_sys::NdisAllocateNetBuffer(self.as_raw(), chain.head(), offset, len as ndis_sys::SIZE_T) };
        NetBufferOwned::adopt(nb, &self.outstanding)
    }

    /// `NdisAllocateNetBuffer` with no MDL chain (offset and length 0).
    #[inline]
    pub fn allocate_empty(&self) -> Result<NetBufferOwned<'_>> {
        // SAFETY: a pool without data; a NULL chain with 0 and 0.
        let nb = unsafe { ndis_sys::NdisAllocateNetBuffer(self.as_raw(), core::ptr::null_mut(), 0, 0) };
        NetBufferOwned::adopt(nb, &self.outstanding)
    }
}

impl NbPool<WithNbData> {
    /// `NdisAllocateNetBufferMdlAndData`: an NB with its own MDL and data.
    #[inline]
    pub fn allocate(&self) -> Result<NetBufferOwned<'_>> {
        // SAFETY: a pool with data.
        let nb = unsafe { ndis_sys::NdisAllocateNetBufferMdlAndData(self.as_raw()) };
        NetBufferOwned::adopt(nb, &self.outstanding)
    }
}

#[allow(dead_code, reason = "names the NbData bound for the docs")]
fn _nb_data_bound<D: NbData>() {}

// ---- borrowed NBLs ----

/// An NBL the stack lends the driver for the duration of a call (a
/// classify callout's layer data, a filter's send or receive path). The
/// driver may read it, retreat it and clone it inside scopes the library
/// ends ([`BorrowedNbl::with_retreat`], [`BorrowedNbl::with_clone`]: the
/// NBL is advanced back and the clone freed by the library, so no leaked
/// guard can hand it back to the stack changed or with a live clone), or
/// reference it to keep a clone past the call
/// ([`BorrowedNbl::reference_and_clone`]); it does not free it.
///
/// # Invariants
///
/// `ptr` is a live NBL the stack lends for `'a`, during which only this
/// value (and clones made from it) touch it.
///
/// ```
/// use ndis_safe::{BorrowedNbl, clone::Fwps, NoContext};
/// # let _sim = ndis_sim::Session::new();
/// // What the stack indicates: 20 bytes of IP header already advanced past.
/// let indicated = ndis_sim::StackNbl::indicate(&[0x45; 48], 20);
/// // SAFETY: the simulated stack lends it until `complete`.
/// let mut nbl = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
/// let whole = nbl.with_clone::<Fwps, NoContext, _>(20, None, NoContext, |clone| {
///     clone.first().map(|nb| nb.data_length())
/// })?; // the clone is freed here, by the library
/// assert_eq!(whole, Some(48));
/// assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(28)); // as it came
/// indicated.complete();
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct BorrowedNbl<'a> {
    ptr: NonNull<NET_BUFFER_LIST>,
    _lent: PhantomData<&'a mut NET_BUFFER_LIST>,
}

impl<'a> BorrowedNbl<'a> {
    /// Wraps an NBL the stack lends.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or an NBL the stack lends the driver for `'a` (the
    /// callback's duration), and nothing else uses it meanwhile.
    #[inline(always)]
    pub unsafe fn from_raw(ptr: *mut NET_BUFFER_LIST) -> Option<BorrowedNbl<'a>> {
        NonNull::new(ptr).map(|ptr| BorrowedNbl { ptr, _lent: PhantomData })
    }

    /// Retreats every NET_BUFFER's data start by `delta` bytes into the
    /// unused space before it (over headers the stack has advanced past),
    /// hands the retreated NBL to `f`, and advances it back when `f`
    /// returns (or unwinds): the library, not a guard the caller could
    /// leak, restores it, so the NBL always goes back to the stack as it
    /// came. `Err(OutOfRange)` (nothing done) when an NB has less unused
    /// space: a lent NBL is not given new MDLs.
    ///
    /// ```
    /// use ndis_safe::BorrowedNbl;
    /// # let _sim = ndis_sim::Session::new();
    /// let indicated = ndis_sim::StackNbl::indicate(&[0x45; 48], 20);
    /// // SAFETY: the simulated stack lends it until `complete`.
    /// let mut nbl = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
    /// let whole = nbl.with_retreat(20, |ip| ip.first().map(|nb| nb.data_length()))?;
    /// assert_eq!(whole, Some(48));
    /// assert_eq!(nbl.first().map(|nb| nb.data_offset()), Some(20)); // as it came
    /// indicated.complete();
    /// # Ok::<(), ndis_safe::Error>(())
    /// ```
    #[inline]
    pub fn with_retreat<R>(&mut self, delta: u32, f: impl FnOnce(&NetBufferList) -> R) -> Result<R> {
        if self.net_buffers().any(|nb| nb.data_offset() < delta) {
            return Err(Error::OutOfRange);
        }
        // SAFETY: lent to us; the unused space suffices, so NDIS allocates
        // no MDL and the advance back frees none.
        unsafe { retreat_nbl(self.ptr, delta)? };
        let back = AdvanceBack { ptr: self.ptr, delta };
        // SAFETY: lent to us and borrowed mutably for the call: only `f`
        // sees it, through a shared view.
        let r = f(unsafe { NetBufferList::from_raw(self.ptr) });
        drop(back);
        Ok(r)
    }

    /// The NBL as lent, for clones: they may live as long as the loan.
    #[inline(always)]
    pub(crate) fn lent(&self) -> (NonNull<NET_BUFFER_LIST>, PhantomData<&'a ()>) {
        (self.ptr, PhantomData)
    }
}

impl Deref for BorrowedNbl<'_> {
    type Target = NetBufferList;

    #[inline(always)]
    fn deref(&self) -> &NetBufferList {
        // SAFETY: the NBL is lent to us; it changes only through &mut self.
        unsafe { NetBufferList::from_raw(self.ptr) }
    }
}

// ---- guards ----

/// `NdisRetreatNetBufferListDataStart` with no handlers.
///
/// # Safety
///
/// `nbl` is live and its owner's to change.
#[inline(always)]
pub(crate) unsafe fn retreat_nbl(nbl: NonNull<NET_BUFFER_LIST>, delta: u32) -> Result<()> {
    // SAFETY: the caller's guarantee.
    Status::result(unsafe { ndis_sys::NdisRetreatNetBufferListDataStart(nbl.as_ptr(), delta, 0, None, None) })
        .map_err(Error::from)
}

/// Advances a lent NBL back by what the library retreated it, when a
/// scope the library controls ends (by return or unwind). Private: no
/// caller holds it, so none can leak it.
struct AdvanceBack {
    ptr: NonNull<NET_BUFFER_LIST>,
    delta: u32,
}

impl Drop for AdvanceBack {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: retreated by `delta` into unused space; every NB has at
        // least `delta` bytes of data; no MDL to free.
        unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(self.ptr.as_ptr(), self.delta, 0, None) }
    }
}

/// A retreat of an NBL the driver owns, advanced back (freeing any MDL it
/// added) when dropped. Leaking it leaves the owned NBL retreated — the
/// driver's own NBL, which may stay so and be freed so: NDIS keeps the MDLs
/// a retreat allocates with the NET_BUFFER (at worst such an MDL leaks;
/// the simulator frees it with the NBL). See the crate docs' leak table.
///
/// # Invariants
///
/// `ptr` is live, retreated by `delta`, and mutably borrowed for `'g`.
///
/// ```
/// use core::num::NonZeroU32;
/// use ndis_safe::{NblPool, NblPoolOptions, NoContext, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool<NoContext, _> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Retr")).with_data(NonZeroU32::new(32).unwrap()))?;
/// let mut nbl = pool.allocate_range(16, 16, NoContext)?;
/// {
///     let r = nbl.retreat(8)?;
///     assert_eq!(r.first().map(|nb| nb.data_offset()), Some(8));
/// }
/// assert_eq!(nbl.first().map(|nb| nb.data_offset()), Some(16));
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct Retreated<'g> {
    ptr: NonNull<NET_BUFFER_LIST>,
    delta: u32,
    _owner: PhantomData<&'g mut NET_BUFFER_LIST>,
}

impl Retreated<'_> {
    /// How far it retreated.
    #[inline(always)]
    pub fn delta(&self) -> u32 {
        self.delta
    }

    /// The retreated NBL, for clones made while it is retreated: see
    /// [`crate::clone`].
    #[inline(always)]
    pub(crate) fn raw(&self) -> NonNull<NET_BUFFER_LIST> {
        self.ptr
    }
}

impl Deref for Retreated<'_> {
    type Target = NetBufferList;

    #[inline(always)]
    fn deref(&self) -> &NetBufferList {
        // SAFETY: live; it changes only when this guard drops.
        unsafe { NetBufferList::from_raw(self.ptr) }
    }
}

impl Drop for Retreated<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the NBL is live and retreated by `delta`, so every NB has
        // at least that much data; MDLs the retreat added are freed.
        unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(self.ptr.as_ptr(), self.delta, 1, None) }
    }
}

/// A context pushed with `NdisAllocateNetBufferListContext`, seen inside
/// the [`with_context`](NetBufferListOwned::with_context) call that pushed
/// it, and popped with `NdisFreeNetBufferListContext` (same size) by that
/// call when its closure returns or unwinds.
///
/// `'s` is an invariant brand unique to the call, so two pushed contexts
/// (on two NBLs, or nested) cannot be swapped, and neither can leave its
/// closure.
///
/// # Invariants
///
/// `ptr` is live and mutably borrowed by the `with_context` call that made
/// this value; while that call's closure runs, its current context is the
/// `P` it pushed and initialized (nested pushes borrow this value and are
/// popped before their call returns).
///
/// ```
/// use ndis_safe::{NblPool, NblPoolOptions, NoContext, PushedContext, Tag};
///
/// #[derive(PushedContext)]
/// #[repr(C)]
/// struct Hop(u64);
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Push")))?;
/// let mut nbl = pool.allocate(NoContext)?;
/// let inner = nbl.with_context(Tag(*b"Hop "), Hop(1), |hop| {
///     hop.0 += 1;
///     hop.with_context(Tag(*b"Hop "), Hop(9), |inner| inner.0) // popped first
/// })??;
/// assert_eq!(inner, 9);
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct Pushed<'s, P: PushedContext> {
    ptr: NonNull<NET_BUFFER_LIST>,
    _brand: PhantomData<Brand<'s>>,
    _p: PhantomData<P>,
}

/// An invariant lifetime brand.
type Brand<'s> = fn(&'s ()) -> &'s ();

/// Pops a pushed context when the scope the library controls ends (by
/// return or unwind). Private: no caller holds it, so none can leak it.
struct PopContext {
    ptr: NonNull<NET_BUFFER_LIST>,
    size: u16,
}

impl Drop for PopContext {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the context pushed with `size` is the current one: later
        // pushes were popped by their own (inner) scopes.
        unsafe { ndis_sys::NdisFreeNetBufferListContext(self.ptr.as_ptr(), self.size) }
    }
}

impl<P: PushedContext> Pushed<'_, P> {
    /// Pushes `init`, runs `f` on it, pops it.
    ///
    /// # Safety
    ///
    /// `ptr` is live, its owner's, and borrowed mutably for the call.
    #[inline(always)]
    unsafe fn scoped<R>(
        ptr: NonNull<NET_BUFFER_LIST>,
        tag: Tag,
        init: P,
        f: impl for<'s> FnOnce(&mut Pushed<'s, P>) -> R,
    ) -> Result<R> {
        // SAFETY: the caller's guarantee; P's size rule was checked by its derive.
        let status = unsafe { ndis_sys::NdisAllocateNetBufferListContext(ptr.as_ptr(), P::SIZE, 0, tag.raw()) };
        Status::result(status)?;
        // SAFETY: the new context area holds P::SIZE bytes, pointer aligned
        // (P's alignment is at most the pointer's).
        unsafe { ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(ptr.as_ptr()).cast::<P>().write(init) };
        let pop = PopContext { ptr, size: P::SIZE };
        let r = f(&mut Pushed { ptr, _brand: PhantomData, _p: PhantomData });
        drop(pop);
        Ok(r)
    }

    /// Pushes another context on top of this one, for the duration of `f`
    /// (popped before this one).
    #[inline]
    pub fn with_context<Q: PushedContext, R>(
        &mut self,
        tag: Tag,
        init: Q,
        f: impl for<'t> FnOnce(&mut Pushed<'t, Q>) -> R,
    ) -> Result<R> {
        // SAFETY: borrowed mutably through this value, which its own call
        // keeps on top until `f` returns.
        unsafe { Pushed::scoped(self.ptr, tag, init, f) }
    }
}

impl<P: PushedContext> Deref for Pushed<'_, P> {
    type Target = P;

    #[inline(always)]
    fn deref(&self) -> &P {
        // SAFETY: the current context is our initialized P (type invariant).
        unsafe { &*ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(self.ptr.as_ptr()).cast::<P>() }
    }
}

impl<P: PushedContext> DerefMut for Pushed<'_, P> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut P {
        // SAFETY: as above, exclusively.
        unsafe { &mut *ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(self.ptr.as_ptr()).cast::<P>() }
    }
}

// ---- data ----

/// Copies `bytes` into an NB's data at `offset`, through the MDLs' system
/// addresses.
///
/// # Safety
///
/// `nb` is live and its data is the caller's to write.
unsafe fn write_nb(nb: *mut NET_BUFFER, offset: u32, bytes: &[u8]) -> Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| Error::OutOfRange)?;
    // SAFETY: the caller's guarantee; reads of the NB's fields.
    let (mut mdl, mut off, data_len) = unsafe {
        (
            *ndis_sys::NET_BUFFER_CURRENT_MDL(nb),
            *ndis_sys::NET_BUFFER_CURRENT_MDL_OFFSET(nb),
            *ndis_sys::NET_BUFFER_DATA_LENGTH(nb),
        )
    };
    if u64::from(offset) + u64::from(len) > u64::from(data_len) {
        return Err(Error::OutOfRange);
    }
    // Skip to `offset`.
    let mut skip = offset;
    let mut done = 0usize;
    while !mdl.is_null() && done < bytes.len() {
        // SAFETY: the MDL is on the NB's chain.
        let (count, flags, va, next) = unsafe {
            (
                ndis_sys::MmGetMdlByteCount(mdl),
                *ndis_sys::MDL_FLAGS(mdl),
                (*mdl).MappedSystemVa,
                *ndis_sys::NDIS_MDL_LINKAGE(mdl),
            )
        };
        if flags & (ndis_sys::MDL_MAPPED_TO_SYSTEM_VA | ndis_sys::MDL_SOURCE_IS_NONPAGED_POOL) == 0 {
            return Err(Error::InvalidArgument); // not mapped: no address to write through
        }
        let avail = count.saturating_sub(off);
        if skip >= avail {
            skip -= avail;
        } else {
            let start = off + skip;
            let n = ((count - start) as usize).min(bytes.len() - done);
            if let Some(src) = bytes.get(done..done + n) {
                // SAFETY: `n` bytes at `start` are inside the MDL's mapped
                // buffer, which is ours to write.
                unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), va.cast::<u8>().add(start as usize), n) };
            }
            done += n;
            skip = 0;
        }
        mdl = next;
        off = 0;
    }
    Ok(())
}
