// Misuse: a pushed context whose size is not a multiple of the pointer size.
// Raw twin: ndis-sim tests/verifier.rs `misaligned_context_size`.
use ui_tests::*;

#[derive(PushedContext)]
#[repr(C)]
struct Odd {
    a: u32,
    b: u16,
    c: u16,
    d: u32,
}

fn main() {}
