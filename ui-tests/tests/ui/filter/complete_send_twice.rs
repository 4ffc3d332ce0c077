// Misuse: completing a send chain twice (NdisFSendNetBufferListsComplete
// on NBLs already completed).
// Raw twin: ndis-sim tests/lwf.rs `completed_twice_probe_and_twin`.
use ndis_safe::filter::{AttachParameters, Filter, Module, SendChain};
use ndis_safe::{NoContext, Status, Tag};

struct F;

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn send<'c>(&'c self, _: &'c Module<Self>, chain: SendChain<'c, Self>) {
        chain.complete(Status::FAILURE);
        chain.complete(Status::FAILURE);
    }
}

fn main() {}
