// Misuse: forgetting an OID request and returning the proof another
// handler call gave (kept in a static), so that this request is never
// completed: the proof's lifetime is its call's, invariant.
// Raw twin: ndis-sim tests/lwf_oid.rs `oid_never_completed_watchdog_and_twin`
// (a request never completed).
use std::sync::Mutex;

use ndis_safe::filter::{AttachParameters, Filter, Module, OidHandled, OidRequest};
use ndis_safe::{NoContext, Status, Tag};

struct F;

static KEPT: Mutex<Option<OidHandled<'static>>> = Mutex::new(None);

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn oid_request<'c>(&'c self, _: &'c Module<Self>, request: OidRequest<'c, Self>) -> OidHandled<'c> {
        match KEPT.lock().unwrap().take() {
            Some(earlier) => {
                core::mem::forget(request);
                earlier
            }
            None => request.pass_down(),
        }
    }
}

fn main() {}
