//! Injection: handles, the NBLs the stack holds until their completion,
//! and what the test chooses the stack does with the next injections.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::{FWPS_INJECT_COMPLETE0, HANDLE};
use ndis_sys::*;

use super::{Block, Body, InjectionRecord, Raw, State, with_state};

/// What the simulated stack does with the next injections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InjectionMode {
    /// The injection is accepted and waits: the completion runs when the
    /// test calls [`complete_next`](crate::complete_next) or
    /// [`complete_all`](crate::complete_all) (with the status it chooses,
    /// so an asynchronous failure is `complete_next(failure)`).
    #[default]
    Deferred,
    /// The injection is accepted and its completion runs before the inject
    /// call returns, with this status in `NET_BUFFER_LIST_STATUS`.
    Immediate(NTSTATUS),
    /// The inject call fails with this status: the NBL stays the caller's
    /// and the completion never runs.
    FailSynchronously(NTSTATUS),
}

static MODE: Mutex<InjectionMode> = Mutex::new(InjectionMode::Deferred);

fn mode_lock() -> MutexGuard<'static, InjectionMode> {
    MODE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the next injection does.
pub(crate) fn mode() -> InjectionMode {
    *mode_lock()
}

/// Sets what the next injections do.
pub fn set_injection_mode(m: InjectionMode) {
    *mode_lock() = m;
}

/// Back to the default mode (a new session).
pub(crate) fn reset_injection_mode() {
    *mode_lock() = InjectionMode::Deferred;
}

/// An injection the stack holds.
pub(crate) struct Pending {
    pub nbl: Raw,
    pub completion: FWPS_INJECT_COMPLETE0,
    pub context: Raw,
}
// SAFETY: the pointers name an NBL the stack owns and the driver's context,
// which the completion is given on whatever thread completes it, as on
// Windows.
unsafe impl Send for Pending {}

static PENDING: Mutex<VecDeque<Pending>> = Mutex::new(VecDeque::new());

pub(crate) fn pending() -> MutexGuard<'static, VecDeque<Pending>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many injections wait for their completion.
pub fn pending_injections() -> usize {
    pending().len()
}

/// Registers a new injection handle; NULL when out of memory.
pub(crate) fn new_handle(st: &mut State) -> HANDLE {
    let Some(block) = Block::zeroed(std::alloc::Layout::new::<u128>()) else {
        return core::ptr::null_mut();
    };
    st.insert(block.ptr.0 as usize, 0, Body::InjectionHandle { pending: 0 });
    block.cast()
}

/// Frees an injection handle with nothing pending on it.
pub(crate) fn free_handle(st: &mut State, handle: HANDLE, by: &'static str) {
    st.bury(handle as usize, by);
    // SAFETY: the handle block was allocated by `new_handle`, freed once.
    unsafe { Block { ptr: Raw(handle.cast()), layout: std::alloc::Layout::new::<u128>() }.free() };
}

/// The stack accepts the NBL: it owns it until the completion.
pub(crate) fn accept(st: &mut State, handle: HANDLE, injection_context: HANDLE, nbl: *mut NET_BUFFER_LIST) {
    if let Some(n) = st.nbl_mut(nbl as usize) {
        n.injected = Some(InjectionRecord { handle: handle as usize, context: Raw(injection_context.cast()) });
    }
    if let Some(Body::InjectionHandle { pending }) = st.objs.get_mut(&(handle as usize)).map(|o| &mut o.body) {
        *pending += 1;
    }
}

/// Takes the next pending injection of `handle` off the queue.
pub(crate) fn take_pending_of(handle: usize) -> Option<Pending> {
    let mut q = pending();
    let at = q.iter().position(|p| {
        with_state(|st| st.nbl(p.nbl.0 as usize).and_then(|n| n.injected.as_ref()).is_some_and(|r| r.handle == handle))
    });
    at.and_then(|i| q.remove(i))
}

/// Hands the NBL back to the driver: clears its injected mark, sets its
/// status, and calls the completion outside every lock. The stack
/// completes injections from its own send and receive paths, at
/// `DISPATCH_LEVEL` (`dispatchLevel` TRUE), on the thread that completes
/// them; a completion the inject call itself runs
/// ([`InjectionMode::Immediate`]) runs at the caller's IRQL instead, with
/// `dispatchLevel` saying whether that is `DISPATCH_LEVEL`.
pub(crate) fn complete(p: Pending, status: NTSTATUS) {
    let _dispatch = super::irql::raise(super::irql::DISPATCH_LEVEL.max(super::irql::current()));
    complete_here(p, status);
}

/// [`complete`] at the caller's IRQL.
pub(crate) fn complete_here(p: Pending, status: NTSTATUS) {
    let nbl: *mut NET_BUFFER_LIST = p.nbl.0.cast();
    with_state(|st| {
        let handle = st.nbl_mut(nbl as usize).and_then(|n| n.injected.take()).map(|r| r.handle);
        if let Some(h) = handle
            && let Some(Body::InjectionHandle { pending }) = st.objs.get_mut(&h).map(|o| &mut o.body)
        {
            *pending = pending.saturating_sub(1);
        }
        // SAFETY: the stack owns the NBL until this completion; it is live.
        unsafe { *NET_BUFFER_LIST_STATUS(nbl) = status };
    });
    if let Some(f) = p.completion {
        let dispatch = BOOLEAN::from(super::irql::current() == super::irql::DISPATCH_LEVEL);
        // SAFETY: the driver's completion routine, called as WFP calls it.
        unsafe { f(p.context.0.cast(), nbl, dispatch) };
    }
}
