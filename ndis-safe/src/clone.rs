//! Clones (`NdisAllocateCloneNetBufferList`, `FwpsAllocateCloneNetBufferList0`):
//! NBLs that describe their parent's data, and that must be restored before
//! they are freed.
//!
//! A clone borrows its parent, so the parent cannot be freed or completed
//! while the clone lives. Changes to a clone are made inside
//! [`NblClone::modify`], each recorded in the clone: the clone cannot be
//! freed without undoing them, because dropping it undoes every change
//! still recorded (last first) and only then frees it. Each change also
//! returns an [`Undo`] record to undo it early; records are branded with the
//! `modify` call that made them, so one clone's record cannot be applied to
//! another (see the crate docs' soundness argument).
#![allow(unsafe_code, reason = "clone allocation, change and free are raw-pointer work")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use ndis_sys::{MDL, NET_BUFFER_LIST};

use crate::context::{ContextArea, NoContext};
use crate::error::{Error, Result, Status};
use crate::mdl::Mdl;
use crate::nbl::{BorrowedNbl, NetBufferListOwned, Retreated, retreat_nbl};
use crate::pool::NblPool;
use crate::view::NetBufferList;

/// How many changes a clone records at once.
pub const MAX_CHANGES: usize = 4;

mod sealed {
    pub trait Sealed {}
}

/// Which clone DDIs: [`Ndis`] or [`Fwps`] (a sealed choice).
pub trait Flavor: sealed::Sealed + Send + Sync + 'static {
    /// Allocates a clone.
    ///
    /// # Safety
    ///
    /// `parent` is live; the pools are NULL or live pools of the right kinds.
    #[doc(hidden)]
    unsafe fn allocate(
        parent: *mut NET_BUFFER_LIST,
        nbl_pool: ndis_sys::NDIS_HANDLE,
    ) -> Result<NonNull<NET_BUFFER_LIST>>;
    /// Frees a clone.
    ///
    /// # Safety
    ///
    /// `clone` was allocated by `allocate`, is unchanged, and freed once.
    #[doc(hidden)]
    unsafe fn free(clone: *mut NET_BUFFER_LIST);
}

/// `NdisAllocateCloneNetBufferList` / `NdisFreeCloneNetBufferList`.
#[derive(Debug)]
pub enum Ndis {}
/// `FwpsAllocateCloneNetBufferList0` / `FwpsFreeCloneNetBufferList0`.
#[cfg(feature = "wfp")]
#[derive(Debug)]
pub enum Fwps {}
impl sealed::Sealed for Ndis {}
#[cfg(feature = "wfp")]
impl sealed::Sealed for Fwps {}

impl Flavor for Ndis {
    #[inline(always)]
    unsafe fn allocate(
        parent: *mut NET_BUFFER_LIST,
        nbl_pool: ndis_sys::NDIS_HANDLE,
    ) -> Result<NonNull<NET_BUFFER_LIST>> {
        // SAFETY: the caller's guarantee; NDIS's own NB pool (NULL); the
        // clone gets MDLs of its own describing the same memory.
        let p = unsafe { ndis_sys::NdisAllocateCloneNetBufferList(parent, nbl_pool, core::ptr::null_mut(), 0) };
        NonNull::new(p).ok_or(Error::NoResources)
    }

    #[inline(always)]
    unsafe fn free(clone: *mut NET_BUFFER_LIST) {
        // SAFETY: the caller's guarantee.
        unsafe { ndis_sys::NdisFreeCloneNetBufferList(clone, 0) }
    }
}

#[cfg(feature = "wfp")]
impl Flavor for Fwps {
    #[inline(always)]
    unsafe fn allocate(
        parent: *mut NET_BUFFER_LIST,
        nbl_pool: ndis_sys::NDIS_HANDLE,
    ) -> Result<NonNull<NET_BUFFER_LIST>> {
        let mut out = core::ptr::null_mut();
        // SAFETY: the caller's guarantee; `out` is writable.
        let status =
            unsafe { fwps_sys::FwpsAllocateCloneNetBufferList0(parent, nbl_pool, core::ptr::null_mut(), 0, &mut out) };
        Status::result(status)?;
        // SAFETY: on success the DDI has written the clone to `out`.
        Ok(unsafe { NonNull::new_unchecked(out) })
    }

    #[inline(always)]
    unsafe fn free(clone: *mut NET_BUFFER_LIST) {
        // SAFETY: the caller's guarantee.
        unsafe { fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0) }
    }
}

/// One recorded change. A prepend records only its MDL: it requires the
/// data to start at the head of the chain, so undoing it restores the NB
/// from the MDL's `Next` and length.
#[derive(Clone, Copy)]
enum Change {
    Retreat(u32),
    Advance(u32),
    Prepend(NonNull<MDL>),
}

/// The changes recorded on a clone, oldest first: the default [`Record`].
#[derive(Clone, Copy)]
pub struct Log {
    changes: [Option<Change>; MAX_CHANGES],
    len: usize,
}

/// A clone that is never changed: it records nothing and has nothing to
/// undo, so its free is just the free (no [`NblClone::modify`] for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unmodifiable;

mod record_sealed {
    pub trait Sealed {}
}

/// What a clone records of its changes: a [`Log`] (it can be modified, and
/// is restored before it is freed) or nothing ([`Unmodifiable`]).
pub trait Record: record_sealed::Sealed + Copy + 'static {
    /// Nothing recorded.
    #[doc(hidden)]
    fn empty() -> Self;
    /// Undoes every recorded change, last first.
    ///
    /// # Safety
    ///
    /// `ptr` is the clone this record belongs to.
    #[doc(hidden)]
    unsafe fn undo_all(&mut self, ptr: NonNull<NET_BUFFER_LIST>);
    /// As a log, for an injection's record (`None`: nothing to keep).
    #[doc(hidden)]
    fn into_log(self) -> Option<Log>;
    /// Back from an injection's record.
    #[doc(hidden)]
    fn from_log(log: Option<Log>) -> Self;
}

impl record_sealed::Sealed for Log {}
impl record_sealed::Sealed for Unmodifiable {}

impl Record for Log {
    #[inline(always)]
    fn empty() -> Self {
        Log::empty()
    }

    #[inline]
    unsafe fn undo_all(&mut self, ptr: NonNull<NET_BUFFER_LIST>) {
        while let Some(c) = pop(self) {
            // SAFETY: the change is the last one made and still in effect on
            // the clone (the caller's guarantee).
            unsafe { revert(ptr, c) };
        }
    }

    #[inline(always)]
    fn into_log(self) -> Option<Log> {
        (!self.is_empty()).then_some(self)
    }

    #[inline(always)]
    fn from_log(log: Option<Log>) -> Self {
        log.unwrap_or_else(Log::empty)
    }
}

impl Record for Unmodifiable {
    #[inline(always)]
    fn empty() -> Self {
        Unmodifiable
    }

    #[inline(always)]
    unsafe fn undo_all(&mut self, _: NonNull<NET_BUFFER_LIST>) {}

    #[inline(always)]
    fn into_log(self) -> Option<Log> {
        None
    }

    #[inline(always)]
    fn from_log(_: Option<Log>) -> Self {
        Unmodifiable
    }
}

impl Log {
    /// No changes.
    pub(crate) const fn empty() -> Log {
        Log { changes: [None; MAX_CHANGES], len: 0 }
    }

    /// Whether no change is recorded.
    pub(crate) const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A clone of a parent borrowed for `'p`, made and freed by `K`'s DDIs, with
/// a context area `C` (pushed on the clone from its pool's backfill), and
/// recording its changes in `L` ([`Log`]; [`Unmodifiable`] for a clone that
/// is never changed).
///
/// `'p` is invariant: it is both the parent's borrow and the borrow of every
/// MDL [`Changes::prepend`] puts on the clone's chain, so no subtyping can
/// shorten it to admit an MDL that dies before the clone.
///
/// # Invariants
///
/// `ptr` is a live clone `K` made of a parent that outlives `'p`, owned by
/// this value alone; `log` lists every change made to it since, in order,
/// each undoable; while `C::SIZE > 0` its current context (pushed at
/// creation) holds an initialized `C` once the changes are undone.
/// No clone of it exists (nothing safe clones a clone).
/// `pool_count` is the counter of the caller's pool it was made in, counted
/// for it at creation (`None` for the DDI's own pool, or a `'static` pool,
/// which is never freed).
///
/// ```
/// use core::num::NonZeroU32;
/// use ndis_safe::{clone::Ndis, NblPool, NblPoolOptions, NoContext, Tag};
/// # let _sim = ndis_sim::Session::new();
/// # // SAFETY: the simulator accepts any handle.
/// # let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
/// let pool: NblPool<NoContext, _> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Clon")).with_data(NonZeroU32::new(40).unwrap()))?;
/// let parent = pool.allocate(NoContext)?;
/// let mut clone = parent.clone_nbl::<Ndis>()?;
/// clone.modify(|mut changes| {
///     let header = changes.retreat(14)?; // NDIS chains an MDL for it
///     let trimmed = changes.advance(4)?;
///     changes.undo(trimmed)?;             // last first
///     let _ = header;                     // kept: undone before the free
///     Ok::<(), ndis_safe::Error>(())
/// })?;
/// assert!(clone.is_modified());
/// drop(clone); // undoes the retreat, then NdisFreeCloneNetBufferList
/// # Ok::<(), ndis_safe::Error>(())
/// ```
pub struct NblClone<'p, K: Flavor, C: ContextArea = NoContext, L: Record = Log> {
    ptr: NonNull<NET_BUFFER_LIST>,
    log: L,
    pool_count: Option<&'p AtomicUsize>,
    _p: CloneMarker<'p, K, C>,
}

/// The (invariant) parent borrow, the flavor and the (invariant) context type.
type CloneMarker<'p, K, C> = PhantomData<(fn(&'p NetBufferList) -> &'p NetBufferList, K, fn(C) -> C)>;

/// A clone by `NdisAllocateCloneNetBufferList`.
pub type NdisClone<'p, C = NoContext> = NblClone<'p, Ndis, C>;
/// A clone by `FwpsAllocateCloneNetBufferList0`.
#[cfg(feature = "wfp")]
pub type FwpsClone<'p, C = NoContext> = NblClone<'p, Fwps, C>;

// SAFETY: a clone may be used and freed from any thread; C is Send; the
// log's pointers name MDLs borrowed for 'p.
unsafe impl<K: Flavor, C: ContextArea, L: Record> Send for NblClone<'_, K, C, L> {}
// SAFETY: &self methods only read.
unsafe impl<K: Flavor, C: ContextArea + Sync, L: Record> Sync for NblClone<'_, K, C, L> {}

impl<'p, K: Flavor, C: ContextArea, L: Record> NblClone<'p, K, C, L> {
    /// Clones `parent`, from `pool` (or the DDI's own, when NULL), counting
    /// the clone on `pool_count` once it is made.
    ///
    /// # Safety
    ///
    /// `parent` is live and outlives `'p`; `pool` is NULL or a pool typed `C`
    /// that is not freed while its counter (`pool_count`, required unless
    /// the pool is NULL or `'static`) is not zero.
    #[inline]
    pub(crate) unsafe fn new_raw(
        parent: NonNull<NET_BUFFER_LIST>,
        pool: ndis_sys::NDIS_HANDLE,
        pool_count: Option<&'p AtomicUsize>,
        init: C,
    ) -> Result<Self> {
        // SAFETY: the caller's guarantee.
        let ptr = unsafe { K::allocate(parent.as_ptr(), pool)? };
        if C::SIZE > 0 {
            // SAFETY: the clone is ours; its pool preallocated C::SIZE +
            // C::BACKFILL bytes of context, all backfill on a clone.
            let status = unsafe { ndis_sys::NdisAllocateNetBufferListContext(ptr.as_ptr(), C::SIZE, 0, 0) };
            if let Err(e) = Status::result(status) {
                // SAFETY: unchanged, freed once.
                unsafe { K::free(ptr.as_ptr()) };
                return Err(e.into());
            }
        }
        // SAFETY: the clone is ours; the pushed area (if C has one) holds
        // C::SIZE aligned bytes.
        unsafe { crate::context::write_area(ptr, init) };
        // Counted now, not at the free: a clone that is never freed keeps
        // its pool from being freed.
        if let Some(count) = pool_count {
            count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(NblClone { ptr, log: L::empty(), pool_count, _p: PhantomData })
    }

    /// The context area.
    #[inline(always)]
    pub fn context(&self) -> &C {
        // SAFETY: the pushed context holds an initialized C (changes do not
        // touch contexts); shared access through &self.
        unsafe { crate::context::area(self.ptr) }
    }

    /// The context area, to change.
    #[inline(always)]
    pub fn context_mut(&mut self) -> &mut C {
        // SAFETY: as above, exclusively through &mut self.
        unsafe { crate::context::area_mut(self.ptr) }
    }

    /// The clone's parts, for injection: it is rebuilt with
    /// [`NblClone::from_parts`] when the stack gives it back. Only for a
    /// clone not counted on a pool (`'static` pools are never freed).
    #[cfg(feature = "wfp")]
    #[inline]
    pub(crate) fn into_parts(self) -> (NonNull<NET_BUFFER_LIST>, L) {
        let parts = (self.ptr, self.log);
        core::mem::forget(self);
        parts
    }

    /// Rebuilds a clone from [`NblClone::into_parts`].
    ///
    /// # Safety
    ///
    /// The parts came from `into_parts` of a clone of the same type, whose
    /// NBL is back with the driver, unchanged since.
    #[cfg(feature = "wfp")]
    #[inline]
    pub(crate) unsafe fn from_parts(ptr: NonNull<NET_BUFFER_LIST>, log: L) -> Self {
        NblClone { ptr, log, pool_count: None, _p: PhantomData }
    }

    /// Gives up ownership without freeing: the clone is the caller's to
    /// restore and free with `K`'s function (or to inject), and the parent
    /// must outlive it. A clone made in a caller's pool stays counted on it,
    /// so that pool is leaked rather than freed.
    #[inline]
    pub fn into_raw(self) -> NonNull<NET_BUFFER_LIST> {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }
}

impl<'p, K: Flavor, C: ContextArea> NblClone<'p, K, C, Log> {
    /// Whether changes are recorded (it will be restored before it is freed).
    #[inline(always)]
    pub fn is_modified(&self) -> bool {
        self.log.len != 0
    }

    /// Changes the clone inside `f`, which is given a fresh brand `'id`:
    /// every change returns an [`Undo<'id>`] that only this call's
    /// [`Changes`] accepts. Changes not undone inside stay recorded and are
    /// undone before the clone is freed.
    #[inline]
    pub fn modify<R>(&mut self, f: impl for<'id> FnOnce(Changes<'id, '_, 'p>) -> R) -> R {
        f(Changes { ptr: self.ptr, log: &mut self.log, _brand: PhantomData, _p: PhantomData })
    }

    /// Undoes every recorded change, last first.
    #[inline]
    pub fn undo_all(&mut self) {
        // SAFETY: the log is this clone's.
        unsafe { self.log.undo_all(self.ptr) };
    }
}

impl<K: Flavor, C: ContextArea, L: Record> core::ops::Deref for NblClone<'_, K, C, L> {
    type Target = NetBufferList;

    #[inline(always)]
    fn deref(&self) -> &NetBufferList {
        // SAFETY: live; it changes only through &mut self.
        unsafe { NetBufferList::from_raw(self.ptr) }
    }
}

impl<K: Flavor, C: ContextArea, L: Record> NblClone<'_, K, C, L> {
    /// Frees the clone now, as dropping it does, with the DDI calls inline
    /// in the caller (a drop may be left to out-of-line glue, which LLVM
    /// does on a path it sees as cold): for a refused injection's clone.
    #[cfg(feature = "wfp")]
    #[inline(always)]
    pub(crate) fn free_now(self) {
        let mut me = core::mem::ManuallyDrop::new(self);
        me.release();
    }

    /// What dropping does: undoes the changes, pops the context, frees the
    /// clone and uncounts it. Called once, by `drop` or `free_now`.
    #[inline(always)]
    fn release(&mut self) {
        // SAFETY: the log is this clone's.
        unsafe { self.log.undo_all(self.ptr) };
        // No `ChildRefCount` test (an owned NBL's drop has one): nothing in
        // this crate clones a clone — only owned and lent NBLs are cloned —
        // so no forgotten clone of it can be outstanding.
        if C::SIZE > 0 {
            // SAFETY: our pushed context is the last (pushes borrow us).
            unsafe { ndis_sys::NdisFreeNetBufferListContext(self.ptr.as_ptr(), C::SIZE) };
        }
        // SAFETY: restored (every change undone), ours, freed once by the
        // function that matches its allocator.
        unsafe { K::free(self.ptr.as_ptr()) };
        if let Some(count) = self.pool_count {
            count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<K: Flavor, C: ContextArea, L: Record> Drop for NblClone<'_, K, C, L> {
    #[inline]
    fn drop(&mut self) {
        self.release();
    }
}

#[inline]
fn pop(log: &mut Log) -> Option<Change> {
    let last = log.len.checked_sub(1)?;
    let c = log.changes.get_mut(last)?.take();
    log.len = last;
    c
}

/// Reverts one change.
///
/// # Safety
///
/// `ptr` is the clone; `c` is the last change made to it, still in effect.
#[inline]
unsafe fn revert(ptr: NonNull<NET_BUFFER_LIST>, c: Change) {
    match c {
        // SAFETY: retreated by `d`: every NB has `d` bytes of data to give
        // back; MDLs the retreat added are freed.
        Change::Retreat(d) => unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(ptr.as_ptr(), d, 1, None) },
        Change::Advance(d) => {
            // SAFETY: advanced by `d` without freeing MDLs: the bytes are
            // still there, so the retreat cannot need memory and cannot fail.
            let _ = unsafe { ndis_sys::NdisRetreatNetBufferListDataStart(ptr.as_ptr(), d, 0, None, None) };
        }
        Change::Prepend(mdl) => {
            // SAFETY: the first NB is as the prepend left it: `mdl` at the
            // head, the data starting at its start; before, the data started
            // at the head of `mdl`'s `Next` (the prepend required it).
            unsafe {
                let nb = *ndis_sys::NET_BUFFER_LIST_FIRST_NB(ptr.as_ptr());
                let chain = *ndis_sys::NDIS_MDL_LINKAGE(mdl.as_ptr());
                *ndis_sys::NET_BUFFER_FIRST_MDL(nb) = chain;
                *ndis_sys::NET_BUFFER_CURRENT_MDL(nb) = chain;
                *ndis_sys::NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 0;
                *ndis_sys::NET_BUFFER_DATA_OFFSET(nb) = 0;
                *ndis_sys::NET_BUFFER_DATA_LENGTH(nb) -= ndis_sys::MmGetMdlByteCount(mdl.as_ptr());
                *ndis_sys::NDIS_MDL_LINKAGE(mdl.as_ptr()) = core::ptr::null_mut();
            }
        }
    }
}

/// The changes a [`NblClone::modify`] call may make, branded `'id`.
///
/// # Invariants
///
/// `'id` is invariant and unique to one `modify` call (it is chosen by the
/// caller of a higher-ranked closure, so no two calls can share it). `'p`
/// is the clone's own `'p`, invariant too: an MDL given to
/// [`Changes::prepend`] is borrowed for the clone's whole life, and a
/// `Changes<'_, '_, 'long>` cannot be coerced into accepting a shorter borrow.
pub struct Changes<'id, 'c, 'p> {
    ptr: NonNull<NET_BUFFER_LIST>,
    log: &'c mut Log,
    _brand: PhantomData<fn(&'id ()) -> &'id ()>,
    _p: PhantomData<fn(&'p mut MDL) -> &'p mut MDL>,
}

/// Undoes one change made in the `modify` call branded `'id`.
#[must_use = "an unused record is undone when the clone is freed"]
pub struct Undo<'id> {
    index: usize,
    _brand: PhantomData<fn(&'id ()) -> &'id ()>,
}

impl<'id, 'p> Changes<'id, '_, 'p> {
    #[inline]
    fn record(&mut self, c: Change) -> Result<Undo<'id>> {
        let index = self.log.len;
        let slot = self.log.changes.get_mut(index).ok_or(Error::TooManyChanges)?;
        *slot = Some(c);
        self.log.len = index + 1;
        Ok(Undo { index, _brand: PhantomData })
    }

    #[inline(always)]
    fn view(&self) -> &NetBufferList {
        // SAFETY: the clone is live and changes only through &mut self.
        unsafe { NetBufferList::from_raw(self.ptr) }
    }

    /// Retreats every NB of the clone by `delta` bytes (into unused space,
    /// or a new MDL NDIS chains at the head).
    #[inline]
    pub fn retreat(&mut self, delta: u32) -> Result<Undo<'id>> {
        if self.log.len >= MAX_CHANGES {
            return Err(Error::TooManyChanges);
        }
        // SAFETY: the clone is ours.
        unsafe { retreat_nbl(self.ptr, delta)? };
        self.record(Change::Retreat(delta))
    }

    /// Advances every NB of the clone by `delta` bytes (keeping the bytes,
    /// so the undo cannot fail).
    #[inline]
    pub fn advance(&mut self, delta: u32) -> Result<Undo<'id>> {
        if self.log.len >= MAX_CHANGES {
            return Err(Error::TooManyChanges);
        }
        if delta > self.view().min_data_length() {
            return Err(Error::OutOfRange);
        }
        // SAFETY: the clone is ours; every NB has `delta` bytes; no MDL freed.
        unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(self.ptr.as_ptr(), delta, 0, None) };
        self.record(Change::Advance(delta))
    }

    /// Puts `mdl` in front of the first NB's data: the MDL's bytes become
    /// the data's first bytes (a header). The first NB's data must start at
    /// the start of its chain's first MDL (`DataOffset` 0, `CurrentMdl` the
    /// head at offset 0: retreat to it first); `Err(InvalidArgument)`
    /// otherwise.
    #[inline]
    pub fn prepend(&mut self, mdl: &'p mut Mdl<'_>) -> Result<Undo<'id>> {
        if self.log.len >= MAX_CHANGES {
            return Err(Error::TooManyChanges);
        }
        let nb = self.view().first().ok_or(Error::InvalidArgument)?.as_ptr();
        // SAFETY: the clone and its first NB are ours.
        let (chain, current, current_offset, offset, length) = unsafe {
            (
                *ndis_sys::NET_BUFFER_FIRST_MDL(nb),
                *ndis_sys::NET_BUFFER_CURRENT_MDL(nb),
                *ndis_sys::NET_BUFFER_CURRENT_MDL_OFFSET(nb),
                *ndis_sys::NET_BUFFER_DATA_OFFSET(nb),
                *ndis_sys::NET_BUFFER_DATA_LENGTH(nb),
            )
        };
        if offset != 0 || current != chain || current_offset != 0 {
            return Err(Error::InvalidArgument);
        }
        let length = length.checked_add(mdl.byte_count()).ok_or(Error::OutOfRange)?;
        let m = mdl.as_ptr();
        // SAFETY: `mdl` is borrowed mutably for 'p (it outlives the clone)
        // and on no chain; the NB is ours. Only the clone's own NB and the
        // new MDL change: the parent's MDLs are not touched.
        unsafe {
            *ndis_sys::NDIS_MDL_LINKAGE(m) = chain;
            *ndis_sys::NET_BUFFER_FIRST_MDL(nb) = m;
            *ndis_sys::NET_BUFFER_CURRENT_MDL(nb) = m;
            *ndis_sys::NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 0;
            *ndis_sys::NET_BUFFER_DATA_LENGTH(nb) = length;
        }
        let mdl = NonNull::new(m).ok_or(Error::InvalidArgument)?;
        self.record(Change::Prepend(mdl))
    }

    /// Undoes the change `undo` records, which must be the last one still
    /// in effect (`Err(UndoOutOfOrder)`, and nothing undone, otherwise).
    #[inline]
    pub fn undo(&mut self, undo: Undo<'id>) -> Result<()> {
        if undo.index + 1 != self.log.len {
            return Err(Error::UndoOutOfOrder);
        }
        if let Some(c) = pop(self.log) {
            // SAFETY: the last change, still in effect.
            unsafe { revert(self.ptr, c) };
        }
        Ok(())
    }

    /// The clone as it is now.
    #[inline]
    pub fn clone_view(&self) -> &NetBufferList {
        self.view()
    }
}

// ---- making clones ----

impl<A: crate::nbl::Allocator, C0: ContextArea> NetBufferListOwned<'_, A, C0> {
    /// Clones this NBL with `K`'s DDI, from the DDI's own pool, without a
    /// context area. The clone borrows this NBL.
    #[inline]
    pub fn clone_nbl<K: Flavor>(&self) -> Result<NblClone<'_, K>> {
        // SAFETY: live for the borrow; NULL pool.
        unsafe { NblClone::new_raw(self.raw_nbl(), core::ptr::null_mut(), None, NoContext) }
    }

    /// Clones this NBL with `K`'s DDI from `pool`, whose context area the
    /// clone carries, initialized to `init`. The clone is counted on the
    /// pool from now on: if it is never freed, the pool is leaked, not freed.
    #[inline]
    pub fn clone_nbl_in<'p, K: Flavor, C: ContextArea>(
        &'p self,
        pool: &'p NblPool<C>,
        init: C,
    ) -> Result<NblClone<'p, K, C>> {
        // SAFETY: live for the borrow; a pool typed C, counted.
        unsafe { NblClone::new_raw(self.raw_nbl(), pool.as_raw(), Some(&pool.outstanding), init) }
    }

    #[inline(always)]
    fn raw_nbl(&self) -> NonNull<NET_BUFFER_LIST> {
        // SAFETY: the view's pointer is the live NBL's, never NULL.
        unsafe { NonNull::new_unchecked(self.as_ptr()) }
    }
}

impl Retreated<'_> {
    /// Clones the retreated NBL (so the clone's data starts where the
    /// retreat put it) with `K`'s DDI. The clone borrows the guard: it is
    /// freed before the NBL is advanced back. For a lent NBL, clone through
    /// [`BorrowedNbl::with_clone`] (or [`BorrowedNbl::reference_and_clone`])
    /// instead, which retreat it for the clone and advance it back at once.
    #[inline]
    pub fn clone_nbl<K: Flavor>(&self) -> Result<NblClone<'_, K>> {
        // SAFETY: live and retreated while borrowed; NULL pool.
        unsafe { NblClone::new_raw(self.raw(), core::ptr::null_mut(), None, NoContext) }
    }
}

impl<'a> BorrowedNbl<'a> {
    /// Clones the lent NBL with `K`'s DDI — retreated by `delta` bytes
    /// first (into the unused space before its data, over headers the stack
    /// advanced past) and advanced back at once, so the clone's data starts
    /// `delta` bytes earlier and the lent NBL is as it came — from `pool`
    /// (or the DDI's own), with its context area set to `init`, and hands
    /// the clone to `f`. When `f` returns (or unwinds), the clone's changes
    /// are undone and it is freed: a clone of a lent NBL never outlives
    /// this call, whatever `f` does, so the stack never gets its NBL back
    /// with a live clone. (To keep a clone past the callback, reference
    /// the NBL: [`BorrowedNbl::reference_and_clone`].)
    ///
    /// The clone's lifetime is a fresh brand, so it cannot be swapped with
    /// another clone, nor can an MDL borrowed for less than `'static` be
    /// prepended to it.
    ///
    /// ```
    /// use ndis_safe::{BorrowedNbl, clone::Fwps, NoContext};
    /// # let _sim = ndis_sim::Session::new();
    /// // What the stack indicates: 20 bytes of IP header already advanced past.
    /// let indicated = ndis_sim::StackNbl::indicate(&[0x45; 48], 20);
    /// // SAFETY: the simulated stack lends it until `complete`.
    /// let mut nbl = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
    /// let length = nbl.with_clone::<Fwps, NoContext, _>(20, None, NoContext, |clone| {
    ///     clone.first().map(|nb| nb.data_length())
    /// })?;
    /// assert_eq!(length, Some(48));
    /// assert_eq!(nbl.first().map(|nb| nb.data_length()), Some(28)); // as it came
    /// indicated.complete();
    /// # Ok::<(), ndis_safe::Error>(())
    /// ```
    #[inline]
    pub fn with_clone<K: Flavor, C: ContextArea, R>(
        &mut self,
        delta: u32,
        pool: Option<&NblPool<C>>,
        init: C,
        f: impl for<'s> FnOnce(&mut NblClone<'s, K, C>) -> R,
    ) -> Result<R> {
        let (handle, count) = match pool {
            Some(p) => (p.as_raw(), Some(&p.outstanding)),
            None => (core::ptr::null_mut(), None),
        };
        let mut clone = self.retreat_and_clone_as::<K, C, Log>(delta, handle, count, init)?;
        Ok(f(&mut clone))
        // `clone` is dropped here (or while unwinding): undone, then freed.
    }

    /// Retreats the lent NBL by `delta` (into unused space only), clones it
    /// with `K`'s DDI from `pool` (counted on `pool_count`), and advances it
    /// back before returning: no guard, so nothing can leave it retreated.
    #[inline]
    pub(crate) fn retreat_and_clone_as<'x, K: Flavor, C: ContextArea, L: Record>(
        &mut self,
        delta: u32,
        pool: ndis_sys::NDIS_HANDLE,
        pool_count: Option<&'x AtomicUsize>,
        init: C,
    ) -> Result<NblClone<'x, K, C, L>>
    where
        'a: 'x,
    {
        let (ptr, _) = self.lent();
        if self.net_buffers().any(|nb| nb.data_offset() < delta) {
            return Err(Error::OutOfRange);
        }
        // SAFETY: lent to us; the unused space suffices, so NDIS allocates
        // no MDL.
        unsafe { retreat_nbl(ptr, delta)? };
        // SAFETY: lent for 'a, which outlives 'x; the pool is NULL or typed
        // C, counted as the caller chose; the clone's NBs are its own, so
        // advancing the lent NBL back leaves the clone as made.
        let clone = unsafe { NblClone::new_raw(ptr, pool, pool_count, init) };
        // SAFETY: retreated by `delta` just above (new_raw cannot unwind);
        // the retreat used unused space, so the advance frees nothing.
        unsafe { ndis_sys::NdisAdvanceNetBufferListDataStart(ptr.as_ptr(), delta, 0, None) };
        clone
    }
}
