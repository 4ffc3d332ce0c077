// Misuse: a header MDL put in front of a referenced clone (a ClonedPacket,
// which may be injected and outlive the call) that dies before the packet.
// Miri twin: ndis-safe tests/leaks.rs
// `a_forgotten_clone_with_a_prepended_header_leaks_it_and_the_parent`;
// raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

fn classify(mut lent: BorrowedNbl<'_>) {
    let mut packet = lent.reference_and_clone::<Fwps, NoContext>(20, None, NoContext).unwrap();
    packet.modify(|changes| {
        let mut changes: ndis_safe::clone::Changes<'_, '_, '_> = changes;
        let mut header = [0u8; 8];
        let mut mdl = Mdl::new(&owner(), &mut header).unwrap();
        let _ = changes.prepend(&mut mdl);
    });
}

fn main() {}
