//! Part 3: frames through a typed NDIS lightweight filter on the simulated
//! filter stack (a protocol above, a miniport below). The filter passes
//! frames through and drops one EtherType both ways; it draws each frame
//! its send and receive handlers are given. Attach, restart, traffic both
//! ways, a pause that waits for what is out, detach.

use ndis_safe::filter::{AttachParameters, Filter, FilterDriver, Module, Name, RecvChain, Registration, SendChain};
use ndis_safe::{NetBufferList, NoContext, Status, Tag, utf16};
use ndis_sim::lwf::Stack;

use crate::draw;

/// The EtherType the filter drops (IEEE 802.1 local experimental 1).
const BLOCKED: u16 = 0x88b5;

const REGISTRATION: Registration = Registration {
    friendly: Name(utf16!("ndis-rs inspect filter")),
    unique: Name(utf16!("{a3c1f0de-8e55-4b8f-9f0e-6e6469732d72}")),
    service: Name(utf16!("ndisrsinspect")),
    version: (1, 0),
};

fn ethertype(nbl: &NetBufferList) -> Option<u16> {
    let mut b = [0; 14];
    let h = nbl.first()?.peek(&mut b)?;
    Some(u16::from_be_bytes([h[12], h[13]]))
}

/// Whether a frame passes, by its EtherType; the chain is drawn once, at
/// its first frame.
fn judge(direction: &str, first: &mut bool, nbl: &NetBufferList) -> bool {
    if core::mem::take(first) {
        draw(&format!("the filter's {direction} handler is given a chain"), nbl);
    }
    let t = ethertype(nbl);
    let pass = t != Some(BLOCKED);
    println!("== EtherType {:#06x}: {}", t.unwrap_or(0), if pass { "passed on" } else { "dropped" });
    pass
}

/// Pass-through with one drop rule.
struct EtherTypeRule;

impl Filter for EtherTypeRule {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Insp");

    fn attach(_module: &Module<Self>, params: &AttachParameters<'_>) -> Result<Self, Status> {
        println!("== attach: the miniport's MAC address is {:02x?}", params.mac_address());
        Ok(EtherTypeRule)
    }

    fn send<'c>(&'c self, _module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        let mut first = true;
        let (pass, drop) = chain.split(|nbl| judge("send", &mut first, nbl));
        // Dropped sends go back up completed with a failure status.
        drop.complete(Status::FAILURE);
        pass.send_down();
    }

    fn receive<'c>(&'c self, _module: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        let mut first = true;
        let (pass, drop) = chain.split(|nbl| judge("receive", &mut first, nbl));
        // Dropped receives go back down to the miniport.
        drop.give_back();
        pass.indicate_up();
    }
}

fn frame(ethertype: u16, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; 60];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&[0x02, 0, 0x5e, 0, 0, 1]);
    f[12..14].copy_from_slice(&ethertype.to_be_bytes());
    f
}

/// Registers the filter driver, attaches it to a simulated stack and runs
/// frames through it both ways.
pub fn run() -> Result<(), Status> {
    // SAFETY: the simulator takes any driver object.
    let driver = unsafe { FilterDriver::<EtherTypeRule>::register(core::ptr::null_mut(), &REGISTRATION) }?;
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().map_err(|_| Status::FAILURE)?;
    println!("== restart: running: {}", stack.restart());

    let (ipv4, blocked) = (frame(0x0800, 0x11), frame(BLOCKED, 0x22));
    println!("\n######## the protocol sends two frames");
    stack.send(&[&ipv4, &blocked]);
    let completed: Vec<String> = stack.completed().iter().map(|s| format!("{:#x}", *s as u32)).collect();
    println!(
        "== reached the miniport: {} frame(s); completed back to the protocol so far: [{}]",
        stack.sent().len(),
        completed.join(", ")
    );
    println!("\n######## the miniport indicates two frames (lent: not low on resources)");
    stack.receive(&[&blocked, &ipv4], false);
    println!("== reached the protocol: {} frame(s)", stack.received().len());

    println!("\n######## pause with a send and a receive still out: it waits");
    println!("== paused at once: {}", stack.pause());
    println!(
        "== the miniport completes {} send(s); the protocol returns {} receive(s)",
        stack.complete_sends(),
        stack.return_receives()
    );
    println!("== paused: {}", stack.is_paused());
    stack.detach();
    println!("== detached");
    drop(stack);
    drop(driver);
    Ok(())
}
