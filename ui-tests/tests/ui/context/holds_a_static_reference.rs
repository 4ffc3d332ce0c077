// Misuse: a context area holding a `'static` reference, nested in a generic
// argument: not plain data, rejected naming the field.
// Raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

#[derive(ContextArea)]
#[repr(C)]
struct Named {
    id: u64,
    name: Option<&'static [u8; 8]>,
}

fn main() {}
