// Misuse: a pushed context holding a reference, even `&'static mut`: a
// context is bytes NDIS keeps with the NBL, and a reference read from them
// is trusted by safe code.
// Miri twin: ndis-safe tests/leaks.rs
// `a_pushed_context_is_popped_even_when_its_closure_panics_or_forgets`;
// raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Holding {
    count: u64,
    target: &'static mut u64,
}

fn main() {}
