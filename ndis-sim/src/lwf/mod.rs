//! The simulated NDIS filter stack: a protocol above, a miniport below,
//! and one module of each filter driver the test stacks between them.
//!
//! A filter registers itself as on Windows (`NdisFRegisterFilterDriver`);
//! the test builds a [`Stack`] from the registered drivers (top first),
//! then drives it: [`Stack::attach`], [`Stack::restart`], traffic
//! ([`Stack::send`] from the protocol, [`Stack::receive`] from the
//! miniport, lent or with `NDIS_RECEIVE_FLAGS_RESOURCES`), completions in
//! any order ([`Stack::complete_send`], [`Stack::return_receive`]),
//! [`Stack::pause`] (the protocol's binding first, then the modules top
//! first, as NDIS pauses a stack: a module's pause starts only when what it
//! passed through is back, and completes when its own NBLs are) and
//! [`Stack::detach`].
//! Data-path calls run at `DISPATCH_LEVEL`, with the dispatch-level flags
//! set, as NDIS runs them; attach, restart, pause and detach at the
//! caller's IRQL.
//!
//! The stack knows where every NBL is — which module holds it, which way
//! it travels, which modules passed it on — and the verifier reports
//! ([`Rule`]): an NBL completed or returned twice
//! (`NetBufferListGivenBackTwice`), by a module that does not hold it
//! (`NetBufferListWrongFilter`), the wrong way
//! (`NetBufferListWrongDirection`), with its `SourceHandle` changed, a
//! chain whose links loop or whose count is wrong (`ChainLinksBroken`),
//! sends or indications by a paused module (`FilterPaused`), a pause or
//! restart completed twice or when none is pending
//! (`PauseOrRestartNotPending`), a pause completed with NBLs the module
//! originated (sent down or indicated up) not back
//! (`PauseCompletedWithOutstanding`), a low-resources NBL used after the
//! receive handler returned or returned with `NdisFReturnNetBufferLists`
//! (`ResourcesNetBufferListKept`), dispatch-level flags that lie
//! (`DispatchLevelFlagWithoutDispatchLevel`), and, when the stack is
//! dropped, a pause or restart never completed (`PauseNeverCompleted`,
//! the watchdog).
//!
//! NBLs a module still holds when it detaches (or when the stack is
//! dropped) are leaks, not reports: [`Stack::held`] names them and
//! [`Session::leaks`](crate::Session::leaks) lists them (the protocol's and
//! the miniport's NBLs are never freed). A forgotten chain in safe code
//! thus ends in a leak, as DESIGN §6 rule 9 asks.
//!
//! OID requests go down from the protocol through the modules that take
//! them to the miniport, which answers at once or later; status
//! indications and network PnP events come up from the miniport, device
//! PnP events go down ([`Stack::query_oid`], [`Stack::indicate_status`],
//! …; see `oid.rs` and `status.rs`). The verifier reports an OID request
//! completed twice (`OidCompletedTwice`) or by a module NDIS did not hand
//! it to (`OidNotGiven`), a module's second request issued before its
//! first completed (`OidRequestWhileOneOutstanding`), a cloned request
//! freed before its completion (`CloneOidFreedBeforeCompletion`) and, when
//! the stack is dropped, a protocol request never completed
//! (`OidNeverCompleted`, the watchdog). OID clones a module never freed
//! are named by [`Stack::held`].
//!
//! Not simulated: direct OID requests, NDIS ports other than the one
//! given, and the miniport's own pause (the miniport and protocol never
//! pause).

pub(crate) mod ddi;
mod flow;
pub(crate) mod oid;
pub(crate) mod state;
pub(crate) mod status;

pub use oid::{OidId, OidResult};

use std::cell::RefCell;

use ndis_sys::*;

use flow::Call;
use state::{At, Dir, MState, ModuleRec, Origin, Phase, StackRec, Track, lwf};

use crate::model::irql::{DISPATCH_LEVEL, current, raise};
use crate::model::lent;
use crate::verifier::{self, Rule, Violation, v};

thread_local! {
    static TO_FREE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The stack regains `nbl` for good (after the lock is released).
pub(crate) fn free_later(nbl: usize) {
    TO_FREE.with(|f| f.borrow_mut().push(nbl));
}

/// Frees what the stack regained.
///
/// The list holds addresses (the stack's bookkeeping is keyed by them);
/// the pointer each NBL is freed through is the model's own record pointer
/// (`NblInfo::record`), which keeps the allocation's provenance, rather
/// than an address cast back to a pointer.
pub(crate) fn free_pending() {
    let list = TO_FREE.with(|f| std::mem::take(&mut *f.borrow_mut()));
    for n in list {
        verifier::with(|st, found| {
            let Some(record) = st.nbl(n).filter(|i| i.lent.is_some()).map(|i| i.record.0) else { return };
            if lent::give_back(st, n) {
                // SAFETY: a live NBL the stack made, through its record pointer.
                unsafe { verifier::clone::stack_regains(st, record.cast(), "(the stack regains it)", found) };
            }
        });
    }
}

/// Reports violations now (no lock held).
pub(crate) fn report_now(found: Vec<Violation>) {
    verifier::report::report(found);
}

fn run(calls: Vec<Call>) {
    for c in calls {
        c.run();
    }
    free_pending();
}

/// A simulated filter stack (see the [module docs](self)).
#[derive(Debug)]
pub struct Stack {
    id: u64,
}

impl Stack {
    /// A stack with one module of each registered filter driver in
    /// `drivers` (their `NdisFilterDriverHandle`s, top first), detached.
    /// Panics if one is not registered.
    pub fn new(drivers: &[NDIS_HANDLE]) -> Stack {
        let mut l = lwf();
        l.next_stack += 1;
        let id = l.next_stack;
        let mut rec = StackRec { protocol: l.handle(), miniport: l.handle(), ..StackRec::default() };
        for (i, d) in drivers.iter().enumerate() {
            assert!(l.drivers.contains_key(&(*d as usize)), "{d:p} is not a registered filter driver");
            let m = l.handle();
            l.modules.insert(
                m,
                ModuleRec {
                    driver: *d as usize,
                    stack: id,
                    ctx: 0,
                    state: MState::Detached,
                    pause_pending: false,
                    restart_pending: false,
                    in_pause: false,
                    completed_in_pause: false,
                    in_restart: false,
                    completed_in_restart: None,
                    name: format!("filter module #{i} of stack #{id}"),
                },
            );
            rec.modules.push(m);
        }
        l.stacks.insert(id, rec);
        Stack { id }
    }

    fn modules(&self) -> Vec<usize> {
        lwf().stacks.get(&self.id).map(|s| s.modules.clone()).unwrap_or_default()
    }

    /// The `NdisFilterHandle` of module `i` (0 is the top).
    pub fn module(&self, i: usize) -> NDIS_HANDLE {
        self.modules().get(i).map_or(core::ptr::null_mut(), |m| *m as NDIS_HANDLE)
    }

    /// Attaches every module, bottom first (each starts paused). The first
    /// failing attach's status is returned; the modules above it are not
    /// attached.
    pub fn attach(&self) -> Result<(), NDIS_STATUS> {
        for m in self.modules().into_iter().rev() {
            let (f, ctx) = {
                let mut l = lwf();
                let Some(r) = l.modules.get_mut(&m) else { continue };
                r.state = MState::Attaching;
                let d = r.driver;
                let drv = &l.drivers[&d];
                (drv.chars.AttachHandler, drv.context)
            };
            // SAFETY: all-zero is a valid value of this C record.
            let mut params: NDIS_FILTER_ATTACH_PARAMETERS = unsafe { core::mem::zeroed() };
            params.Header = NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_FILTER_ATTACH_PARAMETERS,
                Revision: NDIS_FILTER_ATTACH_PARAMETERS_REVISION_4 as u8,
                Size: NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_4,
            };
            params.BaseMiniportIfIndex = 7;
            params.MiniportMediaType = NdisMedium802_3;
            params.MacAddressLength = 6;
            params.CurrentMacAddress[..6].copy_from_slice(&[0x02, 0, 0x5e, 0x10, 0, 1]);
            let Some(f) = f else { continue };
            // SAFETY: the driver's attach handler, as NDIS calls it.
            let status = unsafe { f(m as NDIS_HANDLE, ctx as NDIS_HANDLE, &mut params) };
            let mut l = lwf();
            let ok = status == NDIS_STATUS_SUCCESS && l.modules[&m].ctx != 0;
            if let Some(r) = l.modules.get_mut(&m) {
                r.state = if ok { MState::Paused } else { MState::Detached };
            }
            if !ok {
                return Err(if status == NDIS_STATUS_SUCCESS { NDIS_STATUS_FAILURE } else { status });
            }
        }
        Ok(())
    }

    /// Restarts every paused module, bottom first. Returns whether all run
    /// (a restart the filter pends runs when it calls `NdisFRestartComplete`).
    pub fn restart(&self) -> bool {
        if let Some(s) = lwf().stacks.get_mut(&self.id) {
            s.pausing = false;
        }
        for m in self.modules().into_iter().rev() {
            let (f, ctx) = {
                let mut l = lwf();
                let Some(r) = l.modules.get_mut(&m) else { continue };
                if r.state != MState::Paused {
                    continue;
                }
                r.state = MState::Restarting;
                r.restart_pending = true;
                r.in_restart = true;
                r.completed_in_restart = None;
                let (d, ctx) = (r.driver, r.ctx);
                (l.drivers[&d].chars.RestartHandler, ctx)
            };
            // SAFETY: all-zero is a valid value of this C record.
            let mut params: NDIS_FILTER_RESTART_PARAMETERS = unsafe { core::mem::zeroed() };
            params.Header.Type = NDIS_OBJECT_TYPE_FILTER_RESTART_PARAMETERS;
            params.Header.Revision = NDIS_FILTER_RESTART_PARAMETERS_REVISION_1 as u8;
            params.Header.Size = NDIS_SIZEOF__FILTER_RESTART_PARAMETERS_REVISION_1;
            // SAFETY: the driver's handler with its module context.
            let status = f.map_or(NDIS_STATUS_SUCCESS, |f| unsafe { f(ctx as NDIS_HANDLE, &mut params) });
            let mut found = Vec::new();
            {
                let mut l = lwf();
                let name = l.name(m);
                if let Some(r) = l.modules.get_mut(&m) {
                    r.in_restart = false;
                    let early = r.completed_in_restart.take();
                    match (status, early) {
                        (NDIS_STATUS_PENDING, Some(s)) => {
                            r.restart_pending = false;
                            r.state = if s == NDIS_STATUS_SUCCESS { MState::Running } else { MState::Paused };
                        }
                        (NDIS_STATUS_PENDING, None) => {}
                        (s, early) => {
                            if early.is_some() {
                                found.push(v(
                                    Rule::PauseOrRestartNotPending,
                                    "NdisFRestartComplete",
                                    format!(
                                        "{name} completed its restart and returned {s:#x}, not NDIS_STATUS_PENDING"
                                    ),
                                ));
                            }
                            r.restart_pending = false;
                            r.state = if s == NDIS_STATUS_SUCCESS { MState::Running } else { MState::Paused };
                        }
                    }
                }
            }
            report_now(found);
        }
        self.is_running()
    }

    /// Pauses the stack as NDIS does ("Pausing a Driver Stack"): the
    /// protocol's binding first — it sends nothing more (a send the test
    /// makes now is completed with `NDIS_STATUS_PAUSED` at once), returns
    /// what is indicated to it from now on at once, and its pause completes
    /// when its sends are complete and the receives it holds are returned —
    /// then every running module, top first, each once the one above it is
    /// paused. Returns whether all are paused now; otherwise the pause goes
    /// on as the protocol's NBLs come back ([`Stack::complete_send`],
    /// [`Stack::return_receive`]) and modules complete their pauses
    /// (`NdisFPauseComplete`), and [`Stack::is_paused`] tells. So a module's
    /// pause handler runs only when every NBL it passed through is back: its
    /// pause waits only for its own NBLs (`PauseCompletedWithOutstanding`
    /// otherwise).
    pub fn pause(&self) -> bool {
        let modules = self.modules();
        {
            let mut l = lwf();
            let running = modules.iter().any(|m| l.modules.get(m).is_some_and(|r| r.state == MState::Running));
            if let Some(s) = l.stacks.get_mut(&self.id) {
                s.pausing |= running;
            }
        }
        self.is_paused()
    }

    /// Takes the stack's pause as far as it can go now: the next running
    /// module's pause handler, once the protocol has nothing out and the
    /// modules above it are paused.
    fn advance_pause(&self) {
        loop {
            let (m, f, ctx) = {
                let mut l = lwf();
                let Some(s) = l.stacks.get(&self.id) else { return };
                if !s.pausing || l.protocol_out(self.id) > 0 {
                    return;
                }
                let mut next = None;
                for m in s.modules.clone() {
                    match l.modules.get(&m).map(|r| r.state) {
                        Some(MState::Running) => {
                            next = Some(m);
                            break;
                        }
                        Some(MState::Pausing | MState::Restarting) => return,
                        _ => {}
                    }
                }
                let Some(m) = next else {
                    if let Some(s) = l.stacks.get_mut(&self.id) {
                        s.pausing = false;
                    }
                    return;
                };
                let Some(r) = l.modules.get_mut(&m) else { return };
                r.state = MState::Pausing;
                r.pause_pending = true;
                r.in_pause = true;
                r.completed_in_pause = false;
                let (d, ctx) = (r.driver, r.ctx);
                (m, l.drivers[&d].chars.PauseHandler, ctx)
            };
            // SAFETY: all-zero is a valid value of this C record.
            let mut params: NDIS_FILTER_PAUSE_PARAMETERS = unsafe { core::mem::zeroed() };
            params.Header.Type = NDIS_OBJECT_TYPE_FILTER_PAUSE_PARAMETERS;
            params.Header.Revision = NDIS_FILTER_PAUSE_PARAMETERS_REVISION_1 as u8;
            params.Header.Size = NDIS_SIZEOF_FILTER_PAUSE_PARAMETERS_REVISION_1;
            // SAFETY: the driver's handler with its module context.
            let status = f.map_or(NDIS_STATUS_SUCCESS, |f| unsafe { f(ctx as NDIS_HANDLE, &mut params) });
            let mut found = Vec::new();
            {
                let mut l = lwf();
                let name = l.name(m);
                let early = l.modules.get_mut(&m).map(|r| {
                    r.in_pause = false;
                    std::mem::take(&mut r.completed_in_pause)
                });
                match (status, early) {
                    (NDIS_STATUS_PENDING, Some(true)) => ddi::pause_done(&mut l, m, "NdisFPauseComplete", &mut found),
                    (NDIS_STATUS_PENDING, _) => {}
                    (s, early) => {
                        if early == Some(true) {
                            found.push(v(
                                Rule::PauseOrRestartNotPending,
                                "NdisFPauseComplete",
                                format!("{name} completed its pause and returned {s:#x}, not NDIS_STATUS_PENDING"),
                            ));
                        }
                        ddi::pause_done(&mut l, m, "(the pause handler returns)", &mut found);
                    }
                }
            }
            report_now(found);
        }
    }

    fn states(&self) -> Vec<MState> {
        let modules = self.modules();
        let l = lwf();
        modules.iter().filter_map(|m| l.modules.get(m).map(|r| r.state)).collect()
    }

    /// Whether every module is paused (a stack pause under way is taken as
    /// far as it can go first: see [`Stack::pause`]).
    pub fn is_paused(&self) -> bool {
        self.advance_pause();
        self.states().iter().all(|s| *s == MState::Paused)
    }

    /// Whether every module runs.
    pub fn is_running(&self) -> bool {
        self.states().iter().all(|s| *s == MState::Running)
    }

    /// Detaches every paused module, top first. What a module still holds
    /// stays held: [`Stack::held`] names it, and it leaks.
    pub fn detach(&self) {
        for m in self.modules() {
            let (f, ctx) = {
                let mut l = lwf();
                let Some(r) = l.modules.get_mut(&m) else { continue };
                if r.state != MState::Paused {
                    continue;
                }
                r.state = MState::Detached;
                let (d, ctx) = (r.driver, r.ctx);
                (l.drivers[&d].chars.DetachHandler, ctx)
            };
            if let Some(f) = f {
                // SAFETY: the driver's handler with its module context.
                unsafe { f(ctx as NDIS_HANDLE) };
            }
        }
    }

    /// The protocol sends `frames`, one NBL each, in one chain, at
    /// `DISPATCH_LEVEL`.
    pub fn send(&self, frames: &[&[u8]]) {
        let frames: Vec<(&[u8], &[usize])> = frames.iter().map(|f| (*f, &[][..])).collect();
        self.send_split(&frames);
    }

    /// As [`Stack::send`], each frame's data split across several MDLs:
    /// a new MDL starts at each of its offsets (those at the frame's ends
    /// or repeated are ignored), each over its own piece of memory.
    pub fn send_split(&self, frames: &[(&[u8], &[usize])]) {
        let _irql = raise(DISPATCH_LEVEL.max(current()));
        let (protocol, top) = {
            let l = lwf();
            let s = &l.stacks[&self.id];
            (s.protocol, s.modules.first().copied())
        };
        let nbls = self.make(frames, protocol, Dir::Send, Origin::Protocol, false);
        let mut calls = Vec::new();
        {
            let mut l = lwf();
            if l.stacks.get(&self.id).is_some_and(|s| s.pausing) {
                // The binding pauses: its sends fail at once.
                for &n in &nbls {
                    // SAFETY: a live NBL the stack made.
                    unsafe { *NET_BUFFER_LIST_STATUS(n as *mut NET_BUFFER_LIST) = NDIS_STATUS_PAUSED };
                }
                flow::complete_up(&mut l, nbls, &mut calls);
            } else {
                flow::send_to(&mut l, self.id, top, nbls, 0, &mut calls);
            }
        }
        run(calls);
    }

    /// The miniport indicates `frames`, one NBL each, in one chain, at
    /// `DISPATCH_LEVEL`; with `low_resources`, with
    /// `NDIS_RECEIVE_FLAGS_RESOURCES` (the miniport regains them when the
    /// indication returns).
    pub fn receive(&self, frames: &[&[u8]], low_resources: bool) {
        let frames: Vec<(&[u8], &[usize])> = frames.iter().map(|f| (*f, &[][..])).collect();
        self.receive_split(&frames, low_resources);
    }

    /// As [`Stack::receive`], each frame split across MDLs as
    /// [`Stack::send_split`] splits them.
    pub fn receive_split(&self, frames: &[(&[u8], &[usize])], low_resources: bool) {
        let _irql = raise(DISPATCH_LEVEL.max(current()));
        let (miniport, bottom) = {
            let l = lwf();
            let s = &l.stacks[&self.id];
            (s.miniport, s.modules.last().copied())
        };
        let nbls = self.make(frames, miniport, Dir::Recv, Origin::Miniport, low_resources);
        let mut calls = Vec::new();
        flow::indicate_to(&mut lwf(), self.id, bottom, nbls.clone(), 0, low_resources, &mut calls);
        run(calls);
        if low_resources {
            flow::regain(&mut lwf(), None, &nbls);
            free_pending();
        }
    }

    fn make(
        &self,
        frames: &[(&[u8], &[usize])],
        source: usize,
        dir: Dir,
        origin: Origin,
        resources: bool,
    ) -> Vec<usize> {
        let nbls: Vec<usize> = frames
            .iter()
            .map(|(f, cuts)| {
                let n = verifier::with(|st, _| lent::lend_split(st, f, 0, cuts));
                assert!(!n.is_null(), "the host is out of memory");
                // SAFETY: a fresh NBL.
                unsafe { (*n).SourceHandle = source as NDIS_HANDLE };
                n as usize
            })
            .collect();
        let mut l = lwf();
        for &n in &nbls {
            l.tracks.insert(
                n,
                Track { dir, origin, path: Vec::new(), at: At::Protocol, source, resources, stack: self.id },
            );
        }
        nbls
    }

    /// How many sends the miniport holds.
    pub fn pending_sends(&self) -> usize {
        lwf().stacks[&self.id].miniport_sends.len()
    }

    /// The miniport completes its `index`th held send with `status`, at
    /// `DISPATCH_LEVEL`. False when there is none.
    pub fn complete_send(&self, index: usize, status: NDIS_STATUS) -> bool {
        let _irql = raise(DISPATCH_LEVEL.max(current()));
        let mut calls = Vec::new();
        {
            let mut l = lwf();
            let Some(s) = l.stacks.get_mut(&self.id) else { return false };
            if index >= s.miniport_sends.len() {
                return false;
            }
            let n = s.miniport_sends.remove(index);
            // SAFETY: a live NBL the miniport holds.
            unsafe { *NET_BUFFER_LIST_STATUS(n as *mut NET_BUFFER_LIST) = status };
            flow::complete_up(&mut l, vec![n], &mut calls);
        }
        run(calls);
        self.advance_pause();
        true
    }

    /// The miniport completes every held send, in order, with success.
    pub fn complete_sends(&self) -> usize {
        let mut k = 0;
        while self.complete_send(0, NDIS_STATUS_SUCCESS) {
            k += 1;
        }
        k
    }

    /// How many receives the protocol holds.
    pub fn pending_returns(&self) -> usize {
        lwf().stacks[&self.id].protocol_receives.len()
    }

    /// The protocol returns its `index`th held receive, at
    /// `DISPATCH_LEVEL`. False when there is none.
    pub fn return_receive(&self, index: usize) -> bool {
        let _irql = raise(DISPATCH_LEVEL.max(current()));
        let mut calls = Vec::new();
        {
            let mut l = lwf();
            let Some(s) = l.stacks.get_mut(&self.id) else { return false };
            if index >= s.protocol_receives.len() {
                return false;
            }
            let n = s.protocol_receives.remove(index);
            flow::return_down(&mut l, vec![n], &mut calls);
        }
        run(calls);
        self.advance_pause();
        true
    }

    /// The protocol returns every held receive, in order.
    pub fn return_receives(&self) -> usize {
        let mut k = 0;
        while self.return_receive(0) {
            k += 1;
        }
        k
    }

    /// The frames that reached the miniport, in order.
    pub fn sent(&self) -> Vec<Vec<u8>> {
        lwf().stacks[&self.id].sent.clone()
    }

    /// The frames that reached the protocol, in order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        lwf().stacks[&self.id].received.clone()
    }

    /// The statuses of the protocol's completed sends, in completion order.
    pub fn completed(&self) -> Vec<NDIS_STATUS> {
        lwf().stacks[&self.id].completed.clone()
    }

    /// How many times a module called `NdisFCancelSendNetBufferLists`.
    pub fn cancels(&self) -> usize {
        lwf().stacks[&self.id].cancels
    }

    /// The NBLs modules hold (handed to them, or back with them, and not
    /// handed on): "module: nbl#N" each. Held at detach, they leak.
    pub fn held(&self) -> Vec<String> {
        let l = lwf();
        let mut out = Vec::new();
        for m in &l.stacks[&self.id].modules {
            for n in l.held(*m) {
                out.push(format!("{}: {}", l.name(*m), crate::model::with_state(|st| st.name(n).to_string())));
            }
            out.extend(oid::clones_held(&l, *m));
        }
        out
    }
}

impl Drop for Stack {
    /// The watchdog: a pause or restart still pending is reported
    /// (`PauseNeverCompleted`); the stack's bookkeeping is dropped (NBLs
    /// still held stay allocated: leaks).
    fn drop(&mut self) {
        let mut found = Vec::new();
        {
            let mut l = lwf();
            oid::teardown(&mut l, self.id, &mut found);
            let Some(s) = l.stacks.remove(&self.id) else { return };
            for m in &s.modules {
                if let Some(r) = l.modules.remove(m) {
                    if r.pause_pending {
                        found.push(v(
                            Rule::PauseNeverCompleted,
                            "(the watchdog)",
                            format!("{} never completed its pause", r.name),
                        ));
                    }
                    if r.restart_pending {
                        found.push(v(
                            Rule::PauseNeverCompleted,
                            "(the watchdog)",
                            format!("{} never completed its restart", r.name),
                        ));
                    }
                }
            }
            let id = self.id;
            l.tracks.retain(|_, t| t.stack != id);
        }
        if !std::thread::panicking() {
            report_now(found);
        }
    }
}

#[allow(dead_code, reason = "names the phase for the docs")]
const _PHASES: [Phase; 3] = [Phase::Handed, Phase::Back, Phase::Own];
