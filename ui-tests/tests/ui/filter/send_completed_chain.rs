// Misuse: sending down a chain already completed up.
// Raw twin: ndis-sim tests/lwf.rs `sent_after_completed_probe_and_twin`.
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
        let (blocked, pass) = chain.split(|nbl| nbl.status() != 0);
        blocked.complete(Status::FAILURE);
        pass.send_down();
        blocked.send_down();
    }
}

fn main() {}
