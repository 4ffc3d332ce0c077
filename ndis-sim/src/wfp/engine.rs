//! Classify calls, the write-right rule, and pended classifies.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::*;
use ndis_sys::NET_BUFFER_LIST;

use super::values::{Incoming, lay_out};
use crate::model::callout::{self, ClassifyFn};
use crate::model::irql::DISPATCH_LEVEL;
use crate::verifier::{Rule, report, v};

/// The filter that sends a classify to the callout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// `filterId`.
    pub id: u64,
    /// `flags` (`FWPS_FILTER_FLAG_*`).
    pub flags: u16,
    /// `context`.
    pub context: u64,
    /// Whether the callout gets `FWPS_RIGHT_ACTION_WRITE` (false: a
    /// higher-priority filter made a hard decision).
    pub write_right: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter { id: 1, flags: 0, context: 0, write_right: true }
    }
}

/// The metadata of a classify; `None` fields are absent (their
/// `FWPS_METADATA_FIELD_*` bit clear).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `ipHeaderSize`.
    pub ip_header_size: Option<u32>,
    /// `transportHeaderSize`.
    pub transport_header_size: Option<u32>,
    /// `sourceInterfaceIndex`.
    pub source_interface_index: Option<u32>,
    /// `destinationInterfaceIndex`.
    pub destination_interface_index: Option<u32>,
    /// `compartmentId`.
    pub compartment_id: Option<u32>,
    /// `flowHandle`.
    pub flow_handle: Option<u64>,
    /// `processId`.
    pub process_id: Option<u64>,
    /// `remoteScopeId`.
    pub remote_scope_id: Option<u32>,
    /// `controlData` (bytes of `WSACMSGHDR`s).
    pub control_data: Option<Vec<u8>>,
    /// Whether the classify carries a `completionHandle` (as ALE
    /// authorization classifies do), for `FwpsPendOperation0`.
    pub completion_handle: bool,
    /// `redirectRecords` (at the connect-redirect layers): the
    /// connection's redirect records ([`new_redirect_records`]), which
    /// `FwpsQueryConnectionRedirectState0` reads and a redirection with a
    /// redirect handle adds to.
    pub redirect_records: Option<u64>,
}

/// What a classify returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// `actionType`.
    pub action: u32,
    /// `rights`.
    pub rights: u32,
    /// `flags`.
    pub flags: u32,
    /// Whether the callout pended the classify.
    pub pended: bool,
}

impl Outcome {
    /// Whether the write right is still set.
    pub fn write_right(&self) -> bool {
        self.rights & FWPS_RIGHT_ACTION_WRITE != 0
    }

    /// Whether the packet was absorbed.
    pub fn absorbed(&self) -> bool {
        self.flags & FWPS_CLASSIFY_OUT_FLAG_ABSORB != 0
    }
}

/// A classify handle's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HandleState {
    Acquired,
    Pended,
    Completed,
    Released,
}

pub(super) struct Handle {
    pub(super) state: HandleState,
    session: u64,
    /// The classify context it was acquired for.
    pub(super) context: usize,
}

/// A connect redirected by a callout (`FwpsApplyModifiedLayerData0` at a
/// connect-redirect layer), as a test reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirection {
    /// The remote address and port the connect now goes to.
    pub remote: Option<std::net::SocketAddr>,
    /// `localRedirectHandle` (0 if none).
    pub redirect_handle: usize,
    /// `localRedirectTargetPID`.
    pub target_pid: u32,
}

/// The engine's writable layer data of one classify: the connect request
/// at the connect-redirect layers, the bind request at the bind-redirect
/// layers; with the classify's redirect records.
#[derive(Clone, Copy)]
pub(super) enum Request {
    /// `FWPS_CONNECT_REQUEST0`, and the classify's redirect records.
    Connect(*mut FWPS_CONNECT_REQUEST0, Option<u64>),
    /// `FWPS_BIND_REQUEST0`.
    Bind(*mut FWPS_BIND_REQUEST0),
}
// SAFETY: the request is the engine's, reached under its lock or by the
// classify that owns it.
unsafe impl Send for Request {}

impl Request {
    /// The writable layer data, as the DDI hands it out.
    pub(super) fn ptr(self) -> *mut core::ffi::c_void {
        match self {
            Request::Connect(p, _) => p.cast(),
            Request::Bind(p) => p.cast(),
        }
    }

    /// Frees the request.
    ///
    /// # Safety
    ///
    /// Made by `Box::into_raw` in [`classify`], freed once, when its
    /// classify is over.
    unsafe fn free(self) {
        // SAFETY: the caller's guarantee.
        unsafe {
            match self {
                Request::Connect(p, _) => drop(Box::from_raw(p)),
                Request::Bind(p) => drop(Box::from_raw(p)),
            }
        }
    }
}

fn sockaddr(s: &mut SOCKADDR_STORAGE, a: std::net::SocketAddr) {
    // SAFETY: SOCKADDR_STORAGE is 128 bytes of integers, no padding.
    let b = unsafe { &mut *(s as *mut SOCKADDR_STORAGE).cast::<[u8; 128]>() };
    *b = [0; 128];
    b[2..4].copy_from_slice(&a.port().to_be_bytes());
    match a {
        std::net::SocketAddr::V4(v) => {
            b[0..2].copy_from_slice(&AF_INET.to_ne_bytes());
            b[4..8].copy_from_slice(&v.ip().octets());
        }
        std::net::SocketAddr::V6(v) => {
            b[0..2].copy_from_slice(&AF_INET6.to_ne_bytes());
            b[8..24].copy_from_slice(&v.ip().octets());
        }
    }
}

pub(super) fn sockaddr_of(s: &SOCKADDR_STORAGE) -> Option<std::net::SocketAddr> {
    // SAFETY: as above.
    let b = unsafe { &*(s as *const SOCKADDR_STORAGE).cast::<[u8; 128]>() };
    let port = u16::from_be_bytes([b[2], b[3]]);
    match s.ss_family {
        AF_INET => Some(std::net::SocketAddr::new(std::net::Ipv4Addr::new(b[4], b[5], b[6], b[7]).into(), port)),
        AF_INET6 => {
            let a: [u8; 16] = b[8..24].try_into().ok()?;
            Some(std::net::SocketAddr::new(std::net::Ipv6Addr::from(a).into(), port))
        }
        _ => None,
    }
}

#[derive(Default)]
pub(super) struct Engine {
    /// Classify contexts of classifies in progress.
    pub(super) active: Vec<usize>,
    pub(super) next_context: usize,
    pub(super) handles: HashMap<u64, Handle>,
    pub(super) next_handle: u64,
    /// The decisions pended classifies were completed with.
    pub(super) completions: Vec<(u64, FWPS_CLASSIFY_OUT0)>,
    /// Flow contexts: (flow, layer, callout) → context.
    pub(super) flows: Vec<((u64, u16, u32), u64)>,
    /// Pended operations: completion context → (completed, session).
    pub(super) operations: HashMap<usize, (bool, u64)>,
    /// Completion contexts completed, oldest first.
    pub(super) completed_operations: Vec<usize>,
    /// The writable connect or bind request of each redirect classify in
    /// progress (a `Box::into_raw`, freed when the classify returns).
    pub(super) requests: HashMap<usize, Request>,
    /// Connects redirected.
    pub(super) redirections: Vec<Redirection>,
    /// Binds redirected: the local address and port they now bind to.
    pub(super) bind_redirections: Vec<Option<std::net::SocketAddr>>,
    /// Redirect records: id → the redirect handles that redirected the
    /// connection, oldest first.
    pub(super) records: HashMap<u64, Vec<usize>>,
    /// The decision each pended classify was completed with, by handle,
    /// kept for the connection waiting on it ([`Pending`](super::Pending)).
    pub(super) completed_with: HashMap<u64, FWPS_CLASSIFY_OUT0>,
    /// The redirect records of each connection made by `Connection::connect`, by flow.
    pub(super) connection_records: HashMap<u64, u64>,
    /// Redirect handles created and not destroyed.
    pub(super) redirect_handles: Vec<usize>,
}

static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

fn engine() -> MutexGuard<'static, Option<Engine>> {
    ENGINE.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn with_engine<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    let mut g = engine();
    f(g.get_or_insert_with(Engine::default))
}

pub(super) fn session() -> u64 {
    crate::model::SESSION.load(std::sync::atomic::Ordering::SeqCst)
}

/// A pended classify not yet completed and released, as the watchdog
/// lists it at the end of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pended {
    /// The classify handle.
    pub handle: u64,
    /// `"acquired"`, `"pended"` or `"completed"` (not released).
    pub state: &'static str,
}

/// The watchdog: this session's classify handles not yet completed and
/// released (a pend that never completes holds a connection forever).
pub fn outstanding_pends() -> Vec<Pended> {
    let s = session();
    with_engine(|e| {
        let mut out: Vec<Pended> = e
            .handles
            .iter()
            .filter(|(_, h)| h.session == s && h.state != HandleState::Released)
            .map(|(&handle, h)| Pended {
                handle,
                state: match h.state {
                    HandleState::Acquired => "acquired",
                    HandleState::Pended => "pended",
                    _ => "completed",
                },
            })
            .collect();
        out.extend(
            e.operations
                .iter()
                .filter(|(_, (done, sess))| !done && *sess == s)
                .map(|(&c, _)| Pended { handle: c as u64, state: "operation" }),
        );
        out.sort_by_key(|p| p.handle);
        out
    })
}

/// Takes the decisions pended classifies were completed with
/// (`FwpsCompleteClassify0`), by classify handle.
pub fn completions() -> Vec<(u64, Outcome)> {
    with_engine(|e| std::mem::take(&mut e.completions))
        .into_iter()
        .map(|(h, o)| (h, Outcome { action: o.actionType, rights: o.rights, flags: o.flags, pended: false }))
        .collect()
}

/// Adds (`true`) or removes a filter's reference on callout `id`, as
/// adding a filter whose action names it does; while referenced, the
/// callout cannot be unregistered (`STATUS_DEVICE_BUSY`).
pub fn filter_reference(id: u32, add: bool) -> bool {
    let mut all = callout::callouts();
    match all.iter_mut().find(|c| c.id == id) {
        Some(c) => {
            if add {
                c.filters += 1;
            } else {
                c.filters = c.filters.saturating_sub(1);
            }
            true
        }
        None => false,
    }
}

/// Calls registered callout `id` as the engine does when `filter` sends it
/// a classify at `incoming.layer`: with its own classify signature (the
/// version it was registered with; a classify context from version 1 on),
/// the full value array, `meta`, and `layer_data` (an NBL the stack lends,
/// or NULL), at `DISPATCH_LEVEL`. Reports
/// [`Rule::ClassifyOutWrittenWithoutRight`]. `None` when no such callout
/// is registered.
///
/// # Safety
///
/// `layer_data` is what the layer passes (a live NBL the stack lends, a
/// stream packet at the stream layer, or NULL).
pub unsafe fn classify(
    id: u32,
    incoming: &Incoming,
    meta: &Metadata,
    layer_data: *mut NET_BUFFER_LIST,
    filter: Filter,
) -> Option<Outcome> {
    let classify_fn = {
        let mut all = callout::callouts();
        let c = all.iter_mut().find(|c| c.id == id)?;
        c.in_progress += 1;
        c.classify
    };
    let flow_context = meta.flow_handle.map_or(0, |flow| {
        with_engine(|e| e.flows.iter().find(|(k, _)| *k == (flow, incoming.layer, id)).map_or(0, |(_, c)| *c))
    });
    let mut laid = lay_out(incoming);
    let values = FWPS_INCOMING_VALUES0 {
        layerId: incoming.layer,
        valueCount: laid.values.len() as u32,
        incomingValue: laid.values.as_mut_ptr(),
    };
    // SAFETY: all-zero is a valid metadata record (no field present).
    let mut m: FWPS_INCOMING_METADATA_VALUES0 = unsafe { std::mem::zeroed() };
    let mut set = |bit: u32| m.currentMetadataValues |= bit;
    let mut control = meta.control_data.clone();
    if meta.ip_header_size.is_some() {
        set(FWPS_METADATA_FIELD_IP_HEADER_SIZE);
    }
    if meta.transport_header_size.is_some() {
        set(FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE);
    }
    if meta.source_interface_index.is_some() {
        set(FWPS_METADATA_FIELD_SOURCE_INTERFACE_INDEX);
    }
    if meta.destination_interface_index.is_some() {
        set(FWPS_METADATA_FIELD_DESTINATION_INTERFACE_INDEX);
    }
    if meta.compartment_id.is_some() {
        set(FWPS_METADATA_FIELD_COMPARTMENT_ID);
    }
    if meta.flow_handle.is_some() {
        set(FWPS_METADATA_FIELD_FLOW_HANDLE);
    }
    if meta.process_id.is_some() {
        set(FWPS_METADATA_FIELD_PROCESS_ID);
    }
    if meta.remote_scope_id.is_some() {
        set(FWPS_METADATA_FIELD_REMOTE_SCOPE_ID);
    }
    if control.is_some() {
        set(FWPS_METADATA_FIELD_TRANSPORT_CONTROL_DATA);
    }
    if meta.completion_handle {
        set(FWPS_METADATA_FIELD_COMPLETION_HANDLE);
    }
    if meta.redirect_records.is_some() {
        set(FWPS_METADATA_FIELD_REDIRECT_RECORD_HANDLE);
    }
    m.ipHeaderSize = meta.ip_header_size.unwrap_or(0);
    m.transportHeaderSize = meta.transport_header_size.unwrap_or(0);
    m.sourceInterfaceIndex = meta.source_interface_index.unwrap_or(0);
    m.destinationInterfaceIndex = meta.destination_interface_index.unwrap_or(0);
    m.compartmentId = meta.compartment_id.unwrap_or(0);
    m.flowHandle = meta.flow_handle.unwrap_or(0);
    m.processId = meta.process_id.unwrap_or(0);
    m.remoteScopeId.__bindgen_anon_1.Value = meta.remote_scope_id.unwrap_or(0);
    m.redirectRecords = core::ptr::without_provenance_mut(meta.redirect_records.unwrap_or(0) as usize);
    if let Some(c) = control.as_mut() {
        m.controlData = c.as_mut_ptr().cast();
        m.controlDataLength = c.len() as u32;
    }
    let mut out = FWPS_CLASSIFY_OUT0 {
        actionType: FWP_ACTION_CONTINUE,
        rights: if filter.write_right { FWPS_RIGHT_ACTION_WRITE } else { 0 },
        ..Default::default()
    };
    let before = out;
    let context = with_engine(|e| {
        e.next_context += 1;
        let c = 0x5157_0000 + e.next_context * 16;
        e.active.push(c);
        c
    });
    if let Some((local, remote)) = super::values::endpoints_of(incoming)
        && matches!(i32::from(incoming.layer), FWPS_LAYER_ALE_CONNECT_REDIRECT_V4 | FWPS_LAYER_ALE_CONNECT_REDIRECT_V6)
    {
        // SAFETY: an all-zero connect request is valid (NULL pointers).
        let mut req: Box<FWPS_CONNECT_REQUEST0> = Box::new(unsafe { std::mem::zeroed() });
        sockaddr(&mut req.localAddressAndPort, local);
        sockaddr(&mut req.remoteAddressAndPort, remote);
        let p = Request::Connect(Box::into_raw(req), meta.redirect_records);
        with_engine(|e| e.requests.insert(context, p));
    }
    if let Some(local) = super::values::local_of(incoming)
        && matches!(i32::from(incoming.layer), FWPS_LAYER_ALE_BIND_REDIRECT_V4 | FWPS_LAYER_ALE_BIND_REDIRECT_V6)
    {
        // SAFETY: an all-zero bind request is valid (NULL pointers).
        let mut req: Box<FWPS_BIND_REQUEST0> = Box::new(unsafe { std::mem::zeroed() });
        sockaddr(&mut req.localAddressAndPort, local);
        let p = Request::Bind(Box::into_raw(req));
        with_engine(|e| e.requests.insert(context, p));
    }
    // Handles and completion contexts are numbered in order: those this
    // classify makes come after `numbered`.
    let numbered = with_engine(|e| e.next_handle);
    // SAFETY: all-zero filters are valid records (no conditions, NULL pointers).
    let (mut f0, mut f1, mut f2, mut f3): (FWPS_FILTER0, FWPS_FILTER1, FWPS_FILTER2, FWPS_FILTER3) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed(), std::mem::zeroed(), std::mem::zeroed()) };
    macro_rules! fill {
        ($f:ident) => {
            $f.filterId = filter.id;
            $f.flags = filter.flags;
            $f.context = filter.context;
            $f.action.calloutId = id;
        };
    }
    fill!(f0);
    fill!(f1);
    fill!(f2);
    fill!(f3);
    if meta.completion_handle {
        m.completionHandle = core::ptr::without_provenance_mut(context + 8);
    }
    let data = layer_data.cast::<core::ffi::c_void>();
    let ctx = core::ptr::without_provenance::<core::ffi::c_void>(context);
    {
        let _dispatch = crate::model::irql::raise(DISPATCH_LEVEL.max(crate::model::irql::current()));
        // SAFETY: the callout's own classify function with the signature it
        // was registered with; every pointer is to a local that outlives
        // the call.
        unsafe {
            match classify_fn {
                ClassifyFn::V0(Some(f)) => f(&values, &m, data, &f0, flow_context, &mut out),
                ClassifyFn::V1(Some(f)) => f(&values, &m, data, ctx, &f1, flow_context, &mut out),
                ClassifyFn::V2(Some(f)) => f(&values, &m, data, ctx, &f2, flow_context, &mut out),
                ClassifyFn::V3(Some(f)) => f(&values, &m, data, ctx, &f3, flow_context, &mut out),
                _ => {}
            }
        }
    }
    if let Some(p) = with_engine(|e| e.requests.remove(&context)) {
        // SAFETY: made by Box::into_raw above; the classify is over.
        unsafe { p.free() };
    }
    let pended = with_engine(|e| {
        e.active.retain(|&c| c != context);
        (numbered + 1..=e.next_handle).any(|n| {
            e.handles.get(&handle_id(n)).is_some_and(|h| h.state == HandleState::Pended)
                || e.operations.contains_key(&super::operations::operation_id(n))
        })
    });
    if let Some(c) = callout::callouts().iter_mut().find(|c| c.id == id) {
        c.in_progress = c.in_progress.saturating_sub(1);
    }
    if before.rights & FWPS_RIGHT_ACTION_WRITE == 0
        && out.actionType != before.actionType
        && out.actionType != FWP_ACTION_BLOCK
    {
        report::report(vec![v(
            Rule::ClassifyOutWrittenWithoutRight,
            "(classify returns)",
            format!("callout {id} set actionType {:#x} without FWPS_RIGHT_ACTION_WRITE", out.actionType),
        )]);
    }
    Some(Outcome { action: out.actionType, rights: out.rights, flags: out.flags, pended })
}

/// The classify handle numbered `n`.
pub(super) fn handle_id(n: u64) -> u64 {
    0x00C1_A551_F000_0000 + n
}

/// `FwpsAcquireClassifyHandle0`'s transition: a handle for a classify in
/// progress.
pub(super) fn acquire(context: usize) -> Option<u64> {
    let s = session();
    with_engine(|e| {
        if !e.active.contains(&context) {
            return None;
        }
        e.next_handle += 1;
        let h = handle_id(e.next_handle);
        e.handles.insert(h, Handle { state: HandleState::Acquired, session: s, context });
        Some(h)
    })
}

/// Moves handle `h` from `from` to `to`; a report when it is not in `from`.
pub(super) fn step(h: u64, from: HandleState2, to: HandleState2, ddi: &'static str) -> bool {
    let (from, to) = (from.0, to.0);
    let found = with_engine(|e| match e.handles.get_mut(&h) {
        Some(x) if x.state == from => {
            x.state = to;
            None
        }
        Some(x) => Some(format!("classify handle {h:#x} is {:?}, not {from:?}", x.state)),
        None => Some(format!("{h:#x} is not a classify handle the engine gave")),
    });
    match found {
        None => true,
        Some(msg) => {
            report::report(vec![v(Rule::ClassifyHandleMisuse, ddi, msg)]);
            false
        }
    }
}

/// Records the decision a pended classify was completed with.
pub(super) fn record_completion(h: u64, out: FWPS_CLASSIFY_OUT0) {
    with_engine(|e| {
        e.completions.push((h, out));
        e.completed_with.insert(h, out);
    });
}

/// New, empty redirect records for a connection (what the engine passes
/// as `redirectRecords` at the connect-redirect layers). A connection a
/// local proxy makes on behalf of a redirected one carries the records of
/// the redirected connection.
pub fn new_redirect_records() -> u64 {
    with_engine(|e| {
        e.next_handle += 1;
        let id = 0x0000_5EC0_0000_0000 + e.next_handle;
        e.records.insert(id, Vec::new());
        id
    })
}

/// A handle state, for [`step`].
#[derive(Debug, Clone, Copy)]
pub(super) struct HandleState2(HandleState);

impl HandleState2 {
    pub(super) const ACQUIRED: HandleState2 = HandleState2(HandleState::Acquired);
    pub(super) const PENDED: HandleState2 = HandleState2(HandleState::Pended);
    pub(super) const COMPLETED: HandleState2 = HandleState2(HandleState::Completed);
    pub(super) const RELEASED: HandleState2 = HandleState2(HandleState::Released);
}

/// Releases `h`: from any state but released (a handle acquired and never
/// pended may be released at once).
pub(super) fn release(h: u64) {
    let found = with_engine(|e| match e.handles.get_mut(&h) {
        Some(x) if x.state == HandleState::Released => Some(format!("classify handle {h:#x} released twice")),
        Some(x) if x.state == HandleState::Pended => {
            Some(format!("classify handle {h:#x} released while its classify is pended (complete it first)"))
        }
        Some(x) => {
            x.state = HandleState::Released;
            None
        }
        None => Some(format!("{h:#x} is not a classify handle the engine gave")),
    });
    if let Some(msg) = found {
        report::report(vec![v(Rule::ClassifyHandleMisuse, "FwpsReleaseClassifyHandle0", msg)]);
    }
}
