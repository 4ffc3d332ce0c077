// Misuse: a context area whose size is not a multiple of
// MEMORY_ALLOCATION_ALIGNMENT (24 bytes on a 64-bit target).
// Raw twin: ndis-sim tests/verifier.rs `misaligned_context_size`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Misaligned {
    a: u64,
    b: u64,
    c: u64,
}

fn main() {}
