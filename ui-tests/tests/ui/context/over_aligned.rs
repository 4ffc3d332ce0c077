// Misuse: a context area aligned beyond MEMORY_ALLOCATION_ALIGNMENT.
// Raw twin: ndis-sim tests/verifier.rs `misaligned_context_size`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C, align(64))]
struct OverAligned {
    line: [u8; 64],
}

fn main() {}
