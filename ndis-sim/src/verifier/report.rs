//! Where violations go: a panic like a bugcheck (the default), or the
//! current session's collection.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::Violation;

/// What a report does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Panic,
    Collect,
}

struct Reports {
    mode: Mode,
    collected: Vec<Violation>,
}

static REPORTS: Mutex<Reports> = Mutex::new(Reports { mode: Mode::Panic, collected: Vec::new() });

fn reports() -> MutexGuard<'static, Reports> {
    REPORTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets what a report does, forgetting what was collected.
pub(crate) fn reset(mode: Mode) {
    let mut r = reports();
    r.mode = mode;
    r.collected.clear();
}

/// Takes the violations collected so far.
pub(crate) fn take() -> Vec<Violation> {
    std::mem::take(&mut reports().collected)
}

/// Reports violations found by a DDI, after it released the simulator's
/// state (so a panic leaves the state usable).
#[cold]
#[inline(never)]
pub(crate) fn report(found: Vec<Violation>) {
    if found.is_empty() {
        return;
    }
    let mut r = reports();
    match r.mode {
        Mode::Collect => r.collected.extend(found),
        Mode::Panic => {
            drop(r);
            let text: Vec<String> = found.iter().map(ToString::to_string).collect();
            panic!("{}", text.join("\n"));
        }
    }
}
