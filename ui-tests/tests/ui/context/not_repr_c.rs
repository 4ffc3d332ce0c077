// Misuse: a context area whose layout Rust may reorder.
// Raw twin: ndis-sim tests/verifier.rs `misaligned_context_size`.
use ui_tests::*;

#[derive(ContextArea)]
struct Unfixed {
    a: u64,
    b: u64,
}

fn main() {}
