// Misuse: keeping a pushed context past the call that pops it (it would
// then name whatever block is on top: the NBL's own context, or nothing).
// Miri twin: ndis-safe tests/leaks.rs
// `a_pushed_context_is_popped_even_when_its_closure_panics_or_forgets`;
// raw twin: ndis-sim tests/verifier.rs `context_freed_out_of_order`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Mark(u64);

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let mut nbl = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let kept = nbl.with_context(TAG, Mark(1), |mark| mark).unwrap();
    let _ = kept.0;
}
