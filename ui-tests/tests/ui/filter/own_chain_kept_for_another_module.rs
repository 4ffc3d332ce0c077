// Misuse: keeping an own chain made in one module's handler call to send it
// later through another module (the NBLs' SourceHandle names the first
// one): an own chain is bound to the call it is made in, and goes only
// through the module it was made for.
// Raw twin: ndis-sim tests/lwf.rs `wrong_filter_probe_and_twin` (the
// NBL given back by a module that does not hold it) and
// `source_handle_changed_probe_and_twin`.
use std::cell::RefCell;

use ndis_safe::filter::{AttachParameters, Filter, Module, OwnChain, SendChain};
use ndis_safe::{NblPool, NoContext, Status, Tag, pool::prealloc::WithData};

struct F {
    pool: NblPool<NoContext, WithData>,
}

thread_local! {
    static KEPT: RefCell<Option<OwnChain<'static, F>>> = const { RefCell::new(None) };
}

impl Filter for F {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Err(Status::FAILURE)
    }

    fn send<'c>(&'c self, module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        let mut own = OwnChain::new(module);
        if let Ok(nbl) = self.pool.allocate(NoContext) {
            let _ = own.push(nbl);
        }
        // Kept, for the next send handler call (of any module).
        KEPT.with(|k| *k.borrow_mut() = Some(own));
        chain.send_down();
    }

    fn own_pool(&self) -> Option<&NblPool<NoContext, WithData>> {
        Some(&self.pool)
    }
}

fn main() {}
