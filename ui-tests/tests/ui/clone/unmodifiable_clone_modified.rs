// Misuse: changing a clone made unmodifiable (it records nothing, so its
// free could not undo a change).
// Raw twin: ndis-sim tests/verifier.rs `clone_freed_while_modified`.
use ui_tests::*;

fn classify(mut lent: BorrowedNbl<'_>) {
    let mut packet = lent.reference_and_clone_unmodifiable::<Fwps, NoContext>(20, None, NoContext).unwrap();
    packet.modify(|mut c| c.retreat(8).map(drop)).unwrap();
}

fn main() {
    let _ = classify;
}
