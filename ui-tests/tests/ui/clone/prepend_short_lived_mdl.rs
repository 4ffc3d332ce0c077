// Misuse: a header MDL that dies before the clone it heads, accepted by
// shortening the clone's lifetime (it is invariant): the clone's undo, or
// its injection, would read the freed MDL.
// Miri twin: ndis-safe tests/leaks.rs
// `a_forgotten_clone_with_a_prepended_header_leaks_it_and_the_parent`;
// raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use core::num::NonZeroU32;
use ui_tests::*;

fn main() {
    let options = NblPoolOptions::new(TAG).with_data(NonZeroU32::new(32).unwrap());
    let pool: NblPool<NoContext, _> = NblPool::new(&owner(), options).unwrap();
    let parent = pool.allocate(NoContext).unwrap();
    let mut clone = parent.clone_nbl::<Fwps>().unwrap();
    clone.modify(|changes| {
        let mut changes: ndis_safe::clone::Changes<'_, '_, '_> = changes;
        let mut header = [0u8; 8];
        let mut mdl = Mdl::new(&owner(), &mut header).unwrap();
        let _ = changes.prepend(&mut mdl);
    });
}
