// Misuse: freeing a pool while an NBL allocated from it lives.
// Raw twin: ndis-sim tests/verifier.rs `pool_freed_with_outstanding_allocations`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    drop(pool);
    drop(nbl);
}
