// Misuse: a context area larger than a USHORT can say.
// Raw twin: ndis-sim tests/verifier.rs `misaligned_context_size`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Huge {
    bytes: [u64; 8192],
}

fn main() {}
