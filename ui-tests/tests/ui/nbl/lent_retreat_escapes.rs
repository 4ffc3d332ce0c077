// Misuse: keeping the view of a retreated lent NBL past the call that
// advances it back (the stack gets its NBL back as it came, always).
// Miri twin: ndis-safe tests/leaks.rs
// `a_lent_nbl_goes_back_as_it_came_whatever_the_closures_do`;
// raw twin: ndis-sim tests/verifier.rs `stack_net_buffer_list_returned_modified`.
use ui_tests::*;

fn classify(mut lent: BorrowedNbl<'_>) {
    let retreated = lent.with_retreat(20, |r| r).unwrap();
    let _ = retreated.first();
}

fn main() {}
