//! Pended operations (`FwpsPendOperation0`, `FwpsCompleteOperation0`),
//! writable layer data and connect redirection, and redirect handles.

use fwps_sys::*;

use super::engine::{HandleState, Redirection, session, sockaddr_of, with_engine};
use crate::verifier::{Rule, report, v};

/// `FwpsPendOperation0`'s transition: a completion context for the
/// classify in progress whose completion handle this is.
pub(super) fn pend_operation(completion_handle: usize) -> Option<usize> {
    let s = session();
    let found = with_engine(|e| {
        if completion_handle < 8 || !e.active.contains(&(completion_handle - 8)) {
            return None;
        }
        e.next_handle += 1;
        let c = 0x0BE4_0000 + (e.next_handle as usize) * 16;
        e.operations.insert(c, (false, s));
        Some(c)
    });
    if found.is_none() {
        report::report(vec![v(
            Rule::PendedOperationMisuse,
            "FwpsPendOperation0",
            format!("{completion_handle:#x} is not the completion handle of a classify in progress"),
        )]);
    }
    found
}

/// `FwpsCompleteOperation0`'s transition.
pub(super) fn complete_operation(context: usize) {
    let msg = with_engine(|e| match e.operations.get_mut(&context) {
        Some((done, _)) if *done => Some(format!("operation {context:#x} completed twice")),
        Some((done, _)) => {
            *done = true;
            e.completed_operations.push(context);
            None
        }
        None => Some(format!("{context:#x} is not a completion context the engine gave")),
    });
    if let Some(msg) = msg {
        report::report(vec![v(Rule::PendedOperationMisuse, "FwpsCompleteOperation0", msg)]);
    }
}

/// Takes the completion contexts of the operations completed
/// (`FwpsCompleteOperation0`) since the last call: the engine then
/// re-authorizes each (a test classifies again with
/// `FWP_CONDITION_FLAG_IS_REAUTHORIZE`).
pub fn completed_operations() -> Vec<u64> {
    with_engine(|e| std::mem::take(&mut e.completed_operations)).into_iter().map(|c| c as u64).collect()
}

/// `FwpsAcquireWritableLayerDataPointer0`'s transition: the connect request
/// of the handle's classify, if it is a connect-redirect classify.
pub(super) fn writable(h: u64) -> Option<*mut FWPS_CONNECT_REQUEST0> {
    with_engine(|e| {
        let hd = e.handles.get(&h)?;
        if hd.state != HandleState::Acquired {
            return None;
        }
        e.requests.get(&hd.context).map(|r| r.0)
    })
}

/// `FwpsApplyModifiedLayerData0`'s transition: records the redirection.
///
/// # Safety
///
/// None: `data` is only compared with what [`writable`] gave for `h`.
pub(super) unsafe fn apply(h: u64, data: usize) -> bool {
    let Some(req) = writable(h).filter(|p| p.addr() == data) else {
        report::report(vec![v(
            Rule::ClassifyHandleMisuse,
            "FwpsApplyModifiedLayerData0",
            format!("{data:#x} is not the writable layer data acquired with classify handle {h:#x}"),
        )]);
        return false;
    };
    // SAFETY: the engine's request, live until its classify returns (which
    // it has not: the handle is acquired for it).
    let req = unsafe { &*req };
    let r = Redirection {
        remote: sockaddr_of(&req.remoteAddressAndPort),
        redirect_handle: req.localRedirectHandle.addr(),
        target_pid: req.localRedirectTargetPID,
    };
    with_engine(|e| e.redirections.push(r));
    true
}

/// Takes the connects callouts redirected.
pub fn redirections() -> Vec<Redirection> {
    with_engine(|e| std::mem::take(&mut e.redirections))
}

/// `FwpsRedirectHandleCreate0`'s transition.
pub(super) fn create_redirect_handle() -> usize {
    with_engine(|e| {
        e.next_handle += 1;
        let h = 0x0DE0_0000 + (e.next_handle as usize) * 16;
        e.redirect_handles.push(h);
        h
    })
}

/// `FwpsRedirectHandleDestroy0`'s transition; false when not a live handle.
pub(super) fn destroy_redirect_handle(h: usize) -> bool {
    with_engine(|e| match e.redirect_handles.iter().position(|&x| x == h) {
        Some(i) => {
            e.redirect_handles.remove(i);
            true
        }
        None => false,
    })
}

/// How many redirect handles are alive.
pub fn redirect_handles() -> usize {
    with_engine(|e| e.redirect_handles.len())
}
