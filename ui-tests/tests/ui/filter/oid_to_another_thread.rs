// Misuse: handing an OID request to another thread (to answer it there,
// after the handler returned): the request is neither Send nor 'static.
// Raw twin: ndis-sim tests/lwf_oid.rs `oid_never_completed_watchdog_and_twin`
// (a request kept past the call and never completed).
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
        std::thread::spawn(move || request.accept_set()).join().unwrap()
    }
}

fn main() {}
