//! A filter module (one attachment of the filter to one miniport's stack):
//! its NDIS handle, its state, and the count of what it has in flight.
#![allow(unsafe_code, reason = "the module calls NdisFPauseComplete with the handle NDIS gave it")]

use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};

use ndis_sys::NDIS_HANDLE;

use super::Filter;

/// Where a filter module is in NDIS's state machine (the states of the
/// "Filter Module States and Operations" page; `Detached` and `Attaching`
/// are never seen by a handler: the module exists from attach to detach).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleState {
    /// Attached and paused: no data flows; restart or detach comes next.
    Paused,
    /// The restart handler runs.
    Restarting,
    /// Data flows.
    Running,
    /// The pause handler ran; the pause completes when nothing is in flight.
    Pausing,
}

const SHIFT: u32 = usize::BITS - 2;
const COUNT: usize = (1 << SHIFT) - 1;
const PAUSED: usize = 0;
const RESTARTING: usize = 1 << SHIFT;
const RUNNING: usize = 2 << SHIFT;
const PAUSING: usize = 3 << SHIFT;

/// One filter module, as its handlers see it: `&Module<F>`.
///
/// # Invariants
///
/// `handle` is the `NdisFilterHandle` NDIS gave the attach handler, valid
/// until the detach handler returns (the module's memory is freed there).
/// The low bits of `word` count what the module has in flight — NBLs it
/// sent down or indicated up and has not had back, and handler calls
/// running — counted when they start; the top two bits are the
/// [`ModuleState`]. A pause completes (the handler's `SUCCESS`, or
/// `NdisFPauseComplete` from whoever brings the count to zero) exactly once:
/// both paths move `Pausing|0` to `Paused` with one compare-exchange.
pub struct Module<F: Filter> {
    handle: NDIS_HANDLE,
    word: AtomicUsize,
    /// The pool the module's own NBLs come from (its raw handle), read from
    /// [`Filter::own_pool`] after attach; NULL for none.
    pub(crate) own_pool: NDIS_HANDLE,
    _f: PhantomData<fn(F) -> F>,
}

// SAFETY: the handle is usable from any thread (NDIS filter DDIs run at
// IRQL <= DISPATCH_LEVEL on any processor); the word is atomic.
unsafe impl<F: Filter> Send for Module<F> {}
// SAFETY: as above; `&Module` only reads the handle and updates atomics.
unsafe impl<F: Filter> Sync for Module<F> {}

impl<F: Filter> Module<F> {
    /// A paused module for `handle`.
    pub(crate) fn new(handle: NDIS_HANDLE) -> Self {
        Module { handle, word: AtomicUsize::new(PAUSED), own_pool: core::ptr::null_mut(), _f: PhantomData }
    }

    /// The `NdisFilterHandle`, for DDIs this crate does not wrap.
    #[inline(always)]
    pub fn as_raw(&self) -> NDIS_HANDLE {
        self.handle
    }

    /// The handle as an owner of pools and MDLs the module makes (freed,
    /// with the filter value, before the module's memory at detach).
    #[inline]
    pub fn owner(&self) -> crate::pool::NdisHandle {
        // SAFETY: a handle NDIS gave the module, valid until its detach
        // returns; what is made with it is owned by the filter value,
        // dropped in detach (a pool moved elsewhere needs no owner handle
        // to be freed).
        unsafe { crate::pool::NdisHandle::from_raw(self.handle) }
    }

    /// The module's state now.
    #[inline]
    pub fn state(&self) -> ModuleState {
        match self.word.load(Ordering::Acquire) & !COUNT {
            PAUSED => ModuleState::Paused,
            RESTARTING => ModuleState::Restarting,
            RUNNING => ModuleState::Running,
            _ => ModuleState::Pausing,
        }
    }

    /// How many NBLs and handler calls the module has in flight.
    #[inline]
    pub fn in_flight(&self) -> usize {
        self.word.load(Ordering::Acquire) & COUNT
    }

    /// Counts `n` more in flight (before they go).
    #[inline(always)]
    pub(crate) fn hold(&self, n: usize) {
        self.word.fetch_add(n, Ordering::AcqRel);
    }

    /// A handler call starts: counted; whether the module runs.
    #[inline(always)]
    pub(crate) fn enter(&self) -> bool {
        self.word.fetch_add(1, Ordering::AcqRel) & !COUNT == RUNNING
    }

    /// `n` came back (or a handler call ended). The last of a pausing
    /// module's completes its pause.
    #[inline(always)]
    pub(crate) fn release(&self, n: usize) {
        let before = self.word.fetch_sub(n, Ordering::AcqRel);
        if before == PAUSING + n && self.finish_pause() {
            // SAFETY: the handle is valid (a module in flight is attached);
            // the pause was pending (the pause handler returned PENDING or
            // is about to: its own decrement did not find zero) and this
            // compare-exchange won, so it is completed once.
            unsafe { ndis_sys::NdisFPauseComplete(self.handle) };
        }
    }

    /// `Pausing|0` to `Paused`: whether this call did it.
    #[inline]
    fn finish_pause(&self) -> bool {
        self.word.compare_exchange(PAUSING, PAUSED, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Sets the state bits, keeping the count.
    #[inline]
    fn set(&self, state: usize) {
        let _ = self.word.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some((w & COUNT) | state));
    }

    /// Paused to restarting: whether the module was paused.
    pub(crate) fn begin_restart(&self) -> bool {
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| (w & !COUNT == PAUSED).then_some(w | RESTARTING))
            .is_ok()
    }

    /// The restart's outcome.
    pub(crate) fn end_restart(&self, ok: bool) {
        self.set(if ok { RUNNING } else { PAUSED });
    }

    /// Starts pausing, counting the pause handler's own call.
    pub(crate) fn begin_pause(&self) {
        let _ = self.word.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some(((w & COUNT) + 1) | PAUSING));
    }

    /// The pause handler's call ends: whether the pause completed now
    /// (nothing in flight), else it is pending and completes with the last
    /// release.
    pub(crate) fn end_pause(&self) -> bool {
        let before = self.word.fetch_sub(1, Ordering::AcqRel);
        before == PAUSING + 1 && self.finish_pause()
    }
}

impl<F: Filter> core::fmt::Debug for Module<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Module")
            .field("handle", &self.handle)
            .field("state", &self.state())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}
