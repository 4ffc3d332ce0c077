//! Pended operations (`FwpsPendOperation0`, `FwpsCompleteOperation0`),
//! writable layer data with connect and bind redirection, redirect
//! handles, and redirect records (`FwpsQueryConnectionRedirectState0`).

use fwps_sys::*;

use super::engine::{HandleState, Redirection, Request, session, sockaddr_of, with_engine};
use crate::verifier::{Rule, report, v};

/// The completion context numbered `n`.
pub(super) fn operation_id(n: u64) -> usize {
    0x0BE4_0000 + (n as usize) * 16
}

/// `FwpsPendOperation0`'s transition: a completion context for the
/// classify in progress whose completion handle this is.
pub(super) fn pend_operation(completion_handle: usize) -> Option<usize> {
    let s = session();
    let found = with_engine(|e| {
        if completion_handle < 8 || !e.active.contains(&(completion_handle - 8)) {
            return None;
        }
        e.next_handle += 1;
        let c = operation_id(e.next_handle);
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

/// `FwpsAcquireWritableLayerDataPointer0`'s transition: the connect or
/// bind request of the handle's classify, if it is a redirect classify.
pub(super) fn writable(h: u64) -> Option<Request> {
    with_engine(|e| {
        let hd = e.handles.get(&h)?;
        if hd.state != HandleState::Acquired {
            return None;
        }
        e.requests.get(&hd.context).copied()
    })
}

/// `FwpsApplyModifiedLayerData0`'s transition: records the redirection.
///
/// # Safety
///
/// None: `data` is only compared with what [`writable`] gave for `h`.
pub(super) unsafe fn apply(h: u64, data: usize) -> bool {
    let Some(req) = writable(h).filter(|p| p.ptr().addr() == data) else {
        report::report(vec![v(
            Rule::ClassifyHandleMisuse,
            "FwpsApplyModifiedLayerData0",
            format!("{data:#x} is not the writable layer data acquired with classify handle {h:#x}"),
        )]);
        return false;
    };
    match req {
        Request::Connect(req, records) => {
            // SAFETY: the engine's request, live until its classify returns
            // (which it has not: the handle is acquired for it).
            let req = unsafe { &*req };
            let r = Redirection {
                remote: sockaddr_of(&req.remoteAddressAndPort),
                redirect_handle: req.localRedirectHandle.addr(),
                target_pid: req.localRedirectTargetPID,
            };
            with_engine(|e| {
                // A redirection by a redirect handle goes on the connection's
                // records, which later classifies of it (a proxy's connection
                // on its behalf) carry.
                if r.redirect_handle != 0
                    && let Some(list) = records.and_then(|id| e.records.get_mut(&id))
                {
                    list.push(r.redirect_handle);
                }
                e.redirections.push(r);
            });
        }
        Request::Bind(req) => {
            // SAFETY: as above.
            let local = sockaddr_of(unsafe { &(*req).localAddressAndPort });
            with_engine(|e| e.bind_redirections.push(local));
        }
    }
    true
}

/// Takes the binds callouts redirected: the local address and port each
/// now binds to.
pub fn bind_redirections() -> Vec<Option<std::net::SocketAddr>> {
    with_engine(|e| std::mem::take(&mut e.bind_redirections))
}

/// `FwpsQueryConnectionRedirectState0`'s answer for redirect records
/// `records` and redirect handle `handle`: not redirected (no records, or
/// empty ones), redirected by this handle last (`BY_SELF`), by it earlier
/// and by another since (`PREVIOUSLY_REDIRECTED_BY_SELF`), or by others
/// only (`BY_OTHER`). Records the engine never gave are reported.
pub(super) fn redirect_state(records: u64, handle: usize) -> FWPS_CONNECTION_REDIRECT_STATE {
    let found = with_engine(|e| e.records.get(&records).cloned());
    let Some(list) = found else {
        report::report(vec![v(
            Rule::ClassifyHandleMisuse,
            "FwpsQueryConnectionRedirectState0",
            format!("{records:#x} is not redirect records the engine passed"),
        )]);
        return FWPS_CONNECTION_NOT_REDIRECTED;
    };
    match list.iter().rposition(|&h| h == handle) {
        Some(i) if i + 1 == list.len() => FWPS_CONNECTION_REDIRECTED_BY_SELF,
        Some(_) => FWPS_CONNECTION_PREVIOUSLY_REDIRECTED_BY_SELF,
        None if list.is_empty() => FWPS_CONNECTION_NOT_REDIRECTED,
        None => FWPS_CONNECTION_REDIRECTED_BY_OTHER,
    }
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
