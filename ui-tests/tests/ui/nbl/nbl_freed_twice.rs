// Misuse: freeing an NBL twice.
// Raw twin: ndis-sim tests/verifier.rs `double_free`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    drop(nbl);
    drop(nbl);
}
