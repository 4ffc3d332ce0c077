//! Part 2: the inspect flow a WFP callout runs on one lent packet, through
//! ndis-safe: classify is given a packet, references it, retreats it over
//! the IP header, clones it, advances it back, modifies the clone, injects
//! it; the completion gets the clone back, undoes the change, frees it and
//! releases the reference. Every step is drawn. Then: a synchronous and an
//! asynchronous injection failure.

use ndis_safe::clone::Fwps;
use ndis_safe::wfp::{AF_INET, ClonedPacket, Completed, InjectionHandle, InjectionTypes, Transport};
use ndis_safe::{BorrowedNbl, ContextArea, NblPool, NblPoolOptions, NdisHandle, Tag};

use crate::draw;

/// Per-packet state, in the clone's context area: no heap.
#[derive(ContextArea, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
pub struct Flow {
    seq: u64,
    sent: u64,
}

const IP_HEADER: u32 = 20;
const TUNNEL_HEADER: u32 = 8;

fn completed(mut c: Completed<ClonedPacket<Fwps, Flow>>) {
    let status = c.status();
    let packet = c.packet();
    println!("== completion of packet {}: {status:?}", packet.context().seq);
    draw("the clone, back from the stack (still modified)", packet);
    packet.undo_all();
    draw("the clone, restored; dropping it frees it, then releases the reference", packet);
}

/// What the callout's classify does with one packet.
fn classify(
    handle: &InjectionHandle,
    pool: &'static NblPool<Flow>,
    lent: &mut BorrowedNbl<'_>,
    seq: u64,
    to: Transport,
) {
    draw("classify is given the packet", lent);
    if handle.state(lent).is_self_injected() {
        println!("== our own packet: permitted");
        return;
    }
    let reference = lent.reference();
    // Retreated for the closure only: the library advances it back after,
    // so the stack gets it as it came.
    let packet = lent.with_retreat(IP_HEADER, |retreated| {
        draw("referenced, retreated over the IP header", retreated);
        reference.into_clone::<Fwps, Flow>(Some(pool), Flow { seq, sent: 0 })
    });
    let mut packet = match packet {
        Err(e) => return println!("== cannot retreat: {e}"),
        Ok(Err(e)) => return println!("== clone failed: {e}"),
        Ok(Ok(p)) => p,
    };
    draw("cloned; the original advanced back", lent);
    if let Err(e) = packet.modify(|mut c| c.retreat(TUNNEL_HEADER).map(drop)) {
        return println!("== modify failed: {e}");
    }
    packet.context_mut().sent = 1;
    draw("the clone, modified: a header MDL chained in front", &packet);
    match handle.inject(packet, to, completed) {
        Ok(()) => println!("== injected: the stack owns the clone until its completion"),
        Err(rejected) => {
            println!("== injection refused synchronously ({}); the packet is ours again", rejected.error);
            draw("the refused clone, dropped now (undone, freed, dereferenced)", &rejected.packet);
        }
    }
}

/// The clones' pool. It lives as long as the program, as a driver's lives
/// from attach to unload, and is made before the verifier's session
/// starts (so the session does not count it as a leak).
pub fn clone_pool() -> Option<&'static NblPool<Flow>> {
    // SAFETY: the simulator accepts any handle; a driver passes its own.
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    match ndis_sim::untracked(|| NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Insp")))) {
        Ok(p) => Some(Box::leak(Box::new(p))),
        Err(e) => {
            println!("pool: {e}");
            None
        }
    }
}

/// Runs the flow on four packets: transport send and receive, then a
/// synchronous and an asynchronous injection failure.
pub fn run(pool: &'static NblPool<Flow>) {
    let Ok(handle) = InjectionHandle::new(AF_INET, InjectionTypes::TRANSPORT) else { return };

    let mut packet = vec![0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    packet.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0, b'p', b'i', b'n', b'g', b'!', b'!', b'!', b'!']);
    let remote = Some(([10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0));

    for (seq, (what, to)) in
        [("transport send", Transport::send(AF_INET, remote)), ("transport receive", Transport::receive(AF_INET))]
            .into_iter()
            .enumerate()
    {
        println!("\n######## packet {seq}: {what}");
        let indicated = ndis_sim::StackNbl::indicate(&packet, IP_HEADER);
        // SAFETY: the simulated stack lends the NBL until `complete`.
        if let Some(mut lent) = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) } {
            classify(&handle, pool, &mut lent, seq as u64, to);
        }
        indicated.complete();
        println!("== classify returned; {} injection(s) pending", ndis_sim::pending_injections());
        ndis_sim::complete_all(0);
    }

    println!("\n######## packet 2: the injection fails synchronously");
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::FailSynchronously(ndis_sys::STATUS_INSUFFICIENT_RESOURCES));
    let indicated = ndis_sim::StackNbl::indicate(&packet, IP_HEADER);
    // SAFETY: as above.
    if let Some(mut lent) = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) } {
        classify(&handle, pool, &mut lent, 2, Transport::receive(AF_INET));
    }
    indicated.complete();

    println!("\n######## packet 3: the injection fails asynchronously");
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Deferred);
    let indicated = ndis_sim::StackNbl::indicate(&packet, IP_HEADER);
    // SAFETY: as above.
    if let Some(mut lent) = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) } {
        classify(&handle, pool, &mut lent, 3, Transport::receive(AF_INET));
    }
    indicated.complete();
    ndis_sim::complete_next(ndis_sys::STATUS_UNSUCCESSFUL);

    drop(handle);
}
