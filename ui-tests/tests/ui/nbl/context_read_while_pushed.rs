// Misuse: reading the NBL's own typed context while a pushed context is on
// top (the pushed block would be read as the pool's context type: out of
// bounds when it is smaller, forged references when the type holds them).
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
    let _ = nbl.with_context(TAG, Mark(1), |_mark| nbl.context().bytes);
}
