// Misuse: a context area with a Drop NDIS would never run.
// Raw twin: ndis-sim tests/verifier.rs `context_left_allocated`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Guarded {
    a: u64,
    b: u64,
}

impl Drop for Guarded {
    fn drop(&mut self) {}
}

fn main() {}
