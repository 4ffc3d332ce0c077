//! Callouts registered with the (simulated) filter engine.

use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::{
    FWPS_CALLOUT_CLASSIFY_FN0, FWPS_CALLOUT_CLASSIFY_FN1, FWPS_CALLOUT_CLASSIFY_FN2, FWPS_CALLOUT_CLASSIFY_FN3,
    FWPS_CALLOUT_FLOW_DELETE_NOTIFY_FN0, FWPS_CALLOUT0, GUID,
};

/// A callout's classify function, with the signature of the DDI that
/// registered it.
#[derive(Clone, Copy)]
pub(crate) enum ClassifyFn {
    V0(FWPS_CALLOUT_CLASSIFY_FN0),
    V1(FWPS_CALLOUT_CLASSIFY_FN1),
    V2(FWPS_CALLOUT_CLASSIFY_FN2),
    V3(FWPS_CALLOUT_CLASSIFY_FN3),
}

/// A registered callout: its id, key, functions, and what references it.
pub(crate) struct Callout {
    pub id: u32,
    pub key: GUID,
    pub classify: ClassifyFn,
    pub flow_delete: FWPS_CALLOUT_FLOW_DELETE_NOTIFY_FN0,
    /// Filters that reference it (a test's or the management API's).
    pub filters: u32,
    /// Classifies of it in progress.
    pub in_progress: u32,
}
// SAFETY: the registration holds function pointers and a GUID.
unsafe impl Send for Callout {}

impl Callout {
    /// The version-0 classify function, if it was registered with version 0.
    pub(crate) fn classify0(&self) -> FWPS_CALLOUT_CLASSIFY_FN0 {
        match self.classify {
            ClassifyFn::V0(f) => f,
            _ => None,
        }
    }
}

static CALLOUTS: Mutex<Vec<Callout>> = Mutex::new(Vec::new());
static NEXT_CALLOUT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// The registered callouts.
pub(crate) fn callouts() -> MutexGuard<'static, Vec<Callout>> {
    CALLOUTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers a version-0 callout; returns its run-time id.
pub(crate) fn register(callout: FWPS_CALLOUT0) -> u32 {
    register_any(callout.calloutKey, ClassifyFn::V0(callout.classifyFn), callout.flowDeleteFn)
}

/// Registers a callout of any version; returns its run-time id.
pub(crate) fn register_any(key: GUID, classify: ClassifyFn, flow_delete: FWPS_CALLOUT_FLOW_DELETE_NOTIFY_FN0) -> u32 {
    let id = NEXT_CALLOUT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    callouts().push(Callout { id, key, classify, flow_delete, filters: 0, in_progress: 0 });
    id
}

/// Whether a callout with `key` is registered.
pub(crate) fn key_registered(key: &GUID) -> bool {
    callouts().iter().any(|c| same_guid(&c.key, key))
}

/// GUID equality.
pub(crate) fn same_guid(a: &GUID, b: &GUID) -> bool {
    a.Data1 == b.Data1 && a.Data2 == b.Data2 && a.Data3 == b.Data3 && a.Data4 == b.Data4
}

/// What unregistering found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unregistered {
    Done,
    Busy,
    Unknown,
}

/// Unregisters a callout unless filters reference it or classifies of it
/// are in progress.
pub(crate) fn unregister_where(matches: impl Fn(&Callout) -> bool) -> Unregistered {
    let mut all = callouts();
    match all.iter().position(matches) {
        Some(i) if all[i].filters > 0 || all[i].in_progress > 0 => Unregistered::Busy,
        Some(i) => {
            all.remove(i);
            Unregistered::Done
        }
        None => Unregistered::Unknown,
    }
}
