// Misuse: using an NBL after freeing it.
// Raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    drop(nbl);
    let _ = nbl.context();
}
