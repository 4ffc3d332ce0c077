// Misuse: releasing the reference on a clone's parent while the clone lives
// (the stack would complete the parent under its clone).
// Raw twin: ndis-sim tests/verifier.rs `parent_freed_with_live_clones`.
use ui_tests::*;

fn classify(lent: BorrowedNbl<'_>) {
    let reference = lent.reference();
    let packet = reference.into_clone::<Fwps, NoContext>(None, NoContext).unwrap();
    drop(reference);
    drop(packet);
}

fn main() {
    let _ = classify;
}
