//! Flow contexts typed by the context's type, freed exactly once, without
//! an allocator.
//!
//! A driver keeps its flow contexts in a [`FlowTable<T, N>`] — a `static`
//! of `N` slots of `T`. [`FlowTable::associate`] puts a `T` in a free slot
//! and associates the slot's cookie with the classify's flow
//! (`FwpsFlowAssociateContext0`); the callout reads it back in later
//! classifies of the flow with [`FlowTable::with`], and its
//! [`Callout::flow_delete`]
//! hands the cookie to [`FlowTable::delete`] when the engine ends the flow
//! (or after [`FlowTable::remove`], `FwpsFlowRemoveContext0`). The cookie
//! is the slot's index and generation: a cookie of a flow already deleted
//! (a second `flowDeleteFn`, a stale cookie) finds a newer generation and
//! does nothing, so a context is dropped exactly once. A value of another
//! type cannot be associated: the table is typed.
//!
//! A reader ([`with`](FlowTable::with)) and a delete may race (the engine
//! ends a flow while another processor classifies it): the slot counts its
//! readers, and whichever of the delete and the last reader comes last
//! drops the value.
//!
//! Leaks: a `T` whose flow is never deleted stays in its slot (the slot is
//! never reused); nothing else depends on a destructor.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, Status};
use crate::wfp::callout::{Callout, Registration};
use crate::wfp::classify::Classify;
use crate::wfp::layer::Layer;

// A slot's state word: generation (32 bits) | state (2 bits) | readers (30 bits).
const FREE: u64 = 0;
const WRITING: u64 = 1;
const LIVE: u64 = 2;
const DYING: u64 = 3;
const STATE_SHIFT: u32 = 30;
const READERS: u64 = (1 << STATE_SHIFT) - 1;

const fn word(generation: u32, state: u64, readers: u64) -> u64 {
    ((generation as u64) << 32) | (state << STATE_SHIFT) | readers
}
const fn generation(w: u64) -> u32 {
    (w >> 32) as u32
}
const fn state(w: u64) -> u64 {
    (w >> STATE_SHIFT) & 3
}

struct Slot<T> {
    word: AtomicU64,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// `N` flow-context slots of `T`.
///
/// # Invariants
///
/// A slot's value is initialized while its state is `LIVE` or `DYING`
/// (and, once written, `WRITING`); it is written only by the thread that
/// moved the slot from `FREE` to `WRITING`, which keeps it until it
/// publishes it `LIVE` (a delete of a `WRITING` slot marks it `DYING` and
/// leaves the drop to that thread), and otherwise dropped only by the
/// thread that saw it `DYING` with no reader (the delete or the last
/// reader), once. Readers enter only a `LIVE` slot.
pub struct FlowTable<T, const N: usize> {
    slots: [Slot<T>; N],
}

// SAFETY: values move in from one thread and are read (shared) and dropped
// on others: `T: Send + Sync` covers both.
#[allow(unsafe_code, reason = "the table's sharing is its invariant")]
unsafe impl<T: Send + Sync, const N: usize> Sync for FlowTable<T, N> {}

/// A flow context's cookie: what the engine stores and gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowCookie(pub u64);

impl<T: Send + Sync + 'static, const N: usize> Default for FlowTable<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(unsafe_code, reason = "slots of MaybeUninit values guarded by their state words")]
impl<T: Send + Sync + 'static, const N: usize> FlowTable<T, N> {
    /// An empty table (`const`, for a `static`).
    pub const fn new() -> Self {
        FlowTable {
            slots: [const { Slot { word: AtomicU64::new(0), value: UnsafeCell::new(MaybeUninit::uninit()) } }; N],
        }
    }

    fn cookie(index: usize, generation: u32) -> u64 {
        (index as u64) | (u64::from(generation) << 32)
    }

    fn slot(&self, cookie: u64) -> Option<(&Slot<T>, u32)> {
        let index = (cookie & 0xFFFF_FFFF) as usize;
        Some((self.slots.get(index)?, (cookie >> 32) as u32))
    }

    /// Stores `value` in a free slot and associates it with flow `flow`
    /// (a classify's [`flow_handle`](Classify::flow_handle)) for `callout`
    /// at its layer (`FwpsFlowAssociateContext0`): that callout's later
    /// classifies of the flow carry it. `Err(value)` back with the reason
    /// when the table is full or the DDI refuses (a context already
    /// associated: `STATUS_OBJECT_NAME_EXISTS`), or `Err(InvalidArgument)`
    /// when `C` says it keeps no flow contexts
    /// ([`Callout::FLOW_CONTEXTS`] `false`: no `flowDeleteFn` would ever
    /// free it; known at compile time, so the check costs nothing).
    pub fn associate<C: Callout>(
        &self,
        flow: u64,
        callout: &Registration<C>,
        value: T,
    ) -> core::result::Result<FlowCookie, (T, Error)> {
        if !C::FLOW_CONTEXTS {
            return Err((value, Error::InvalidArgument));
        }
        let Some((index, generation)) = self.claim() else { return Err((value, Error::NoResources)) };
        let Some(slot) = self.slots.get(index) else { return Err((value, Error::NoResources)) };
        // SAFETY: the invariant: this thread moved the slot to WRITING.
        unsafe { (*slot.value.get()).write(value) };
        let cookie = Self::cookie(index, generation);
        // The slot stays WRITING (no reader can enter) until the engine has
        // the cookie: a cookie is a plain number, and a reader let in before
        // a refused association would hold the value it takes back.
        // SAFETY: plain values; the engine checks the flow and callout.
        let status = unsafe { fwps_sys::FwpsFlowAssociateContext0(flow, C::Layer::ID, callout.id(), cookie) };
        // STATUS_OBJECT_NAME_EXISTS (a context is already associated) is
        // informational, not an error status: anything but success fails.
        if status != 0 {
            // Not associated: take the value back (WRITING or, after a
            // delete of this cookie, DYING: no reader either way).
            // SAFETY: initialized above, read once; the slot is freed next.
            let value = unsafe { (*slot.value.get()).assume_init_read() };
            slot.word.store(word(generation.wrapping_add(1), FREE, 0), Ordering::Release);
            return Err((value, Error::Status(Status(status))));
        }
        let writing = word(generation, WRITING, 0);
        if slot.word.compare_exchange(writing, word(generation, LIVE, 0), Ordering::Release, Ordering::Acquire).is_err()
        {
            // The flow was deleted (its `flowDeleteFn` ran) before the
            // value was published: the delete left the drop to this thread.
            // SAFETY: the invariant: DYING with no reader, seen by this thread.
            unsafe { free(slot, generation) };
        }
        Ok(FlowCookie(cookie))
    }

    fn claim(&self) -> Option<(usize, u32)> {
        for (i, slot) in self.slots.iter().enumerate() {
            let w = slot.word.load(Ordering::Relaxed);
            if state(w) == FREE
                && slot
                    .word
                    .compare_exchange(w, word(generation(w), WRITING, 0), Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Some((i, generation(w)));
            }
        }
        None
    }

    /// Calls `f` with the context this classify's flow carries for the
    /// callout (the classify's `flowContext`), if it is one of this table's
    /// and still live.
    pub fn with<L: Layer, R>(&self, classify: &Classify<'_, L>, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.with_cookie(FlowCookie(classify.flow_context()), f)
    }

    /// [`with`](FlowTable::with) by cookie.
    pub fn with_cookie<R>(&self, cookie: FlowCookie, f: impl FnOnce(&T) -> R) -> Option<R> {
        let (slot, generation_) = self.slot(cookie.0)?;
        let mut w = slot.word.load(Ordering::Relaxed);
        loop {
            if generation(w) != generation_ || state(w) != LIVE || w & READERS == READERS {
                return None;
            }
            match slot.word.compare_exchange_weak(w, w + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => w = now,
            }
        }
        struct Leave<'s, T>(&'s Slot<T>);
        impl<T> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                let before = self.0.word.fetch_sub(1, Ordering::AcqRel);
                if state(before) == DYING && before & READERS == 1 {
                    // SAFETY: the invariant: DYING, and this was the last reader.
                    unsafe { free(self.0, generation(before)) };
                }
            }
        }
        let _leave = Leave(slot);
        // SAFETY: LIVE with this reader counted: initialized until it leaves.
        Some(f(unsafe { (*slot.value.get()).assume_init_ref() }))
    }

    /// Drops the context `cookie` names (from `flowDeleteFn`); a stale or
    /// repeated cookie does nothing. Returns whether this call ended it.
    pub fn delete(&self, cookie: u64) -> bool {
        let Some((slot, generation_)) = self.slot(cookie) else { return false };
        let mut w = slot.word.load(Ordering::Relaxed);
        loop {
            if generation(w) != generation_ || (state(w) != LIVE && state(w) != WRITING) {
                return false;
            }
            let dying = word(generation_, DYING, w & READERS);
            match slot.word.compare_exchange_weak(w, dying, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => w = now,
            }
        }
        // From WRITING (the flow ended while `associate` was still in the
        // DDI call) the associating thread drops the value.
        if state(w) == LIVE && w & READERS == 0 {
            // SAFETY: the invariant: DYING with no reader; this delete frees.
            unsafe { free(slot, generation_) };
        }
        true
    }

    /// `FwpsFlowRemoveContext0`: asks the engine to end the association
    /// now; the engine then calls the callout's `flowDeleteFn`, which
    /// deletes the value.
    pub fn remove<C: Callout>(&self, flow: u64, callout: &Registration<C>) -> Result<()> {
        // SAFETY: plain values; the engine checks them.
        let status = unsafe { fwps_sys::FwpsFlowRemoveContext0(flow, C::Layer::ID, callout.id()) };
        Status::result(status).map_err(Error::Status)
    }

    /// How many slots hold a context.
    pub fn live(&self) -> usize {
        self.slots.iter().filter(|s| state(s.word.load(Ordering::Relaxed)) != FREE).count()
    }
}

/// Drops a slot's value and frees the slot for the next generation.
///
/// # Safety
///
/// The slot is `DYING` with no reader, and the caller is the one thread
/// that saw it so.
#[allow(unsafe_code, reason = "the value's one drop")]
unsafe fn free<T>(slot: &Slot<T>, generation: u32) {
    // SAFETY: the caller's guarantee: initialized, dropped once.
    unsafe { (*slot.value.get()).assume_init_drop() };
    slot.word.store(word(generation.wrapping_add(1), FREE, 0), Ordering::Release);
}
