// Misuse: completing a pended classify twice (FwpsCompleteClassify0 and
// FwpsReleaseClassifyHandle0 on a handle already released): `complete`
// consumes the pend.
// Raw twin: ndis-sim tests/wfp_engine.rs `releasing_a_classify_handle_twice_is_reported`.
use ui_tests::wfp::decision::Decision;
use ui_tests::wfp::pend::PendedClassify;

fn decide(pended: PendedClassify) {
    pended.complete(Decision::Permit);
    pended.complete(Decision::Block);
}

fn main() {
    let _ = decide;
}
