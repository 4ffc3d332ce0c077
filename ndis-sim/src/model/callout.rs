//! Callouts registered with the (simulated) filter engine.

use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::FWPS_CALLOUT0;

/// A registered callout: its id and registration.
pub(crate) struct Callout {
    pub id: u32,
    pub callout: FWPS_CALLOUT0,
}
// SAFETY: the registration holds function pointers and a GUID.
unsafe impl Send for Callout {}

static CALLOUTS: Mutex<Vec<Callout>> = Mutex::new(Vec::new());
static NEXT_CALLOUT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// The registered callouts.
pub(crate) fn callouts() -> MutexGuard<'static, Vec<Callout>> {
    CALLOUTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers a callout; returns its run-time id.
pub(crate) fn register(callout: FWPS_CALLOUT0) -> u32 {
    let id = NEXT_CALLOUT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    callouts().push(Callout { id, callout });
    id
}

/// Unregisters a callout; false when no such id is registered.
pub(crate) fn unregister(id: u32) -> bool {
    let mut all = callouts();
    match all.iter().position(|c| c.id == id) {
        Some(i) => {
            all.remove(i);
            true
        }
        None => false,
    }
}
