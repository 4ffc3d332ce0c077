//! How NBLs move on a stack: the transitions (under the lock) and the
//! handler calls they lead to (made after it is released, since handlers
//! call back into the DDIs).

use ndis_sys::*;

use super::state::{At, Dir, Lwf, MState, Origin, Phase, Track};
use crate::model::irql::{DISPATCH_LEVEL, current};
use crate::model::records;

/// A handler call to make once the lock is released.
pub(crate) enum Call {
    Send { f: FILTER_SEND_NET_BUFFER_LISTS, ctx: usize, head: usize, port: u32, stack: u64 },
    SendComplete { f: FILTER_SEND_NET_BUFFER_LISTS_COMPLETE, ctx: usize, head: usize },
    Receive { f: FILTER_RECEIVE_NET_BUFFER_LISTS, ctx: usize, head: usize, port: u32, count: u32, resources: bool },
    Return { f: FILTER_RETURN_NET_BUFFER_LISTS, ctx: usize, head: usize },
}

/// The dispatch-level flag (bit 0 of every family) the stack passes: the truth.
pub(crate) fn dispatch_flag() -> u32 {
    u32::from(current() >= DISPATCH_LEVEL)
}

impl Call {
    /// Makes the call (no lock held).
    pub(crate) fn run(self) {
        let d = dispatch_flag();
        // SAFETY: the module's own handlers with its context, NBLs it now
        // holds, linked into a chain ending in NULL.
        unsafe {
            match self {
                Call::Send { f, ctx, head, port, stack } => {
                    if let Some(f) = f {
                        f(ctx as _, head as _, port, d);
                    }
                    if let Some(s) = super::state::lwf().stacks.get_mut(&stack) {
                        s.sends_in_call = s.sends_in_call.saturating_sub(1);
                    }
                }
                Call::SendComplete { f: Some(f), ctx, head } => f(ctx as _, head as _, d),
                Call::Receive { f: Some(f), ctx, head, port, count, resources } => {
                    f(ctx as _, head as _, port, count, d | if resources { NDIS_RECEIVE_FLAGS_RESOURCES } else { 0 })
                }
                Call::Return { f: Some(f), ctx, head } => f(ctx as _, head as _, d),
                _ => {}
            }
        }
    }
}

/// Links `nbls` into a chain (Next of the last NULL); its head.
pub(crate) fn link(nbls: &[usize]) -> usize {
    for (i, &n) in nbls.iter().enumerate() {
        let next = nbls.get(i + 1).copied().unwrap_or(0);
        // SAFETY: live NBLs the receiving layer now holds.
        unsafe { *NET_BUFFER_LIST_NEXT_NBL(n as *mut NET_BUFFER_LIST) = next as *mut NET_BUFFER_LIST };
    }
    nbls.first().copied().unwrap_or(0)
}

/// The NB data of an NBL, one frame per NET_BUFFER.
pub(crate) fn frames(nbl: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // SAFETY: a live NBL whose NBs and MDLs are live.
    unsafe {
        let mut nb = *NET_BUFFER_LIST_FIRST_NB(nbl as *mut NET_BUFFER_LIST);
        while !nb.is_null() {
            let len = *NET_BUFFER_DATA_LENGTH(nb);
            let mut v = vec![0; len as usize];
            records::copy_out(nb, 0, v.as_mut_ptr(), len);
            out.push(v);
            nb = *NET_BUFFER_NEXT_NB(nb);
        }
    }
    out
}

/// Whether data may flow through the module (NDIS calls its data handlers).
fn flowing(l: &Lwf, m: usize) -> bool {
    l.modules.get(&m).is_some_and(|r| matches!(r.state, MState::Running | MState::Pausing))
}

/// Sends arrive at `target` (a module, or the miniport for `None`).
pub(crate) fn send_to(
    l: &mut Lwf,
    stack: u64,
    target: Option<usize>,
    nbls: Vec<usize>,
    port: u32,
    calls: &mut Vec<Call>,
) {
    if nbls.is_empty() {
        return;
    }
    let Some(m) = target else {
        for &n in &nbls {
            if let Some(t) = l.tracks.get_mut(&n) {
                t.at = At::Miniport;
            }
            let f = frames(n);
            if let Some(s) = l.stacks.get_mut(&stack) {
                s.sent.extend(f);
                s.miniport_sends.push(n);
            }
        }
        return;
    };
    for &n in &nbls {
        if let Some(t) = l.tracks.get_mut(&n) {
            t.at = At::Module(m, Phase::Handed);
        }
    }
    if !flowing(l, m) {
        // NDIS fails sends to a paused module itself.
        for &n in &nbls {
            // SAFETY: a live NBL on the stack.
            unsafe { *NET_BUFFER_LIST_STATUS(n as *mut NET_BUFFER_LIST) = NDIS_STATUS_PAUSED };
        }
        complete_up(l, nbls, calls);
        return;
    }
    let (f, ctx) = handler(l, m, |c| c.SendNetBufferListsHandler.map(|_| ()));
    if f.is_none() {
        // No handler: NDIS passes the sends by the module.
        for &n in &nbls {
            if let Some(t) = l.tracks.get_mut(&n) {
                t.path.push(m);
            }
        }
        let below = l.below(m);
        send_to(l, stack, below, nbls, port, calls);
        return;
    }
    let f = l.drivers.get(&l.modules[&m].driver).and_then(|d| d.chars.SendNetBufferListsHandler);
    if let Some(s) = l.stacks.get_mut(&stack) {
        s.sends_in_call += 1;
    }
    calls.push(Call::Send { f, ctx, head: link(&nbls), port, stack });
}

/// The module's context and whether the driver has the handler `pick` names.
fn handler(l: &Lwf, m: usize, pick: impl Fn(&NDIS_FILTER_DRIVER_CHARACTERISTICS) -> Option<()>) -> (Option<()>, usize) {
    let Some(r) = l.modules.get(&m) else { return (None, 0) };
    (l.drivers.get(&r.driver).and_then(|d| pick(&d.chars)), r.ctx)
}

/// NBL `n` (tracked by `t`) goes back to module `r`, the last on its path:
/// as its own NBL when `r` made it and nothing else holds it, else passing
/// back; grouped with the others for `r` (one handler call per module).
fn back_to(t: &mut Track, r: usize, n: usize, groups: &mut Vec<(usize, Vec<usize>)>) {
    t.at = At::Module(r, if t.origin == Origin::Filter(r) && t.path.is_empty() { Phase::Own } else { Phase::Back });
    match groups.iter_mut().find(|(g, _)| *g == r) {
        Some((_, v)) => v.push(n),
        None => groups.push((r, vec![n])),
    }
}

/// Completes sends up from where they are: each to the module that sent
/// it down (or to its origin).
pub(crate) fn complete_up(l: &mut Lwf, nbls: Vec<usize>, calls: &mut Vec<Call>) {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for n in nbls {
        let Some(t) = l.tracks.get_mut(&n) else { continue };
        match t.path.pop() {
            Some(r) => back_to(t, r, n, &mut groups),
            None => {
                t.at = At::Done;
                let stack = t.stack;
                // SAFETY: a live NBL.
                let status = unsafe { *NET_BUFFER_LIST_STATUS(n as *mut NET_BUFFER_LIST) };
                if let Some(s) = l.stacks.get_mut(&stack) {
                    s.completed.push(status);
                }
                super::free_later(n);
            }
        }
    }
    for (r, v) in groups {
        let (f, ctx) = handler(l, r, |c| c.SendNetBufferListsCompleteHandler.map(|_| ()));
        if f.is_none() {
            complete_up(l, v, calls);
        } else {
            let f = l.drivers.get(&l.modules[&r].driver).and_then(|d| d.chars.SendNetBufferListsCompleteHandler);
            calls.push(Call::SendComplete { f, ctx, head: link(&v) });
        }
    }
}

/// Receives arrive at `target` (a module, or the protocol for `None`).
pub(crate) fn indicate_to(
    l: &mut Lwf,
    stack: u64,
    target: Option<usize>,
    nbls: Vec<usize>,
    port: u32,
    resources: bool,
    calls: &mut Vec<Call>,
) {
    if nbls.is_empty() {
        return;
    }
    let Some(m) = target else {
        for &n in &nbls {
            if let Some(t) = l.tracks.get_mut(&n) {
                t.at = At::Protocol;
            }
            let f = frames(n);
            if let Some(s) = l.stacks.get_mut(&stack) {
                s.received.extend(f);
                if !resources {
                    s.protocol_receives.push(n);
                }
            }
        }
        // A pausing binding returns what is indicated to it at once.
        if !resources && let Some(s) = l.stacks.get_mut(&stack).filter(|s| s.pausing) {
            s.protocol_receives.retain(|n| !nbls.contains(n));
            return_down(l, nbls, calls);
        }
        return;
    };
    for &n in &nbls {
        if let Some(t) = l.tracks.get_mut(&n) {
            t.at = At::Module(m, Phase::Handed);
        }
    }
    if !flowing(l, m) {
        if !resources {
            return_down(l, nbls, calls);
        }
        return;
    }
    let (f, ctx) = handler(l, m, |c| c.ReceiveNetBufferListsHandler.map(|_| ()));
    if f.is_none() {
        for &n in &nbls {
            if let Some(t) = l.tracks.get_mut(&n) {
                t.path.push(m);
            }
        }
        let above = l.above(m);
        indicate_to(l, stack, above, nbls.clone(), port, resources, calls);
        if resources {
            // Regained when the (bypassed) indication returns: see `regain`.
        }
        return;
    }
    let f = l.drivers.get(&l.modules[&m].driver).and_then(|d| d.chars.ReceiveNetBufferListsHandler);
    let count = nbls.len() as u32;
    calls.push(Call::Receive { f, ctx, head: link(&nbls), port, count, resources });
}

/// A low-resources indication by `from` (a module, or the miniport for
/// `None`) returned: its NBLs are back with it.
pub(crate) fn regain(l: &mut Lwf, from: Option<usize>, nbls: &[usize]) {
    for n in nbls {
        let Some(t) = l.tracks.get_mut(n) else { continue };
        if t.dir != Dir::Recv || matches!(t.at, At::Done | At::Regained) {
            continue;
        }
        while t.path.last().is_some_and(|&p| Some(p) != from) {
            t.path.pop();
        }
        match from {
            Some(m) => {
                t.path.pop();
                t.at = At::Module(
                    m,
                    if t.origin == Origin::Filter(m) && t.path.is_empty() { Phase::Own } else { Phase::Handed },
                );
            }
            None => {
                t.path.clear();
                t.at = At::Regained;
                super::free_later(*n);
            }
        }
    }
}

/// Returns receives down from where they are: each to the module that
/// indicated it (or to its origin).
pub(crate) fn return_down(l: &mut Lwf, nbls: Vec<usize>, calls: &mut Vec<Call>) {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for n in nbls {
        let Some(t) = l.tracks.get_mut(&n) else { continue };
        match t.path.pop() {
            Some(r) => back_to(t, r, n, &mut groups),
            None => {
                t.at = At::Done;
                super::free_later(n);
            }
        }
    }
    for (r, v) in groups {
        let (f, ctx) = handler(l, r, |c| c.ReturnNetBufferListsHandler.map(|_| ()));
        if f.is_none() {
            return_down(l, v, calls);
        } else {
            let f = l.drivers.get(&l.modules[&r].driver).and_then(|d| d.chars.ReturnNetBufferListsHandler);
            calls.push(Call::Return { f, ctx, head: link(&v) });
        }
    }
}
