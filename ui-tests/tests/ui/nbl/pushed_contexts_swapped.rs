// Misuse: swapping the pushed contexts of two NBLs, so that one NBL's view
// outlives the pop of the context it now names (invariant brands per call).
// Miri twin: ndis-safe tests/leaks.rs
// `a_pushed_context_is_popped_even_when_its_closure_panics_or_forgets`;
// raw twin: ndis-sim tests/verifier.rs `context_freed_out_of_order`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Mark(u64);

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let mut a = pool.allocate(Flow { id: 1, bytes: 0 }).unwrap();
    let mut b = pool.allocate(Flow { id: 2, bytes: 0 }).unwrap();
    let _ = a.with_context(TAG, Mark(1), |on_a| {
        let _ = b.with_context(TAG, Mark(2), |on_b| core::mem::swap(on_a, on_b));
        on_a.0 += 1;
    });
}
