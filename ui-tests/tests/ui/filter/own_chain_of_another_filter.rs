// Misuse: sending one filter's own NBLs down through a module of another
// filter driver (its chain, its handle): the own chain's filter type is
// the module's.
// Raw twin: ndis-sim tests/lwf.rs `wrong_filter_probe_and_twin` (an NBL
// given back by a module that does not hold it) and
// `source_handle_changed_probe_and_twin`.
use ndis_safe::filter::{AttachParameters, Filter, Module, OwnChain, SendChain};
use ndis_safe::{NoContext, Status, Tag};

struct A;
struct B;

impl Filter for A {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"FltA");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(A)
    }
}

impl Filter for B {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"FltB");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(B)
    }
}

fn through_b<'c>(chain: SendChain<'c, B>, own: OwnChain<'c, A>) {
    let _ = chain.send_down_with(own);
}

fn main() {}
