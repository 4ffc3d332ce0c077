// Misuse: a clone of an NBL the stack lent, kept after the loan ends (the
// stack completes the parent with a live clone).
// Raw twin: ndis-sim tests/verifier.rs `parent_freed_with_live_clones`.
use ui_tests::*;

fn classify<'a>(lent: BorrowedNbl<'a>) -> FwpsClone<'static> {
    lent.clone_nbl::<Fwps>().unwrap()
}

fn main() {}
