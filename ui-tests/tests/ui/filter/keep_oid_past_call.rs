// Misuse: keeping an OID request past the handler call, to complete it
// later (the request is bound to the call: it is passed down — the
// library completes it when the clone completes — or answered in it).
// Raw twin: ndis-sim tests/lwf_oid.rs `oid_never_completed_watchdog_and_twin`
// (a request kept and never completed).
use std::cell::RefCell;

use ndis_safe::filter::{AttachParameters, Filter, Module, OidHandled, OidRequest};
use ndis_safe::{NoContext, Status, Tag};

struct F;

thread_local! {
    static KEPT: RefCell<Option<OidRequest<'static, F>>> = const { RefCell::new(None) };
}

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn oid_request<'c>(&'c self, _: &'c Module<Self>, request: OidRequest<'c, Self>) -> OidHandled<'c> {
        KEPT.with(|k| *k.borrow_mut() = Some(request));
        unreachable!("answered later, from KEPT")
    }
}

fn main() {}
