// Misuse: keeping an undo record past its modification, to apply it later
// (to whatever clone is modified then).
// Raw twin: ndis-sim tests/verifier.rs `clone_freed_while_modified`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let parent = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let mut clone = parent.clone_nbl::<Fwps>().unwrap();
    let undo = clone.modify(|mut changes| changes.retreat(8).unwrap());
    drop(undo);
}
