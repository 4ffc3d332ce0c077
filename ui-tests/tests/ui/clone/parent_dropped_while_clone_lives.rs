// Misuse: freeing a parent NBL while a clone of it lives.
// Raw twin: ndis-sim tests/verifier.rs `parent_freed_with_live_clones`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let parent = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let clone = parent.clone_nbl::<Ndis>().unwrap();
    drop(parent);
    drop(clone);
}
