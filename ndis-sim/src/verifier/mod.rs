//! The verifier: the rules the DDI documentation states, each checked in
//! one place, and what happens when one is broken.
//!
//! A broken rule is a [`Violation`]: the [`Rule`], a message naming the
//! objects involved (by the ids [`crate::draw`] uses) and the DDI that saw it.
//! By default a violation panics, as a bugcheck stops the machine; since the
//! DDIs are `extern "system"` functions, which cannot unwind, that panic
//! ends the process after printing the report. A test that means to break a
//! rule runs in a [`Session::collecting`](crate::Session::collecting)
//! session and reads the reports.
//!
//! The checks are grouped by what they look at: [`objects`] (is it an
//! object of that kind, alive, the caller's, freed with the right
//! function), [`pool`] (pool parameters and pool kinds), [`data`] (offsets
//! inside MDL chains), [`clone`] (clones and lent NBLs given back as they
//! were made), [`irql`] (the IRQL a DDI is called at, and dispatch-level
//! flags). Each returns whether the DDI may go on, after pushing what
//! it found.

pub(crate) mod clone;
pub(crate) mod data;
pub(crate) mod irql;
pub(crate) mod objects;
pub(crate) mod pool;
pub(crate) mod report;
mod rule;

pub use rule::{Rule, Violation};

use crate::model::{self, State};

/// Runs `f` on the model's state, then reports what it found (after the
/// lock is released, so that a reporting panic leaves the state usable).
pub(crate) fn with<R>(f: impl FnOnce(&mut State, &mut Vec<Violation>) -> R) -> R {
    let mut found = Vec::new();
    let r = { f(&mut model::lock(), &mut found) };
    if !found.is_empty() {
        report::report(found);
    }
    r
}

/// A violation, ready to push.
pub(crate) fn v(rule: Rule, ddi: &'static str, message: impl Into<String>) -> Violation {
    Violation { rule, ddi, message: message.into() }
}
