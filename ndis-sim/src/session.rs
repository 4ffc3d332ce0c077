//! Sessions: one test's use of the simulator, and what runs between them.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::model::SESSION;
use crate::model::injection::reset_injection_mode;
use crate::verifier::report::{self, Mode};
use crate::verifier::{Rule, Violation};

/// Serializes sessions: the simulator is one machine.
static SESSIONS: Mutex<()> = Mutex::new(());

/// Runs `f` between sessions: what it allocates belongs to no session, so
/// no session's [`Session::leaks`] lists it — for state meant to outlive
/// tests, as a driver's pools outlive its packets (a pool in a static).
/// Waits for the running session, if any, to end; do not call it while this
/// thread holds a [`Session`].
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    let _serial = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    // No session runs: objects are stamped with the last, ended session's
    // number, which no live session reports.
    SESSION.fetch_add(1, Ordering::SeqCst);
    f()
}

/// One test's use of the simulator.
///
/// Sessions run one at a time (a second `Session::new` waits for the first
/// to be dropped), so that reports and leak checks of tests running in
/// parallel threads do not mix. Objects are stamped with the session that
/// allocated them; [`Session::leaks`] lists this session's. Objects made
/// before the session (a pool kept for a driver's lifetime) are not this
/// session's leaks.
#[must_use = "the session ends when this is dropped"]
pub struct Session {
    _serial: MutexGuard<'static, ()>,
}

impl Session {
    /// A session in which a violation panics (the default, like a bugcheck).
    pub fn new() -> Session {
        Session::begin(Mode::Panic)
    }

    /// A session that collects violations for [`Session::reports`] instead
    /// of panicking.
    pub fn collecting() -> Session {
        Session::begin(Mode::Collect)
    }

    fn begin(mode: Mode) -> Session {
        let serial = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
        SESSION.fetch_add(1, Ordering::SeqCst);
        report::reset(mode);
        reset_injection_mode();
        Session { _serial: serial }
    }

    /// Takes the violations collected so far.
    pub fn reports(&self) -> Vec<Violation> {
        report::take()
    }

    /// The rules broken so far (taking the reports).
    pub fn rules(&self) -> Vec<Rule> {
        self.reports().into_iter().map(|v| v.rule).collect()
    }

    /// What this session allocated and has not freed.
    pub fn leaks(&self) -> crate::LeakReport {
        crate::leaks::leaks(SESSION.load(Ordering::SeqCst))
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        report::reset(Mode::Panic);
    }
}
