// Misuse: completing an OID request twice (answering it, then answering
// or passing it down again: NdisFOidRequestComplete on a request already
// completed).
// Raw twin: ndis-sim tests/lwf_oid.rs `oid_completed_twice_probe_and_twin`.
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
        let _ = request.fail(Status::FAILURE);
        request.pass_down()
    }
}

fn main() {}
