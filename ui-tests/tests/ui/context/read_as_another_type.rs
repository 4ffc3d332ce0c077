// Misuse: reading an NBL's context area as a type other than its pool's.
// Raw twin: ndis-sim tests/verifier.rs `context_freed_out_of_order` (the
// raw DDIs cannot see types; sizes are what they check).
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let other: &Other = nbl.context();
    let _ = other;
}
