// Misuse: keeping a receive past the handler call — with
// NDIS_RECEIVE_FLAGS_RESOURCES the miniport regains the NBLs when the
// handler returns (every chain is bound to the call).
// Raw twin: ndis-sim tests/lwf.rs `resources_nbl_returned_probe_and_twin`.
use std::cell::RefCell;

use ndis_safe::filter::{AttachParameters, Filter, Module, RecvChain};
use ndis_safe::{NoContext, Status, Tag};

struct F;

thread_local! {
    static KEPT: RefCell<Option<RecvChain<'static, F>>> = const { RefCell::new(None) };
}

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn receive<'c>(&'c self, _: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        if chain.low_resources() {
            KEPT.with(|k| *k.borrow_mut() = Some(chain));
        }
    }
}

fn main() {}
