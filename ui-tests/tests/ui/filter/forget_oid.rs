// Misuse: forgetting an OID request (mem::forget), so that it is never
// completed: the handler must return the proof only ending the request
// gives, and a forgotten request gives none.
// Raw twin: ndis-sim tests/lwf_oid.rs `oid_never_completed_watchdog_and_twin`
// (a request never completed).
use ndis_safe::filter::{AttachParameters, Filter, Module, OidHandled, OidRequest};
use ndis_safe::{NoContext, Status, Tag};

struct F;

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn oid_request<'c>(&'c self, _: &'c Module<Self>, request: OidRequest<'c, Self>) -> OidHandled<'c> {
        core::mem::forget(request);
    }
}

fn main() {}
