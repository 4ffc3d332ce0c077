// Misuse: returning (NdisFReturnNetBufferLists) receives already indicated
// up: the layer above returns them.
// Raw twin: ndis-sim tests/lwf.rs `returned_twice_probe_and_twin`.
use ndis_safe::filter::{AttachParameters, Filter, Module, RecvChain};
use ndis_safe::{NoContext, Status, Tag};

struct F;

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn receive<'c>(&'c self, _: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        chain.indicate_up();
        chain.give_back();
    }
}

fn main() {}
