// Misuse: popping contexts out of order (the first before the second).
// Raw twin: ndis-sim tests/verifier.rs `context_freed_out_of_order`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Mark(u64);

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let mut nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let first = nbl.push_context(TAG, Mark(1)).unwrap();
    let second = nbl.push_context(TAG, Mark(2)).unwrap();
    drop(first);
    drop(second);
}
