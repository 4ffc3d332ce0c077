//! OID requests on the simulated stack: the protocol above issues them
//! ([`Stack::query_oid`], [`Stack::set_oid`]), one at a time as NDIS
//! serializes them (a second waits until the first completes); each module
//! with an `OidRequestHandler` is handed the request in turn, top first,
//! and the simulated miniport below answers what reaches it — at once, or
//! later when [`Stack::set_miniport_pends`] is on (`NDIS_STATUS_PENDING`,
//! then [`Stack::complete_miniport_oid`]).
//!
//! The miniport answers `OID_GEN_CURRENT_PACKET_FILTER` (a `u32`, query
//! and set), `OID_802_3_CURRENT_ADDRESS` (the six bytes the modules were
//! attached with) and `OID_GEN_MAXIMUM_FRAME_SIZE` (1500), as a miniport
//! does: a query buffer too short is `NDIS_STATUS_BUFFER_TOO_SHORT` with
//! `BytesNeeded`; a set of the wrong length `NDIS_STATUS_INVALID_LENGTH`;
//! any other OID, and a set of a read-only one, `NDIS_STATUS_NOT_SUPPORTED`.
//! A cancel (`NdisFCancelOidRequest` reaching it) completes a request it
//! holds with that `RequestId` with `NDIS_STATUS_REQUEST_ABORTED`.
//!
//! `NdisAllocateCloneOidRequest` copies the request (the clone shares the
//! original's `InformationBuffer`, as NDIS's does) with its reserved areas
//! zeroed and its `RequestId` NULL (the filter sets it, as the WDK's
//! sample does). A module that issues a request to one that holds another
//! outstanding gets `NDIS_STATUS_FAILURE` after the report.

use std::collections::{HashMap, HashSet, VecDeque};

use ndis_sys::*;

use super::state::{Lwf, MState, lwf};
use super::{Stack, report_now};
use crate::model::irql::DISPATCH_LEVEL;
use crate::verifier::irql::at_most;
use crate::verifier::{Rule, Violation, v};

/// A request record's pointer, with the provenance it was handed over with.
#[derive(Debug, Clone, Copy)]
struct ReqPtr(*mut NDIS_OID_REQUEST);

// SAFETY: a plain pointer to a record the stack or a filter owns; only
// dereferenced under the DDIs' contracts, by whoever holds the request.
unsafe impl Send for ReqPtr {}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// Handed to a module's `OidRequestHandler`: the module owes its completion.
    Module(usize),
    /// Held by the miniport (pending).
    Miniport,
    /// Completed.
    Done,
}

/// A request on a stack.
struct Req {
    ptr: ReqPtr,
    stack: u64,
    /// The module that issued it (`NdisFOidRequest`); `None`: the protocol.
    issuer: Option<usize>,
    at: Where,
    /// The handler of the module it is at runs now.
    in_handler: bool,
    /// `NdisFOidRequestComplete` during that handler, with this status.
    completed_in_handler: Option<NDIS_STATUS>,
}

/// A clone `NdisAllocateCloneOidRequest` made.
struct CloneRec {
    ptr: ReqPtr,
    module: usize,
    /// Issued with `NdisFOidRequest` and not yet complete.
    out: bool,
}

/// A request the protocol issued, its record and buffer (allocated here,
/// freed when the stack is dropped — a request still pending then is
/// leaked, since a filter may still hold it).
struct ProtoReq {
    req: ReqPtr,
    buf: *mut [u8],
}

// SAFETY: the stack's own allocations, touched under the lock or by
// whoever holds the request.
unsafe impl Send for ProtoReq {}

/// The outcome of a protocol's OID request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidResult {
    /// The status the request completed with.
    pub status: NDIS_STATUS,
    /// For a query, the `BytesWritten` first bytes of the buffer; for a
    /// set, empty.
    pub data: Vec<u8>,
    /// `BytesWritten` (query) or `BytesRead` (set).
    pub bytes: u32,
    /// `BytesNeeded`.
    pub bytes_needed: u32,
}

/// A protocol's OID request on a stack ([`Stack::query_oid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OidId(u64);

/// One stack's OIDs, indications and PnP events.
#[derive(Default)]
pub(crate) struct StackOids {
    next_id: u64,
    /// Protocol requests not yet issued, in order.
    queue: VecDeque<u64>,
    /// The protocol request issued and not complete.
    current: Option<u64>,
    protocol: HashMap<u64, ProtoReq>,
    results: HashMap<u64, OidResult>,
    /// Requests the miniport holds.
    miniport: Vec<usize>,
    miniport_pends: bool,
    values: HashMap<u32, Vec<u8>>,
    /// The miniport's cancels seen.
    pub cancels: usize,
    /// Status indications that reached the protocol: (code, buffer).
    pub statuses: Vec<(NDIS_STATUS, Vec<u8>)>,
    /// Net PnP events that reached the protocol: (code, buffer).
    pub net_events: Vec<(i32, Vec<u8>)>,
    /// Device PnP events that reached the miniport: (event, buffer).
    pub device_events: Vec<(i32, Vec<u8>)>,
}

/// Every stack's OID bookkeeping.
#[derive(Default)]
pub(crate) struct Oids {
    reqs: HashMap<usize, Req>,
    clones: HashMap<usize, CloneRec>,
    freed_clones: HashSet<usize>,
    /// Per module: the request it issued and has not had back.
    issued: HashMap<usize, usize>,
    /// Protocol requests still pending when their stack was dropped: kept
    /// (a filter may still hold them), never freed — leaked, as a request
    /// that never completes is.
    orphans: Vec<ProtoReq>,
    pub stacks: HashMap<u64, StackOids>,
}

impl Oids {
    /// A stack's records, made on first use.
    pub fn stack(&mut self, id: u64) -> &mut StackOids {
        self.stacks.entry(id).or_insert_with(|| {
            let mut s = StackOids::default();
            s.values.insert(OID_GEN_CURRENT_PACKET_FILTER, 0u32.to_le_bytes().to_vec());
            s.values.insert(OID_802_3_CURRENT_ADDRESS, vec![0x02, 0, 0x5e, 0x10, 0, 1]);
            s.values.insert(OID_GEN_MAXIMUM_FRAME_SIZE, 1500u32.to_le_bytes().to_vec());
            s
        })
    }
}

/// What happens after the lock is released.
enum Next {
    /// Call module `ctx`'s `OidRequestHandler` with the request.
    Handler(FILTER_OID_REQUEST, usize),
    /// Settled now with this status (the miniport answered, or pends).
    Status(NDIS_STATUS),
}

/// The module `from` or the first below it that takes OIDs (an attached
/// module with an `OidRequestHandler`); `None`: the miniport.
fn first_taker(l: &Lwf, mut at: Option<usize>) -> Option<(usize, FILTER_OID_REQUEST, usize)> {
    while let Some(m) = at {
        if let Some(r) = l.modules.get(&m)
            && r.state != MState::Detached
            && let Some(d) = l.drivers.get(&r.driver)
            && d.chars.OidRequestHandler.is_some()
        {
            return Some((m, d.chars.OidRequestHandler, r.ctx));
        }
        at = l.below(m);
    }
    None
}

/// The miniport answers `r` now.
///
/// # Safety
///
/// `r` is a live request whose buffer holds `InformationBufferLength` bytes.
unsafe fn answer(values: &mut HashMap<u32, Vec<u8>>, r: *mut NDIS_OID_REQUEST) -> NDIS_STATUS {
    // SAFETY: the caller's request; the union member read is the one its
    // RequestType names.
    unsafe {
        match (*r).RequestType {
            t if t == NdisRequestQueryInformation => {
                let q = &raw mut (*r).DATA.QUERY_INFORMATION;
                (*q).BytesWritten = 0;
                (*q).BytesNeeded = 0;
                match values.get(&(*q).Oid) {
                    None => NDIS_STATUS_NOT_SUPPORTED,
                    Some(v) if ((*q).InformationBufferLength as usize) < v.len() => {
                        (*q).BytesNeeded = v.len() as u32;
                        NDIS_STATUS_BUFFER_TOO_SHORT
                    }
                    Some(v) => {
                        core::ptr::copy_nonoverlapping(v.as_ptr(), (*q).InformationBuffer.cast::<u8>(), v.len());
                        (*q).BytesWritten = v.len() as u32;
                        NDIS_STATUS_SUCCESS
                    }
                }
            }
            t if t == NdisRequestSetInformation => {
                let s = &raw mut (*r).DATA.SET_INFORMATION;
                (*s).BytesRead = 0;
                (*s).BytesNeeded = 0;
                if (*s).Oid != OID_GEN_CURRENT_PACKET_FILTER {
                    NDIS_STATUS_NOT_SUPPORTED
                } else if (*s).InformationBufferLength != 4 || (*s).InformationBuffer.is_null() {
                    (*s).BytesNeeded = 4;
                    NDIS_STATUS_INVALID_LENGTH
                } else {
                    let mut b = [0u8; 4];
                    core::ptr::copy_nonoverlapping((*s).InformationBuffer.cast::<u8>(), b.as_mut_ptr(), 4);
                    values.insert(OID_GEN_CURRENT_PACKET_FILTER, b.to_vec());
                    (*s).BytesRead = 4;
                    NDIS_STATUS_SUCCESS
                }
            }
            _ => NDIS_STATUS_NOT_SUPPORTED,
        }
    }
}

/// Hands request `req` (tracked) to the module at or below `target` that
/// takes OIDs, or to the miniport; returns its status as the issuer sees
/// it (`NDIS_STATUS_PENDING`: its completion comes later). No lock held.
fn deliver(req: usize, target: Option<usize>) -> NDIS_STATUS {
    let next = {
        let mut l = lwf();
        let Some(stack) = l.oids.reqs.get(&req).map(|r| r.stack) else { return NDIS_STATUS_FAILURE };
        match first_taker(&l, target) {
            Some((m, f, ctx)) => {
                if let Some(r) = l.oids.reqs.get_mut(&req) {
                    r.at = Where::Module(m);
                    r.in_handler = true;
                    r.completed_in_handler = None;
                }
                Next::Handler(f, ctx)
            }
            None => {
                let ptr = l.oids.reqs[&req].ptr;
                let s = l.oids.stack(stack);
                if s.miniport_pends {
                    s.miniport.push(req);
                    if let Some(r) = l.oids.reqs.get_mut(&req) {
                        r.at = Where::Miniport;
                    }
                    Next::Status(NDIS_STATUS_PENDING)
                } else {
                    // SAFETY: a live request (its issuer holds it until completion).
                    let status = unsafe { answer(&mut s.values, ptr.0) };
                    settle(&mut l, req);
                    Next::Status(status)
                }
            }
        }
    };
    let (f, ctx) = match next {
        Next::Status(s) => return s,
        Next::Handler(f, ctx) => (f, ctx),
    };
    let ptr = lwf().oids.reqs[&req].ptr;
    // SAFETY: the module's own handler with its context and a live request.
    let status = f.map_or(NDIS_STATUS_NOT_SUPPORTED, |f| unsafe { f(ctx as NDIS_HANDLE, ptr.0) });
    let mut found = Vec::new();
    let mut complete_now = None;
    {
        let mut l = lwf();
        let Some(r) = l.oids.reqs.get_mut(&req) else { return status };
        r.in_handler = false;
        let early = r.completed_in_handler.take();
        let m = match r.at {
            Where::Module(m) => m,
            _ => 0,
        };
        match (status, early) {
            (NDIS_STATUS_PENDING, Some(s)) => complete_now = Some(s),
            (NDIS_STATUS_PENDING, None) => {}
            (s, early) => {
                if early.is_some() {
                    found.push(v(
                        Rule::OidCompletedTwice,
                        "NdisFOidRequestComplete",
                        format!(
                            "{} completed an OID request and its FilterOidRequest returned {s:#x}, not NDIS_STATUS_PENDING",
                            l.name(m)
                        ),
                    ));
                }
                settle(&mut l, req);
            }
        }
    }
    report_now(found);
    if let Some(s) = complete_now {
        complete(req, s);
    }
    status
}

/// Marks `req` complete (its issuer is told by the caller).
fn settle(l: &mut Lwf, req: usize) {
    let Some(r) = l.oids.reqs.get_mut(&req) else { return };
    r.at = Where::Done;
    if let Some(m) = r.issuer
        && l.oids.issued.get(&m) == Some(&req)
    {
        l.oids.issued.remove(&m);
    }
    if let Some(c) = l.oids.clones.get_mut(&req) {
        c.out = false;
    }
}

/// `req` completes with `status` after its issuer was told it pends: the
/// issuer's `OidRequestCompleteHandler`, or the protocol's result. No
/// lock held.
fn complete(req: usize, status: NDIS_STATUS) {
    let call = {
        let mut l = lwf();
        settle(&mut l, req);
        let Some(r) = l.oids.reqs.get(&req) else { return };
        let (stack, ptr) = (r.stack, r.ptr);
        match r.issuer {
            None => {
                protocol_done(&mut l, stack, ptr, status);
                None
            }
            Some(m) => l
                .modules
                .get(&m)
                .and_then(|r| l.drivers.get(&r.driver).map(|d| (d.chars.OidRequestCompleteHandler, r.ctx)))
                .map(|(f, ctx)| (f, ctx, ptr)),
        }
    };
    if let Some((Some(f), ctx, ptr)) = call {
        // SAFETY: the issuer's handler with its context and its request.
        unsafe { f(ctx as NDIS_HANDLE, ptr.0, status) };
    }
    next_protocol_request_after(req);
}

/// Records the result of the protocol's current request.
fn protocol_done(l: &mut Lwf, stack: u64, ptr: ReqPtr, status: NDIS_STATUS) {
    let s = l.oids.stack(stack);
    let Some(id) = s.current.take() else { return };
    // SAFETY: the protocol's own live request and buffer.
    let result = unsafe {
        let r = ptr.0;
        if (*r).RequestType == NdisRequestQueryInformation {
            let q = (*r).DATA.QUERY_INFORMATION;
            let n = q.BytesWritten.min(q.InformationBufferLength) as usize;
            let data = if q.InformationBuffer.is_null() {
                Vec::new()
            } else {
                core::slice::from_raw_parts(q.InformationBuffer.cast::<u8>(), n).to_vec()
            };
            OidResult { status, data, bytes: q.BytesWritten, bytes_needed: q.BytesNeeded }
        } else {
            let st = (*r).DATA.SET_INFORMATION;
            OidResult { status, data: Vec::new(), bytes: st.BytesRead, bytes_needed: st.BytesNeeded }
        }
    };
    s.results.insert(id, result);
}

/// After a protocol request completed, the next queued one is issued.
fn next_protocol_request_after(req: usize) {
    let stack = {
        let l = lwf();
        match l.oids.reqs.get(&req) {
            Some(r) if r.issuer.is_none() => r.stack,
            _ => return,
        }
    };
    issue_next(stack);
}

/// Issues the protocol's next queued request, if none is current. No lock held.
fn issue_next(stack: u64) {
    loop {
        let (req, top) = {
            let mut l = lwf();
            let top = l.stacks.get(&stack).and_then(|s| s.modules.first().copied());
            let s = l.oids.stack(stack);
            if s.current.is_some() {
                return;
            }
            let Some(id) = s.queue.pop_front() else { return };
            s.current = Some(id);
            let ptr = s.protocol[&id].req;
            l.oids.reqs.insert(
                ptr.0 as usize,
                Req { ptr, stack, issuer: None, at: Where::Done, in_handler: false, completed_in_handler: None },
            );
            (ptr.0 as usize, top)
        };
        let status = deliver(req, top);
        if status == NDIS_STATUS_PENDING {
            return;
        }
        let mut l = lwf();
        let ptr = l.oids.reqs[&req].ptr;
        protocol_done(&mut l, stack, ptr, status);
    }
}

impl Stack {
    fn new_request(&self, kind: NDIS_REQUEST_TYPE, oid: u32, data: Vec<u8>) -> OidId {
        let len = data.len() as u32;
        let buf: *mut [u8] = Box::into_raw(data.into_boxed_slice());
        // SAFETY: all-zero is a valid value of this C record.
        let mut r: NDIS_OID_REQUEST = unsafe { core::mem::zeroed() };
        r.Header = NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_OID_REQUEST,
            Revision: NDIS_OID_REQUEST_REVISION_1 as u8,
            Size: NDIS_SIZEOF_OID_REQUEST_REVISION_1,
        };
        r.RequestType = kind;
        let id = {
            let mut l = lwf();
            let s = l.oids.stack(self.id);
            s.next_id += 1;
            s.next_id
        };
        r.RequestId = core::ptr::without_provenance_mut(0x0d00 + id as usize);
        // The union member the request type names (writes need no unsafe).
        if kind == NdisRequestQueryInformation {
            r.DATA.QUERY_INFORMATION.Oid = oid;
            r.DATA.QUERY_INFORMATION.InformationBuffer = buf.cast();
            r.DATA.QUERY_INFORMATION.InformationBufferLength = len;
        } else {
            r.DATA.SET_INFORMATION.Oid = oid;
            r.DATA.SET_INFORMATION.InformationBuffer = buf.cast();
            r.DATA.SET_INFORMATION.InformationBufferLength = len;
        }
        let req = ReqPtr(Box::into_raw(Box::new(r)));
        {
            let mut l = lwf();
            let s = l.oids.stack(self.id);
            s.protocol.insert(id, ProtoReq { req, buf });
            s.queue.push_back(id);
        }
        issue_next(self.id);
        OidId(id)
    }

    /// The protocol queries `oid` with a buffer of `len` bytes. NDIS
    /// serializes a binding's requests: one issued while another is
    /// pending waits for it. Its result: [`Stack::oid_result`].
    pub fn query_oid(&self, oid: u32, len: usize) -> OidId {
        self.new_request(NdisRequestQueryInformation, oid, vec![0; len])
    }

    /// The protocol sets `oid` to `data` (as [`Stack::query_oid`]).
    pub fn set_oid(&self, oid: u32, data: &[u8]) -> OidId {
        self.new_request(NdisRequestSetInformation, oid, data.to_vec())
    }

    /// The result of a protocol's request; `None` while it is pending.
    pub fn oid_result(&self, id: OidId) -> Option<OidResult> {
        lwf().oids.stack(self.id).results.get(&id.0).cloned()
    }

    /// Whether the miniport answers requests later (`NDIS_STATUS_PENDING`)
    /// rather than at once.
    pub fn set_miniport_pends(&self, pends: bool) {
        lwf().oids.stack(self.id).miniport_pends = pends;
    }

    /// How many requests the miniport holds.
    pub fn pending_miniport_oids(&self) -> usize {
        lwf().oids.stack(self.id).miniport.len()
    }

    /// The miniport answers the oldest request it holds. False when it
    /// holds none.
    pub fn complete_miniport_oid(&self) -> bool {
        let (req, status) = {
            let mut l = lwf();
            let s = l.oids.stack(self.id);
            if s.miniport.is_empty() {
                return false;
            }
            let req = s.miniport.remove(0);
            let Some(ptr) = l.oids.reqs.get(&req).map(|r| r.ptr) else { return false };
            // SAFETY: a live request the miniport holds.
            let status = unsafe { answer(&mut l.oids.stack(self.id).values, ptr.0) };
            (req, status)
        };
        complete(req, status);
        true
    }

    /// The protocol cancels its request `id` (NDIS calls the top module's
    /// `CancelOidRequestHandler` with its `RequestId`).
    pub fn cancel_oid(&self, id: OidId) {
        let top = {
            let l = lwf();
            first_taker(&l, l.stacks.get(&self.id).and_then(|s| s.modules.first().copied()))
        };
        let request_id = core::ptr::without_provenance_mut(0x0d00 + id.0 as usize);
        let f = top.and_then(|(m, _, ctx)| {
            let l = lwf();
            let d = l.modules.get(&m).and_then(|r| l.drivers.get(&r.driver))?;
            Some((d.chars.CancelOidRequestHandler, ctx))
        });
        match f {
            // SAFETY: the module's handler with its context.
            Some((Some(f), ctx)) => unsafe { f(ctx as NDIS_HANDLE, request_id) },
            _ => miniport_cancel(self.id, request_id),
        }
    }

    /// How many cancels reached the miniport.
    pub fn oid_cancels(&self) -> usize {
        lwf().oids.stack(self.id).cancels
    }

    /// The current value of an OID in the miniport's table.
    pub fn miniport_oid_value(&self, oid: u32) -> Option<Vec<u8>> {
        lwf().oids.stack(self.id).values.get(&oid).cloned()
    }
}

/// A cancel reaches the miniport: a request it holds with that id
/// completes with `NDIS_STATUS_REQUEST_ABORTED`.
fn miniport_cancel(stack: u64, request_id: PVOID) {
    let hit = {
        let mut l = lwf();
        let held = l.oids.stack(stack).miniport.clone();
        let hit = held.into_iter().find(|r| {
            // SAFETY: a live request the miniport holds.
            l.oids.reqs.get(r).is_some_and(|q| unsafe { (*q.ptr.0).RequestId } == request_id)
        });
        let s = l.oids.stack(stack);
        s.cancels += 1;
        if let Some(h) = hit {
            s.miniport.retain(|r| *r != h);
        }
        hit
    };
    if let Some(h) = hit {
        complete(h, NDIS_STATUS_REQUEST_ABORTED);
    }
}

/// The stack is dropped: requests the protocol issued and never had back
/// are reported (the watchdog); the protocol's completed requests are
/// freed, pending ones leaked (a filter may still hold them).
pub(crate) fn teardown(l: &mut Lwf, stack: u64, found: &mut Vec<Violation>) {
    let Some(s) = l.oids.stacks.remove(&stack) else { return };
    for (id, p) in s.protocol {
        let key = p.req.0 as usize;
        let pending = s.current == Some(id) && l.oids.reqs.get(&key).is_some_and(|r| r.at != Where::Done);
        if pending {
            let at = match l.oids.reqs[&key].at {
                Where::Module(m) => l.name(m),
                _ => "the miniport".to_owned(),
            };
            // SAFETY: the protocol's own request, still allocated.
            let oid = unsafe { (*p.req.0).DATA.Oid };
            found.push(v(
                Rule::OidNeverCompleted,
                "(the watchdog)",
                format!("the protocol's OID request {oid:#x} was never completed (it is with {at})"),
            ));
            l.oids.orphans.push(p);
            continue;
        }
        l.oids.reqs.remove(&key);
        // SAFETY: allocated by `new_request`, complete (or never issued):
        // no layer holds them; freed once.
        unsafe {
            drop(Box::from_raw(p.req.0));
            drop(Box::from_raw(p.buf));
        }
    }
    l.oids.reqs.retain(|_, r| r.stack != stack);
}

/// The OID clones module `m` made and has not freed: "module: OID clone".
pub(crate) fn clones_held(l: &Lwf, m: usize) -> Vec<String> {
    l.oids
        .clones
        .iter()
        .filter(|(_, c)| c.module == m)
        .map(|(a, _)| format!("{}: OID request clone {a:#x}", l.name(m)))
        .collect()
}

fn module_ok(l: &Lwf, m: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if l.modules.get(&m).is_some_and(|r| r.state != MState::Detached) {
        return true;
    }
    found.push(v(Rule::NotAnObject, ddi, format!("{m:#x} is not an attached filter module's NdisFilterHandle")));
    false
}

/// `NdisFOidRequest`: the module's request goes to the next module below
/// that takes OIDs, or to the miniport.
///
/// # Safety
///
/// As the DDI: `request` is valid until its completion.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFOidRequest(filter: NDIS_HANDLE, request: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    const DDI: &str = "NdisFOidRequest";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    let m = filter as usize;
    let key = request as usize;
    let target = {
        let mut l = lwf();
        if !module_ok(&l, m, DDI, &mut found) || request.is_null() {
            None
        } else if let Some(&out) = l.oids.issued.get(&m) {
            found.push(v(
                Rule::OidRequestWhileOneOutstanding,
                DDI,
                format!("{} issued an OID request while its request {out:#x} is not complete", l.name(m)),
            ));
            None
        } else {
            let stack = l.modules[&m].stack;
            l.oids.issued.insert(m, key);
            l.oids.reqs.insert(
                key,
                Req {
                    ptr: ReqPtr(request),
                    stack,
                    issuer: Some(m),
                    at: Where::Done,
                    in_handler: false,
                    completed_in_handler: None,
                },
            );
            if let Some(c) = l.oids.clones.get_mut(&key) {
                c.out = true;
            }
            Some(l.below(m))
        }
    };
    report_now(found);
    let Some(below) = target else { return NDIS_STATUS_FAILURE };
    let status = deliver(key, below);
    if status != NDIS_STATUS_PENDING {
        settle(&mut lwf(), key);
    }
    status
}

/// `NdisFOidRequestComplete`: the module completes a request it was
/// handed and for which its handler returns (or returned)
/// `NDIS_STATUS_PENDING`.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFOidRequestComplete(
    filter: NDIS_HANDLE,
    request: PNDIS_OID_REQUEST,
    status: NDIS_STATUS,
) {
    const DDI: &str = "NdisFOidRequestComplete";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    let m = filter as usize;
    let key = request as usize;
    let now = {
        let mut l = lwf();
        let name = l.name(m);
        if !module_ok(&l, m, DDI, &mut found) {
            false
        } else {
            match l.oids.reqs.get_mut(&key) {
                Some(r) if r.at == Where::Module(m) && r.in_handler => {
                    if r.completed_in_handler.is_some() {
                        found.push(v(Rule::OidCompletedTwice, DDI, format!("{name} completed an OID request twice")));
                        false
                    } else {
                        r.completed_in_handler = Some(status);
                        false
                    }
                }
                Some(r) if r.at == Where::Module(m) => true,
                Some(r) if r.at == Where::Done && r.issuer.is_none_or(|i| i != m) => {
                    found.push(v(
                        Rule::OidCompletedTwice,
                        DDI,
                        format!("{name} completed an OID request already completed"),
                    ));
                    false
                }
                _ => {
                    found.push(v(
                        Rule::OidNotGiven,
                        DDI,
                        format!("{name} completed an OID request ({key:#x}) NDIS did not hand it"),
                    ));
                    false
                }
            }
        }
    };
    report_now(found);
    if now {
        complete(key, status);
    }
}

/// `NdisAllocateCloneOidRequest`: a copy of `request` (sharing its
/// `InformationBuffer`), reserved areas zeroed.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateCloneOidRequest(
    source: NDIS_HANDLE,
    request: PNDIS_OID_REQUEST,
    _tag: UINT,
    clone: *mut PNDIS_OID_REQUEST,
) -> NDIS_STATUS {
    const DDI: &str = "NdisAllocateCloneOidRequest";
    at_most(DISPATCH_LEVEL, DDI);
    if request.is_null() || clone.is_null() {
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    let mut found = Vec::new();
    let m = source as usize;
    if !module_ok(&lwf(), m, DDI, &mut found) {
        report_now(found);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's live request.
    let mut copy = unsafe { *request };
    copy.NdisReserved = [0; 128];
    copy.MiniportReserved = [0; 16];
    copy.SourceReserved = [0; 16];
    // The WDK's sample sets the clone's RequestId itself; the simulator
    // leaves it NULL, so a filter that does not finds its cancels miss.
    copy.RequestId = core::ptr::null_mut();
    let p = Box::into_raw(Box::new(copy));
    {
        let mut l = lwf();
        l.oids.freed_clones.remove(&(p as usize));
        l.oids.clones.insert(p as usize, CloneRec { ptr: ReqPtr(p), module: m, out: false });
    }
    // SAFETY: the caller's out pointer.
    unsafe { *clone = p };
    NDIS_STATUS_SUCCESS
}

/// `NdisFreeCloneOidRequest`. A clone freed while the request issued with
/// it is outstanding is reported and not freed (the layer below still
/// writes it).
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeCloneOidRequest(_source: NDIS_HANDLE, request: PNDIS_OID_REQUEST) {
    const DDI: &str = "NdisFreeCloneOidRequest";
    at_most(DISPATCH_LEVEL, DDI);
    let key = request as usize;
    let mut found = Vec::new();
    let free = {
        let mut l = lwf();
        match l.oids.clones.get(&key) {
            Some(c) if c.out => {
                found.push(v(
                    Rule::CloneOidFreedBeforeCompletion,
                    DDI,
                    format!("{} freed a cloned OID request before its completion", l.name(c.module)),
                ));
                None
            }
            Some(c) => {
                let p = c.ptr;
                l.oids.clones.remove(&key);
                l.oids.reqs.remove(&key);
                l.oids.freed_clones.insert(key);
                Some(p)
            }
            None if l.oids.freed_clones.contains(&key) => {
                found.push(v(Rule::DoubleFree, DDI, format!("the cloned OID request {key:#x} is already freed")));
                None
            }
            None => {
                found.push(v(
                    Rule::NotAnObject,
                    DDI,
                    format!("{key:#x} is not an OID request NdisAllocateCloneOidRequest made"),
                ));
                None
            }
        }
    };
    report_now(found);
    if let Some(p) = free {
        // SAFETY: allocated by NdisAllocateCloneOidRequest, freed once.
        drop(unsafe { Box::from_raw(p.0) });
    }
}

/// `NdisFCancelOidRequest`: the cancel goes to the next module below that
/// takes OIDs (its `CancelOidRequestHandler`), or to the miniport.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFCancelOidRequest(filter: NDIS_HANDLE, request_id: PVOID) {
    const DDI: &str = "NdisFCancelOidRequest";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    let m = filter as usize;
    let next = {
        let l = lwf();
        if module_ok(&l, m, DDI, &mut found) {
            let stack = l.modules[&m].stack;
            let below = first_taker(&l, l.below(m)).map(|(b, _, ctx)| {
                let f =
                    l.modules.get(&b).and_then(|r| l.drivers.get(&r.driver)).map(|d| d.chars.CancelOidRequestHandler);
                (f.flatten(), ctx)
            });
            Some((stack, below))
        } else {
            None
        }
    };
    report_now(found);
    match next {
        // SAFETY: the module's handler with its context.
        Some((_, Some((Some(f), ctx)))) => unsafe { f(ctx as NDIS_HANDLE, request_id) },
        Some((stack, _)) => miniport_cancel(stack, request_id),
        None => {}
    }
}
