// Misuse: a context area that cannot cross processors (a completion may run
// on any), here a raw pointer.
// Raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Pointing {
    target: *mut u8,
    len: usize,
}

fn main() {}
