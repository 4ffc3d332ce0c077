// Misuse: a context area holding a borrowed reference (the NBL may outlive it).
// Raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Borrowing<'a> {
    name: &'a [u8; 16],
}

fn main() {}
