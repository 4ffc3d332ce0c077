// Misuse: injecting through a handle after destroying it (dropping the
// handle destroys it, once every pending injection has completed).
// Raw twin: ndis-sim tests/verifier.rs `invalid_injection_handle`.
use ui_tests::*;
use ui_tests::wfp::{ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport, AF_INET};

fn done(_: Completed<ClonedPacket<Fwps>>) {}

fn classify(mut lent: BorrowedNbl<'_>) {
    let handle = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT).unwrap();
    let packet = lent.reference_and_clone::<Fwps, NoContext>(20, None, NoContext).unwrap();
    drop(handle);
    let _ = handle.inject(packet, Transport::receive(AF_INET), done);
}

fn main() {
    let _ = classify;
}
