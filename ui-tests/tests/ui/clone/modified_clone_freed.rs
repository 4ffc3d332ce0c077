// Misuse: freeing a clone in the middle of its modification, with the
// change not undone.
// Raw twin: ndis-sim tests/verifier.rs `clone_freed_while_modified`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let parent = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let mut clone = parent.clone_nbl::<Fwps>().unwrap();
    clone.modify(|mut changes| {
        let _undo = changes.retreat(8).unwrap();
        drop(clone);
    });
}
