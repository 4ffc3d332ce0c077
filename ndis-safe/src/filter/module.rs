//! A filter module (one attachment of the filter to one miniport's stack):
//! its NDIS handle, its state, and the count of its own NBLs in flight.
#![allow(unsafe_code, reason = "the module calls NdisFPauseComplete with the handle NDIS gave it")]

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

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
    /// The pause handler ran; the pause completes when the module's own
    /// NBLs in flight are back.
    Pausing,
}

/// The state is the top two bits of the word; `RUNNING` is 0 there, so
/// "running" is one compare of the word (`< PAUSED`), as a raw filter's
/// test of its state field is.
const SHIFT: u32 = u32::BITS - 2;
const COUNT: u32 = (1 << SHIFT) - 1;
const RUNNING: u32 = 0;
const PAUSED: u32 = 1 << SHIFT;
const RESTARTING: u32 = 2 << SHIFT;
const PAUSING: u32 = 3 << SHIFT;

/// One filter module, as its handlers see it: `&Module<F>`.
///
/// # Invariants
///
/// `handle` is the `NdisFilterHandle` NDIS gave the attach handler, valid
/// until the detach handler returns (the module's memory is freed there);
/// it is the first field, so a handler reaches it with one load from its
/// `FilterModuleContext`. The low bits of `word` count the module's *own*
/// NBLs in flight — sent down or indicated up by it ([`OwnChain`]) and not
/// back — plus one while the pause handler runs, plus one per receive
/// handler call in progress (receives come from below, where the miniport
/// still runs while the module pauses: a pause completes only once every
/// call that found the module running has ended); the top two bits are the
/// [`ModuleState`]. NBLs the module passes through are not counted: NDIS
/// pauses the overlying drivers first, so they are back before the
/// module's pause starts (see the [module docs](super#pause)). A pause
/// completes (the handler's `SUCCESS`, or `NdisFPauseComplete` from whoever
/// brings the count to zero) exactly once: both paths move `Pausing|0` to
/// `Paused` with one compare-exchange.
///
/// [`OwnChain`]: super::OwnChain
#[repr(C)]
pub struct Module<F: Filter> {
    handle: NDIS_HANDLE,
    word: AtomicU32,
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
        Module { handle, word: AtomicU32::new(PAUSED), own_pool: core::ptr::null_mut(), _f: PhantomData }
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

    /// How many of the module's own NBLs are in flight (sent down or
    /// indicated up and not back), plus one while its pause handler runs.
    #[inline]
    pub fn in_flight(&self) -> usize {
        (self.word.load(Ordering::Acquire) & COUNT) as usize
    }

    /// Whether the module runs: the data handlers' test, one load and one
    /// compare. A plain load suffices: the test decides only whether the
    /// filter is called, and what the filter then originates goes through
    /// [`Module::hold`], which re-checks the state atomically.
    #[inline(always)]
    pub(crate) fn running(&self) -> bool {
        self.word.load(Ordering::Relaxed) < PAUSED
    }

    /// Counts `n` in flight if the module runs, and says whether it did
    /// (else nothing is counted; [`Module::release`]`(n)` ends what was).
    /// The one count of the module: `n` own NBLs before they go (a paused
    /// or pausing module originates nothing), or `1` for a receive
    /// handler's call (receives come from below, where the miniport still
    /// runs while the module pauses: a pause that starts during the call
    /// completes when it ends). The word with `n` added stays below the
    /// state bits, else it is refused: one compare (`n` is 1 for a call).
    #[inline(always)]
    pub(crate) fn hold(&self, n: u32) -> bool {
        if self.word.fetch_add(n, Ordering::AcqRel) < PAUSED.saturating_sub(n) {
            return true;
        }
        self.release(n);
        false
    }

    /// `n` own NBLs came back, or a counted call ended (the pause
    /// handler's, or a receive handler's: [`Module::hold`]). The last
    /// of a pausing module's completes its pause. Nothing of the module is
    /// touched after the decrement unless this call completes the pause
    /// (before that, detach cannot run).
    #[inline]
    pub(crate) fn release(&self, n: u32) {
        let before = self.word.fetch_sub(n, Ordering::AcqRel);
        if before == PAUSING + n && self.finish_pause() {
            // SAFETY: the handle is valid (the pause is pending, so the
            // module is attached); the pause was pending (the pause handler
            // returned PENDING or is about to: its own count kept the word
            // from zero until it ended) and this compare-exchange won, so it
            // is completed once.
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
    fn set(&self, state: u32) {
        let _ = self.word.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some((w & COUNT) | state));
    }

    /// Paused to restarting: whether the module was paused.
    pub(crate) fn begin_restart(&self) -> bool {
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w & !COUNT == PAUSED).then_some((w & COUNT) | RESTARTING)
            })
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
    /// (no own NBL in flight), else it is pending and completes with the
    /// last own NBL back.
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
