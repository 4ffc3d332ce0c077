//! The filter stack's bookkeeping: registered filter drivers, modules and
//! their states, stacks, and where every NBL on a stack is.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ndis_sys::*;

/// A registered filter driver.
pub(crate) struct Driver {
    pub chars: NDIS_FILTER_DRIVER_CHARACTERISTICS,
    pub context: usize,
}

// SAFETY: the characteristics' name pointers are the driver's static
// strings, only copied, never read through here.
unsafe impl Send for Driver {}

/// Where a module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MState {
    Attaching,
    Paused,
    Restarting,
    Running,
    Pausing,
    Detached,
}

/// One filter module.
pub(crate) struct ModuleRec {
    pub driver: usize,
    pub stack: u64,
    pub ctx: usize,
    pub state: MState,
    pub pause_pending: bool,
    pub restart_pending: bool,
    /// The pause handler is running (a completion during it is allowed
    /// when the handler then returns PENDING).
    pub in_pause: bool,
    pub completed_in_pause: bool,
    pub in_restart: bool,
    pub completed_in_restart: Option<i32>,
    pub name: String,
}

/// Which way an NBL travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Send,
    Recv,
}

/// Who made an NBL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Protocol,
    Miniport,
    Filter(usize),
}

/// Whether a module holds an NBL handed to it, or one it got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Handed to it (sent from above, indicated from below): it owes it
    /// on, or back.
    Handed,
    /// Back from where it sent it (completed, returned): it owes it back.
    Back,
    /// Its own NBL, back with it.
    Own,
}

/// Where an NBL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Module(usize, Phase),
    Miniport,
    Protocol,
    /// Back with its origin (the protocol's send completed, the miniport's
    /// receive returned): given back for good.
    Done,
    /// A low-resources receive the miniport regained when the indication
    /// returned.
    Regained,
}

/// An NBL on a stack.
pub(crate) struct Track {
    pub dir: Dir,
    pub origin: Origin,
    /// The modules that passed it on, in order (the last is the one to
    /// give it back to).
    pub path: Vec<usize>,
    pub at: At,
    pub source: usize,
    pub resources: bool,
    pub stack: u64,
}

/// One simulated stack: protocol, modules (top first), miniport.
#[derive(Default)]
pub(crate) struct StackRec {
    pub modules: Vec<usize>,
    pub protocol: usize,
    pub miniport: usize,
    pub miniport_sends: Vec<usize>,
    pub protocol_receives: Vec<usize>,
    pub sent: Vec<Vec<u8>>,
    pub received: Vec<Vec<u8>>,
    pub completed: Vec<i32>,
    pub cancels: usize,
    /// A stack pause is under way: the protocol's, then the modules', top
    /// first, each once the one above is paused.
    pub pausing: bool,
    /// Send handler calls made or about to be made on this stack (counted
    /// under the lock when the chain is handed over, out when the handler
    /// returns). The sends in them are not complete — a chain inside a
    /// module's send handler is on its way down — so the protocol's pause
    /// waits for them, as NDIS's does for every send not yet complete.
    pub sends_in_call: usize,
}

/// Everything.
#[derive(Default)]
pub(crate) struct Lwf {
    pub drivers: HashMap<usize, Driver>,
    pub modules: HashMap<usize, ModuleRec>,
    pub stacks: HashMap<u64, StackRec>,
    pub tracks: HashMap<usize, Track>,
    /// NDIS memory: address → (layout, tag).
    pub memory: HashMap<usize, (std::alloc::Layout, u32)>,
    /// OID requests, status indications and PnP events.
    pub oids: super::oid::Oids,
    next: usize,
    pub next_stack: u64,
}

static LWF: Mutex<Option<Lwf>> = Mutex::new(None);

/// The bookkeeping, locked.
pub(crate) fn lwf() -> LwfGuard {
    let mut g = LWF.lock().unwrap_or_else(PoisonError::into_inner);
    if g.is_none() {
        *g = Some(Lwf::default());
    }
    LwfGuard(g)
}

/// A locked [`Lwf`].
pub(crate) struct LwfGuard(MutexGuard<'static, Option<Lwf>>);

impl std::ops::Deref for LwfGuard {
    type Target = Lwf;
    fn deref(&self) -> &Lwf {
        self.0.as_ref().unwrap_or_else(|| unreachable!("initialized by lwf()"))
    }
}

impl std::ops::DerefMut for LwfGuard {
    fn deref_mut(&mut self) -> &mut Lwf {
        self.0.as_mut().unwrap_or_else(|| unreachable!("initialized by lwf()"))
    }
}

impl Lwf {
    /// A fresh opaque handle (never a valid address).
    pub fn handle(&mut self) -> usize {
        self.next += 1;
        0x4c57_0000_0000 + self.next * 64
    }

    /// The module below `m` on its stack, if any.
    pub fn below(&self, m: usize) -> Option<usize> {
        let s = self.stacks.get(&self.modules.get(&m)?.stack)?;
        let i = s.modules.iter().position(|&x| x == m)?;
        s.modules.get(i + 1).copied()
    }

    /// The module above `m` on its stack, if any.
    pub fn above(&self, m: usize) -> Option<usize> {
        let s = self.stacks.get(&self.modules.get(&m)?.stack)?;
        let i = s.modules.iter().position(|&x| x == m)?;
        i.checked_sub(1).and_then(|i| s.modules.get(i).copied())
    }

    /// The module's name for messages.
    pub fn name(&self, m: usize) -> String {
        self.modules.get(&m).map_or_else(|| format!("handle {m:#x}"), |r| r.name.clone())
    }

    /// The NBLs `m` originated (its own: sent down or indicated up by it)
    /// and has not had back: what its pause waits for. NBLs it passed
    /// through are not among them: NDIS pauses the layers above first, so
    /// those are back before its pause starts (see [`Lwf::protocol_out`]).
    pub fn outstanding(&self, m: usize) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .tracks
            .iter()
            .filter(|(_, t)| {
                t.origin == Origin::Filter(m)
                    && !matches!(t.at, At::Done | At::Regained)
                    && t.at != At::Module(m, Phase::Own)
            })
            .map(|(a, _)| *a)
            .collect();
        v.sort_unstable();
        v
    }

    /// What the protocol's pause on `stack` waits for: its sends not yet
    /// completed and the receives it holds. Sends a module holds (handed to
    /// it or back with it, not passed on) are left out: they are that
    /// module's to end, and leak at detach if it never does (Windows would
    /// wait on them, and the stack's pause would hang).
    pub fn protocol_out(&self, stack: u64) -> usize {
        let sends = self
            .tracks
            .values()
            .filter(|t| {
                t.stack == stack
                    && t.origin == Origin::Protocol
                    && !matches!(t.at, At::Done | At::Regained | At::Module(_, Phase::Handed | Phase::Back))
            })
            .count();
        sends + self.stacks.get(&stack).map_or(0, |s| s.protocol_receives.len() + s.sends_in_call)
    }

    /// The NBLs `m` holds (handed to it or back with it, not its own).
    pub fn held(&self, m: usize) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .tracks
            .iter()
            .filter(|(_, t)| matches!(t.at, At::Module(x, Phase::Handed | Phase::Back) if x == m))
            .map(|(a, _)| *a)
            .collect();
        v.sort_unstable();
        v
    }
}
