// Misuse: applying one clone's undo record to another clone (crossed brands).
// Raw twin: ndis-sim tests/verifier.rs `clone_freed_while_modified` (the
// first clone stays modified).
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let parent = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let mut a = parent.clone_nbl::<Fwps>().unwrap();
    let mut b = parent.clone_nbl::<Fwps>().unwrap();
    a.modify(|mut on_a| {
        let undo_a = on_a.retreat(8).unwrap();
        b.modify(|mut on_b| {
            on_b.undo(undo_a).unwrap();
        });
    });
}
