// Misuse: pushing a second context on the NBL itself while the first is on
// top, so that the first could be popped before the second.
// Raw twin: ndis-sim tests/verifier.rs `context_freed_out_of_order`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Mark(u64);

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let mut nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let _ = nbl.with_context(TAG, Mark(1), |_first| {
        let _ = nbl.with_context(TAG, Mark(2), |_second| ());
    });
}
