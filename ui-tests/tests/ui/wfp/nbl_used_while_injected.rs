// Misuse: using a packet after injecting it, while the stack owns it (until
// its completion gives it back).
// Raw twin: ndis-sim tests/verifier.rs `net_buffer_list_owned_by_the_stack_while_injected`.
use ui_tests::*;
use ui_tests::wfp::{ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport, AF_INET};

fn done(_: Completed<ClonedPacket<Fwps>>) {}

fn classify(handle: &InjectionHandle, mut lent: BorrowedNbl<'_>) {
    let packet = lent.reference_and_clone::<Fwps, NoContext>(20, None, NoContext).unwrap();
    handle.inject(packet, Transport::receive(AF_INET), done).unwrap();
    let _ = packet.first();
}

fn main() {
    let _ = (classify, InjectionTypes::TRANSPORT);
}
