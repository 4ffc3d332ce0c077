//! Sublayers, filters and arbitration, and the sinks where what the
//! engine lets through arrives.
//!
//! Arbitration follows the WFP documentation's filter-arbitration rules:
//! sublayers are evaluated from the highest weight to the lowest, every
//! one of them; inside a sublayer, the matching filters from the highest
//! weight down until one returns permit or block (a callout may return
//! continue). The layer keeps the current action and whether it may still
//! be overridden (`FWPS_RIGHT_ACTION_WRITE`): a sublayer's decision
//! replaces the current one while the right is set (block overrides a soft
//! permit; a permit overrides a soft block); once the right is cleared (a
//! hard permit or block) only a callout's veto — a block returned without
//! the right — changes a hard permit to block. A callout is called with the
//! right as the layer holds it. With no decision the layer permits.

use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::*;
use ndis_sys::NET_BUFFER_LIST;

use super::engine::{Filter, Metadata, classify, filter_reference};
use super::values::{Endpoints, Incoming, Value};
use crate::stack::StackNbl;

/// What a filter does with what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    /// `FWP_ACTION_PERMIT`.
    Permit,
    /// `FWP_ACTION_BLOCK`.
    Block,
    /// `FWP_ACTION_CALLOUT_*`: the callout with this run-time id decides.
    Callout(u32),
}

/// A filter: a layer, a sublayer, a weight, conditions (each an incoming
/// value that must be equal), an action and its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSpec {
    /// The layer id (`FWPS_LAYER_*`).
    pub layer: u16,
    /// The sublayer ([`add_sublayer`]).
    pub sublayer: u32,
    /// Its weight within the sublayer.
    pub weight: u64,
    /// `(field index, value)` pairs that must all be equal.
    pub conditions: Vec<(u32, Value)>,
    /// The action.
    pub action: FilterAction,
    /// `FWPS_FILTER_FLAG_*` (e.g. `FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT`).
    pub flags: u16,
    /// The filter's context (`rawContext`), which its callout reads.
    pub context: u64,
}

/// What the layer decided for one packet or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `FWP_ACTION_PERMIT` or `FWP_ACTION_BLOCK`.
    pub action: u32,
    /// Whether a callout absorbed the packet (it goes nowhere, silently).
    pub absorbed: bool,
    /// Whether a callout vetoed a hard permit.
    pub vetoed: bool,
    /// Whether a callout pended the classify.
    pub pended: bool,
    /// The filters that decided, in evaluation order, with their action.
    pub trace: Vec<(u64, u32)>,
}

impl Verdict {
    /// Whether the packet passes (permitted, not absorbed).
    pub fn passes(&self) -> bool {
        self.action == FWP_ACTION_PERMIT && !self.absorbed
    }
}

#[derive(Default)]
struct Filters {
    sublayers: Vec<(u32, u16)>,
    filters: Vec<(u64, FilterSpec)>,
    next: u64,
    socket: Vec<Vec<u8>>,
    wire: Vec<Vec<u8>>,
}

static FILTERS: Mutex<Option<Filters>> = Mutex::new(None);

fn filters() -> MutexGuard<'static, Option<Filters>> {
    FILTERS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn with<R>(f: impl FnOnce(&mut Filters) -> R) -> R {
    f(filters().get_or_insert_with(Filters::default))
}

/// Adds a sublayer of `weight`; returns its id.
pub fn add_sublayer(weight: u16) -> u32 {
    with(|f| {
        f.next += 1;
        let id = f.next as u32;
        f.sublayers.push((id, weight));
        id
    })
}

/// Deletes a sublayer and its filters.
pub fn delete_sublayer(id: u32) {
    let gone: Vec<u64> = with(|f| {
        f.sublayers.retain(|s| s.0 != id);
        f.filters.iter().filter(|(_, s)| s.sublayer == id).map(|(i, _)| *i).collect()
    });
    for g in gone {
        delete_filter(g);
    }
}

/// Adds a filter; a callout filter references its callout (which then
/// cannot be unregistered until the filter is deleted). `None` when the
/// callout is not registered.
pub fn add_filter(spec: FilterSpec) -> Option<u64> {
    if let FilterAction::Callout(id) = spec.action
        && !filter_reference(id, true)
    {
        return None;
    }
    Some(with(|f| {
        f.next += 1;
        let id = f.next;
        f.filters.push((id, spec));
        id
    }))
}

/// Deletes a filter, releasing its callout's reference.
pub fn delete_filter(id: u64) -> bool {
    let gone = with(|f| f.filters.iter().position(|(i, _)| *i == id).map(|p| f.filters.remove(p).1));
    match gone {
        Some(spec) => {
            if let FilterAction::Callout(c) = spec.action {
                filter_reference(c, false);
            }
            true
        }
        None => false,
    }
}

/// Deletes every filter and sublayer (a test's clean slate).
pub fn reset_filters() {
    let ids: Vec<u64> = with(|f| f.filters.iter().map(|(i, _)| *i).collect());
    for id in ids {
        delete_filter(id);
    }
    with(|f| {
        f.sublayers.clear();
        f.socket.clear();
        f.wire.clear();
    });
}

fn matches(spec: &FilterSpec, incoming: &Incoming) -> bool {
    spec.layer == incoming.layer && spec.conditions.iter().all(|(i, v)| incoming.values.get(*i as usize) == Some(v))
}

/// Runs the layer's filters on one packet or connection and arbitrates
/// (see the module's rules).
///
/// # Safety
///
/// `layer_data` is what the layer passes (a live NBL the stack lends, or
/// NULL).
pub unsafe fn classify_layer(incoming: &Incoming, meta: &Metadata, layer_data: *mut NET_BUFFER_LIST) -> Verdict {
    let plan: Vec<Vec<(u64, FilterSpec)>> = with(|f| {
        let mut subs = f.sublayers.clone();
        subs.sort_by_key(|s| std::cmp::Reverse(s.1));
        subs.iter()
            .map(|(sid, _)| {
                let mut fs: Vec<(u64, FilterSpec)> =
                    f.filters.iter().filter(|(_, s)| s.sublayer == *sid && matches(s, incoming)).cloned().collect();
                fs.sort_by_key(|f| std::cmp::Reverse(f.1.weight));
                fs
            })
            .collect()
    });
    let mut v = Verdict { action: FWP_ACTION_PERMIT, absorbed: false, vetoed: false, pended: false, trace: Vec::new() };
    let mut right = true;
    for sublayer in plan {
        let mut decided: Option<(u32, bool, bool)> = None; // action, right after, from a callout
        for (fid, spec) in sublayer {
            let (action, right_after, callout) = match spec.action {
                FilterAction::Permit => {
                    (FWP_ACTION_PERMIT, u32::from(spec.flags) & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT == 0, false)
                }
                FilterAction::Block => (FWP_ACTION_BLOCK, false, false),
                FilterAction::Callout(id) => {
                    let filter = Filter { id: fid, flags: spec.flags, context: spec.context, write_right: right };
                    // SAFETY: the caller's guarantee for the layer data.
                    let Some(out) = (unsafe { classify(id, incoming, meta, layer_data, filter) }) else { continue };
                    v.pended |= out.pended;
                    v.absorbed |= out.absorbed();
                    if out.action == FWP_ACTION_CONTINUE {
                        continue;
                    }
                    (out.action, out.write_right(), true)
                }
            };
            v.trace.push((fid, action));
            decided = Some((action, right_after, callout));
            break;
        }
        let Some((action, right_after, callout)) = decided else { continue };
        if right {
            v.action = action;
            right = right_after;
        } else if action == FWP_ACTION_BLOCK && callout && v.action == FWP_ACTION_PERMIT {
            v.action = FWP_ACTION_BLOCK;
            v.vetoed = true;
        }
    }
    v
}

/// A packet through `layer` between `ends`, as the stack indicates it:
/// its bytes `packet`, with its data starting `offset` bytes in (the
/// layer's documented offset: after the IP and transport headers at the
/// inbound transport layer, at the transport header outbound, …). The
/// filters arbitrate; a packet that passes reaches the socket (inbound) or
/// the wire (outbound), where [`take_socket`] and [`take_wire`] read it.
pub fn packet(layer: u16, ends: Endpoints, meta: &Metadata, packet: &[u8], offset: u32, inbound: bool) -> Verdict {
    packet_split(layer, ends, meta, packet, offset, &[], inbound)
}

/// As [`packet`], with the packet's bytes split across MDLs at `cuts`
/// (offsets into the packet, in any order; empty pieces are left out), as
/// data that arrived in pieces is indicated: what a callout reads must be
/// read across the chain.
pub fn packet_split(
    layer: u16,
    ends: Endpoints,
    meta: &Metadata,
    packet: &[u8],
    offset: u32,
    cuts: &[usize],
    inbound: bool,
) -> Verdict {
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap_or(Incoming { layer, values: Vec::new() });
    let lent = StackNbl::indicate_split(packet, offset, cuts);
    // SAFETY: the stack lends the NBL for the classifies.
    let v = unsafe { classify_layer(&incoming, meta, lent.as_ptr()) };
    lent.complete();
    if v.passes() {
        with(|f| if inbound { &mut f.socket } else { &mut f.wire }.push(packet.to_vec()));
    }
    v
}

/// Brings the packets a driver injected (and the stack has not completed
/// yet) back through `layer`, as the stack does: each is classified with the
/// injected NBL as layer data — so `FwpsQueryPacketInjectionState0` tells
/// the injecting callout its own packet — and, if it passes, its data
/// (from its current offset) reaches the socket (`inbound`) or the wire;
/// then its injection completes with `STATUS_SUCCESS`. Returns the verdicts,
/// oldest injection first.
pub fn reclassify_injections(layer: u16, ends: Endpoints, meta: &Metadata, inbound: bool) -> Vec<Verdict> {
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap_or(Incoming { layer, values: Vec::new() });
    let mut verdicts = Vec::new();
    loop {
        let next = crate::model::injection::pending().pop_front();
        let Some(p) = next else { break };
        let nbl: *mut NET_BUFFER_LIST = p.nbl.0.cast();
        // SAFETY: the stack owns the injected NBL until its completion below.
        let v = unsafe { classify_layer(&incoming, meta, nbl) };
        if v.passes() {
            // SAFETY: as above: live, with its NET_BUFFERs.
            let bytes = unsafe { crate::stack::nbl_data(nbl) };
            with(|f| if inbound { &mut f.socket } else { &mut f.wire }.push(bytes));
        }
        // SAFETY: a Send1 injection's parameters are valid until its completion.
        unsafe { super::inject::at_completion(nbl) };
        crate::model::injection::complete(p, 0);
        verdicts.push(v);
    }
    verdicts
}

/// What a callout answered for a stream segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOutcome {
    /// The classify's outcome.
    pub outcome: super::engine::Outcome,
    /// `streamAction` (`FWPS_STREAM_ACTION_*`).
    pub stream_action: i32,
    /// `countBytesRequired`.
    pub bytes_required: u32,
}

/// Calls callout `id` at a stream layer for one segment of a connection
/// between `ends`: `data` in one NET_BUFFER_LIST the stack lends, with the
/// stream `flags` (`FWPS_STREAM_FLAG_*`), as an
/// `FWPS_STREAM_CALLOUT_IO_PACKET0`. `None` when no such callout is
/// registered.
pub fn stream(id: u32, layer: u16, ends: Endpoints, data: &[u8], flags: u32) -> Option<StreamOutcome> {
    let incoming = Incoming::with_endpoints(layer, ends, None).unwrap_or(Incoming { layer, values: Vec::new() });
    let lent = StackNbl::indicate(data, 0);
    // SAFETY: all-zero stream records are valid (NULL pointers, zero offsets).
    let mut sd: FWPS_STREAM_DATA0 = unsafe { std::mem::zeroed() };
    sd.flags = flags;
    sd.dataLength = data.len() as SIZE_T;
    sd.netBufferListChain = lent.as_ptr();
    // SAFETY: as above.
    let mut io: FWPS_STREAM_CALLOUT_IO_PACKET0 = unsafe { std::mem::zeroed() };
    io.streamData = &mut sd;
    io.streamAction = FWPS_STREAM_ACTION_NONE;
    let io_ptr: *mut FWPS_STREAM_CALLOUT_IO_PACKET0 = &mut io;
    let meta = Metadata::default();
    // SAFETY: the stream layer's data: the io packet, live across the call.
    let outcome = unsafe { classify(id, &incoming, &meta, io_ptr.cast(), Filter::default()) };
    lent.complete();
    let outcome = outcome?;
    Some(StreamOutcome { outcome, stream_action: io.streamAction, bytes_required: io.countBytesRequired })
}

/// Takes what reached the socket (inbound packets the engine passed).
pub fn take_socket() -> Vec<Vec<u8>> {
    with(|f| std::mem::take(&mut f.socket))
}

/// Takes what reached the wire (outbound packets the engine passed).
pub fn take_wire() -> Vec<Vec<u8>> {
    with(|f| std::mem::take(&mut f.wire))
}
