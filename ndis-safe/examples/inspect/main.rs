//! The main job: ndis-safe on the host simulator, end to end.
//!
//! 1. Packets through the simulated WFP filter engine: typed callouts
//!    registered, filters added, datagrams both ways over IPv4 and IPv6,
//!    each callout's view of the packet, its decision and the engine's
//!    verdict ([`engine`]).
//! 2. The inspect flow a callout runs on one lent packet: reference,
//!    retreat, clone, advance, modify, inject, completion, undo, free —
//!    every step's NBLs drawn, and a synchronous and an asynchronous
//!    injection failure ([`nbl`]).
//! 3. Frames through a typed NDIS lightweight filter on the simulated
//!    filter stack, both ways, with a pause under traffic ([`filter`]).
//!
//! Then the verifier's verdict over all three: reports, and leaks.
//!
//! `cargo run --example inspect`
#![allow(clippy::print_stdout, reason = "an example that shows its work")]

mod engine;
mod filter;
mod nbl;

use ndis_safe::NetBufferList;

/// Prints `title` and the simulator's drawing of `nbl`.
fn draw(title: &str, nbl: &NetBufferList) {
    println!("== {title}");
    // SAFETY: `nbl` is a live NBL (a reference to its view proves it).
    print!("{}", unsafe { ndis_sim::draw(nbl.as_ptr()) });
}

fn main() {
    let Some(pool) = nbl::clone_pool() else { return };
    let session = ndis_sim::Session::collecting();

    println!("################ 1. packets through the simulated filter engine");
    if let Err(e) = engine::run() {
        println!("engine: {e}");
    }
    println!("\n################ 2. the inspect flow on one lent packet");
    nbl::run(pool);
    println!("\n################ 3. frames through a filter on the simulated filter stack");
    if let Err(e) = filter::run() {
        println!("filter: {e:?}");
    }

    let reports = session.reports();
    println!("\n######## verifier: {} report(s); leaks: {}", reports.len(), session.leaks());
    for r in reports {
        println!("{r}");
    }
}
