// Misuse: a clone of an NBL the stack lent, kept after the scope that frees
// it (the stack would complete the parent with a live clone).
// Miri twin: ndis-safe tests/leaks.rs
// `a_lent_nbl_goes_back_as_it_came_whatever_the_closures_do`;
// raw twin: ndis-sim tests/verifier.rs `parent_freed_with_live_clones`.
use ui_tests::*;

fn classify(mut lent: BorrowedNbl<'_>) {
    let kept = lent.with_clone::<Fwps, NoContext, _>(0, None, NoContext, |clone| clone).unwrap();
    let _ = kept.is_clone();
}

fn main() {}
