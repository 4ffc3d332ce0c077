//! Pending a classify, to decide later (a firewall asking user mode about
//! a connection): `FwpsAcquireClassifyHandle0` and `FwpsPendClassify0` in
//! the classify, `FwpsCompleteClassify0` and `FwpsReleaseClassifyHandle0`
//! when the decision is known — as one owned [`PendedClassify`] whose
//! [`complete`](PendedClassify::complete) consumes it, so it ends exactly
//! once.
//!
//! Dropping a pended classify completes it with [`Decision::Block`] (the
//! default a firewall wants when its decision never comes). Leaking one
//! (`mem::forget`) means the classify never completes and its handle is
//! never released: the connection waits forever, which the simulator
//! reports as a pend left at the end of a test — never undefined
//! behaviour, since the handle is only an engine cookie.

use fwps_sys::*;

use crate::error::{Error, Status};
use crate::wfp::classify::Classify;
use crate::wfp::decision::{Decided, Decision, Writable};
use crate::wfp::layer::Layer;

/// A pended classify, completed exactly once.
///
/// # Invariants
///
/// `handle` is a classify handle this value acquired, whose classify it
/// pended, and which it has neither completed nor released.
#[derive(Debug)]
pub struct PendedClassify {
    handle: u64,
    filter_id: u64,
}

/// Why a classify could not be pended, with the action back.
pub struct NotPended<'c> {
    /// The classify's action, unchanged.
    pub action: Writable<'c>,
    /// Why.
    pub error: Error,
}

#[allow(unsafe_code, reason = "the pend DDIs take the engine's classify context and handle")]
impl<'c> Writable<'c> {
    /// Pends the classify: acquires its handle, pends it, and answers
    /// the engine for now as the documentation asks (`FWP_ACTION_BLOCK`,
    /// absorbed, the write right cleared); the decision comes with
    /// [`PendedClassify::complete`]. Needs a callout registered with
    /// version 1 or later ([`Classify::can_pend`]).
    pub fn pend<L: Layer>(self, classify: &Classify<'c, L>) -> Result<(Decided<'c>, PendedClassify), NotPended<'c>> {
        if !classify.can_pend() {
            return Err(NotPended { action: self, error: Error::InvalidArgument });
        }
        let mut handle = 0u64;
        // SAFETY: the engine's classify context for this call.
        let status = unsafe { FwpsAcquireClassifyHandle0(classify.classify_context.cast_mut(), 0, &mut handle) };
        if let Err(s) = Status::result(status) {
            return Err(NotPended { action: self, error: Error::Status(s) });
        }
        let filter_id = self.filter_id;
        // SAFETY: a handle just acquired; the classify out of this call.
        let status = unsafe { FwpsPendClassify0(handle, filter_id, 0, &mut *self.out) };
        if let Err(s) = Status::result(status) {
            // SAFETY: acquired above, released once.
            unsafe { FwpsReleaseClassifyHandle0(handle) };
            return Err(NotPended { action: self, error: Error::Status(s) });
        }
        self.out.actionType = FWP_ACTION_BLOCK;
        self.out.flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        self.out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        Ok((Decided::new(), PendedClassify { handle, filter_id }))
    }
}

#[allow(unsafe_code, reason = "completing and releasing the engine's handle")]
impl PendedClassify {
    /// The filter whose classify was pended.
    #[inline]
    pub fn filter_id(&self) -> u64 {
        self.filter_id
    }

    /// Completes the classify with `decision` (`FwpsCompleteClassify0`) and
    /// releases its handle.
    pub fn complete(self, decision: Decision) {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: the invariant: pended, neither completed nor released.
        unsafe { complete_raw(me.handle, decision) }
    }
}

impl Drop for PendedClassify {
    fn drop(&mut self) {
        // SAFETY: the invariant; this is its one completion.
        #[allow(unsafe_code, reason = "as complete")]
        unsafe {
            complete_raw(self.handle, Decision::Block)
        }
    }
}

/// # Safety
///
/// `handle` is pended, not completed nor released; it is not used after.
#[allow(unsafe_code, reason = "the DDIs")]
unsafe fn complete_raw(handle: u64, decision: Decision) {
    let mut out = FWPS_CLASSIFY_OUT0 { rights: FWPS_RIGHT_ACTION_WRITE, ..Default::default() };
    let w = Writable { out: &mut out, filter_flags: 0, filter_id: 0 };
    let _ = w.decide(decision);
    // SAFETY: the caller's guarantee; `out` is read during the call.
    unsafe { FwpsCompleteClassify0(handle, 0, &out) };
    // SAFETY: released once, after its completion.
    unsafe { FwpsReleaseClassifyHandle0(handle) };
}

/// An operation pended with `FwpsPendOperation0` (at the ALE
/// authorization layers, from the classify's completion handle), completed
/// exactly once with `FwpsCompleteOperation0` — after which the engine
/// re-authorizes the connection: classify runs again, with
/// `FWP_CONDITION_FLAG_IS_REAUTHORIZE` in its flags, and decides then.
///
/// Dropping it completes it; leaking it means the connection is never
/// re-authorized (the simulator's watchdog lists it).
///
/// # Invariants
///
/// `context` is a completion context this value got from
/// `FwpsPendOperation0` and has not completed.
#[derive(Debug)]
pub struct PendedOperation {
    context: HANDLE,
}

// SAFETY: a completion context is an engine cookie, completed from any thread.
#[allow(unsafe_code, reason = "the cookie's sharing")]
unsafe impl Send for PendedOperation {}

#[allow(unsafe_code, reason = "the pend-operation DDIs")]
impl<'c> Writable<'c> {
    /// Pends the classify's operation (`FwpsPendOperation0` with its
    /// completion handle) and answers the engine for now (`FWP_ACTION_BLOCK`,
    /// absorbed, the right cleared). `Err` when the classify carries no
    /// completion handle or the DDI refuses.
    pub fn pend_operation<L: Layer>(
        self,
        classify: &Classify<'c, L>,
    ) -> Result<(Decided<'c>, PendedOperation), NotPended<'c>> {
        let Some(handle) = classify.completion_handle() else {
            return Err(NotPended { action: self, error: Error::InvalidArgument });
        };
        let mut context: HANDLE = core::ptr::null_mut();
        // SAFETY: the classify's own completion handle; `context` is writable.
        let status = unsafe { FwpsPendOperation0(handle, &mut context) };
        if let Err(s) = Status::result(status) {
            return Err(NotPended { action: self, error: Error::Status(s) });
        }
        self.out.actionType = FWP_ACTION_BLOCK;
        self.out.flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        self.out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        Ok((Decided::new(), PendedOperation { context }))
    }
}

#[allow(unsafe_code, reason = "completing the engine's operation")]
impl PendedOperation {
    /// Completes the operation (`FwpsCompleteOperation0`): the engine
    /// re-authorizes it.
    pub fn complete(self) {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: the invariant: pended, not completed; completed once here.
        unsafe { FwpsCompleteOperation0(me.context, core::ptr::null_mut()) }
    }
}

impl Drop for PendedOperation {
    #[allow(unsafe_code, reason = "as complete")]
    fn drop(&mut self) {
        // SAFETY: the invariant; this is its one completion.
        unsafe { FwpsCompleteOperation0(self.context, core::ptr::null_mut()) }
    }
}

/// A place for one [`PendedClassify`] in a `static` (or any shared
/// state), without a lock: a driver's table of connections waiting for a
/// decision is an array of these. [`put`](PendSlot::put) moves a pend in,
/// [`take`](PendSlot::take) moves it out again, each at most once per pend,
/// from any thread.
///
/// Leaks: a pend left in a slot is never completed (a slot in a `static`
/// is never dropped): the connection waits, and the simulator's watchdog
/// lists its handle. Dropping a slot that holds one completes it with
/// [`Decision::Block`], as dropping the pend would.
///
/// # Invariants
///
/// When `state` is `FULL`, `handle` and `filter_id` are those of a
/// [`PendedClassify`] the slot owns (moved in and forgotten); no other
/// state owns one.
#[derive(Debug)]
pub struct PendSlot {
    state: core::sync::atomic::AtomicU8,
    handle: core::sync::atomic::AtomicU64,
    filter_id: core::sync::atomic::AtomicU64,
}

const SLOT_EMPTY: u8 = 0;
const SLOT_BUSY: u8 = 1;
const SLOT_FULL: u8 = 2;

impl PendSlot {
    /// An empty slot.
    pub const fn new() -> PendSlot {
        PendSlot {
            state: core::sync::atomic::AtomicU8::new(SLOT_EMPTY),
            handle: core::sync::atomic::AtomicU64::new(0),
            filter_id: core::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Moves `pended` into the slot; `Err` gives it back when the slot is
    /// not empty.
    pub fn put(&self, pended: PendedClassify) -> Result<(), PendedClassify> {
        use core::sync::atomic::Ordering;
        if self.state.compare_exchange(SLOT_EMPTY, SLOT_BUSY, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(pended);
        }
        let pended = core::mem::ManuallyDrop::new(pended);
        self.handle.store(pended.handle, Ordering::Relaxed);
        self.filter_id.store(pended.filter_id, Ordering::Relaxed);
        self.state.store(SLOT_FULL, Ordering::Release);
        Ok(())
    }

    /// Moves the pend out of the slot, if it holds one.
    pub fn take(&self) -> Option<PendedClassify> {
        use core::sync::atomic::Ordering;
        self.state.compare_exchange(SLOT_FULL, SLOT_BUSY, Ordering::Acquire, Ordering::Relaxed).ok()?;
        let p = PendedClassify {
            handle: self.handle.load(Ordering::Relaxed),
            filter_id: self.filter_id.load(Ordering::Relaxed),
        };
        self.state.store(SLOT_EMPTY, Ordering::Release);
        Some(p)
    }

    /// Whether it holds a pend.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.state.load(core::sync::atomic::Ordering::Acquire) == SLOT_FULL
    }
}

impl Default for PendSlot {
    fn default() -> PendSlot {
        PendSlot::new()
    }
}

impl Drop for PendSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}
