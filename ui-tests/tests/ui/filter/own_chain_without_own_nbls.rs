// Misuse: a filter that declares no own NBLs (`OWN_NBLS` false, so the
// library hands everything that comes back on unsplit, as passed through)
// making an own chain: its NBLs would be completed up to the protocol as if
// they were the protocol's.
// Raw twin: ndis-sim tests/lwf.rs `wrong_filter_probe_and_twin` (an NBL
// given back to a layer that never had it).
use ndis_safe::filter::{AttachParameters, Filter, Module, OwnChain, SendChain};
use ndis_safe::{NoContext, Status, Tag};

struct F;

impl Filter for F {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Fltr");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(F)
    }

    fn send<'c>(&'c self, module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        let own = OwnChain::new(module);
        let _ = chain.send_down_with(own);
    }
}

fn main() {
    // Instantiates the filter's handlers, as registering it does.
    // SAFETY: never run (a compile-fail case).
    let _ = unsafe { ndis_safe::filter::FilterDriver::<F>::register(core::ptr::null_mut(), &REG) };
}

const REG: ndis_safe::filter::Registration = ndis_safe::filter::Registration {
    friendly: ndis_safe::filter::Name(ndis_safe::utf16!("F")),
    unique: ndis_safe::filter::Name(ndis_safe::utf16!("{00000000-0000-0000-0000-000000000000}")),
    service: ndis_safe::filter::Name(ndis_safe::utf16!("f")),
    version: (1, 0),
};
