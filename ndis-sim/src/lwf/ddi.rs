//! The NdisF* DDIs a filter calls, and the NDIS memory DDIs it allocates
//! its module context with: checks, then transitions, then the handler
//! calls they lead to.

use std::collections::HashSet;

use ndis_sys::*;

use super::flow::{self, Call};
use super::state::{At, Dir, Driver, Lwf, MState, Origin, Phase, Track, lwf};
use super::{free_pending, report_now};
use crate::model::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::verifier::irql::{at_most, dispatch_claim};
use crate::verifier::{Rule, Violation, v};

/// Runs the calls (no lock held), then frees what the stack regained.
fn run(calls: Vec<Call>) {
    for c in calls {
        c.run();
    }
    free_pending();
}

/// A module handle's record, or a report.
fn module_ok(l: &Lwf, m: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    if l.modules.get(&m).is_some_and(|r| r.state != MState::Detached) {
        return true;
    }
    found.push(v(Rule::NotAnObject, ddi, format!("{m:#x} is not an attached filter module's NdisFilterHandle")));
    false
}

/// Walks a chain the filter passes: its NBLs, or a report when the links
/// loop or `count` (if given) is not the length.
fn walk(head: usize, count: Option<u32>, ddi: &'static str, found: &mut Vec<Violation>) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut at = head;
    while at != 0 {
        if !seen.insert(at) {
            found.push(v(Rule::ChainLinksBroken, ddi, format!("the chain's Next links loop back to {at:#x}")));
            break;
        }
        out.push(at);
        // SAFETY: an NBL the filter passes (its Next read as NDIS reads it).
        at = unsafe { *NET_BUFFER_LIST_NEXT_NBL(at as *mut NET_BUFFER_LIST) } as usize;
    }
    if let Some(c) = count
        && c as usize != out.len()
    {
        found.push(v(
            Rule::ChainLinksBroken,
            ddi,
            format!("NumberOfNetBufferLists is {c}, the chain has {} NBLs", out.len()),
        ));
    }
    out
}

fn nbl_name(n: usize) -> String {
    crate::model::with_state(|st| st.name(n).to_string())
}

fn source_of(n: usize) -> usize {
    // SAFETY: an NBL the filter passes.
    unsafe { (*(n as *mut NET_BUFFER_LIST)).SourceHandle as usize }
}

/// Why `m` may not hand on `n` (its track `t`) in direction `dir`
/// (`back`: completing or returning rather than passing on).
fn misuse(l: &Lwf, m: usize, t: &Track, dir: Dir, back: bool) -> Option<(Rule, String)> {
    let who = l.name(m);
    match t.at {
        At::Regained => Some((
            Rule::ResourcesNetBufferListKept,
            format!("{who} used an NBL lent with NDIS_RECEIVE_FLAGS_RESOURCES after its receive handler returned"),
        )),
        At::Done => {
            Some((Rule::NetBufferListGivenBackTwice, format!("{who} handed on an NBL its origin already has back")))
        }
        At::Module(x, phase) if x == m => {
            if t.dir != dir {
                let (is, was) = match t.dir {
                    Dir::Send => ("a send", "passed down or completed up"),
                    Dir::Recv => ("a receive", "indicated up or returned down"),
                };
                return Some((
                    Rule::NetBufferListWrongDirection,
                    format!("{who} handed on {is} the wrong way: it is {was}"),
                ));
            }
            match (phase, back) {
                (Phase::Own, true) => Some((
                    Rule::NetBufferListWrongDirection,
                    format!(
                        "{who} completed or returned its own NBL: it is back with its origin, to be freed or sent again"
                    ),
                )),
                (Phase::Back, false) => Some((
                    Rule::NetBufferListWrongDirection,
                    format!("{who} passed on again an NBL that came back to it: it goes back where it came from"),
                )),
                _ => None,
            }
        }
        _ if t.path.contains(&m) => {
            Some((Rule::NetBufferListGivenBackTwice, format!("{who} handed on an NBL it had already passed on")))
        }
        _ => Some((Rule::NetBufferListWrongFilter, format!("{who} handed on an NBL another layer holds"))),
    }
}

/// Sorts a passed chain: NBLs `m` may hand on, after reporting the rest.
/// `originate`: the filter may originate untracked NBLs (its own).
#[allow(clippy::too_many_arguments, reason = "the DDI's whole situation, one check")]
fn take(
    l: &mut Lwf,
    m: usize,
    nbls: Vec<usize>,
    dir: Dir,
    back: bool,
    originate: bool,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> Vec<usize> {
    let stack = l.modules[&m].stack;
    let mut ok = Vec::new();
    for n in nbls {
        let src = source_of(n);
        let known = l.tracks.get(&n);
        let again = |t: &Track| matches!(t.at, At::Done | At::Regained) || t.at == At::Module(m, Phase::Own);
        let fresh = originate && src == m && known.is_none_or(again);
        if known.is_none() && !fresh {
            let (rule, msg) = if originate {
                (
                    Rule::SourceHandleChanged,
                    format!(
                        "{} originates {} with SourceHandle {src:#x}, not its NdisFilterHandle",
                        l.name(m),
                        nbl_name(n)
                    ),
                )
            } else {
                (
                    Rule::NetBufferListWrongFilter,
                    format!("{} completed or returned {}, which no layer gave it", l.name(m), nbl_name(n)),
                )
            };
            found.push(v(rule, ddi, msg));
            continue;
        }
        if fresh {
            l.tracks.insert(
                n,
                Track {
                    dir,
                    origin: Origin::Filter(m),
                    path: Vec::new(),
                    at: At::Module(m, Phase::Own),
                    source: m,
                    resources: false,
                    stack,
                },
            );
        }
        let t = &l.tracks[&n];
        if let Some((rule, msg)) = misuse(l, m, t, dir, back) {
            found.push(v(rule, ddi, format!("{msg} ({})", nbl_name(n))));
            continue;
        }
        if source_of(n) != t.source {
            found.push(v(
                Rule::SourceHandleChanged,
                ddi,
                format!("{}'s SourceHandle is {:#x}; it came with {:#x}", nbl_name(n), source_of(n), t.source),
            ));
            continue;
        }
        ok.push(n);
    }
    ok
}

fn paused_check(l: &Lwf, m: usize, what: &str, ddi: &'static str, found: &mut Vec<Violation>) {
    let s = l.modules[&m].state;
    if !matches!(s, MState::Running | MState::Pausing) {
        found.push(v(Rule::FilterPaused, ddi, format!("{} {what} while {s:?}", l.name(m))));
    }
}

/// `NdisFRegisterFilterDriver`: records the characteristics.
///
/// # Safety
///
/// As the DDI: `chars` and `handle` valid.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFRegisterFilterDriver(
    _driver_object: PDRIVER_OBJECT,
    filter_driver_context: NDIS_HANDLE,
    chars: PNDIS_FILTER_DRIVER_CHARACTERISTICS,
    handle: PNDIS_HANDLE,
) -> NDIS_STATUS {
    const DDI: &str = "NdisFRegisterFilterDriver";
    at_most(PASSIVE_LEVEL, DDI);
    if chars.is_null() || handle.is_null() {
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's characteristics.
    let c = unsafe { *chars };
    if c.Header.Type != NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS
        || c.Header.Size < NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_1
        || c.AttachHandler.is_none()
        || c.DetachHandler.is_none()
        || c.RestartHandler.is_none()
        || c.PauseHandler.is_none()
    {
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    let mut l = lwf();
    let h = l.handle();
    l.drivers.insert(h, Driver { chars: c, context: filter_driver_context as usize });
    // SAFETY: the caller's out pointer.
    unsafe { *handle = h as NDIS_HANDLE };
    NDIS_STATUS_SUCCESS
}

/// `NdisFDeregisterFilterDriver`.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFDeregisterFilterDriver(handle: NDIS_HANDLE) {
    const DDI: &str = "NdisFDeregisterFilterDriver";
    at_most(PASSIVE_LEVEL, DDI);
    let mut found = Vec::new();
    {
        let mut l = lwf();
        let h = handle as usize;
        if l.drivers.remove(&h).is_none() {
            found.push(v(Rule::NotAnObject, DDI, format!("{h:#x} is not a registered filter driver")));
        } else if let Some(m) =
            l.modules.iter().find(|(_, r)| r.driver == h && r.state != MState::Detached).map(|(m, _)| *m)
        {
            found.push(v(Rule::FilterPaused, DDI, format!("{} is still attached", l.name(m))));
        }
    }
    report_now(found);
}

/// `NdisFSetAttributes`: the module's context, during attach.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFSetAttributes(
    filter: NDIS_HANDLE,
    context: NDIS_HANDLE,
    attrs: PNDIS_FILTER_ATTRIBUTES,
) -> NDIS_STATUS {
    const DDI: &str = "NdisFSetAttributes";
    at_most(PASSIVE_LEVEL, DDI);
    let mut l = lwf();
    match l.modules.get_mut(&(filter as usize)) {
        Some(r) if r.state == MState::Attaching && !attrs.is_null() && !context.is_null() => {
            r.ctx = context as usize;
            NDIS_STATUS_SUCCESS
        }
        _ => NDIS_STATUS_INVALID_PARAMETER,
    }
}

/// `NdisFSendNetBufferLists`: sends go down to the next module or the
/// miniport.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFSendNetBufferLists(
    filter: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    flags: ULONG,
) {
    const DDI: &str = "NdisFSendNetBufferLists";
    at_most(DISPATCH_LEVEL, DDI);
    dispatch_claim(flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL != 0, "NDIS_SEND_FLAGS_DISPATCH_LEVEL", DDI);
    let mut found = Vec::new();
    let mut calls = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            paused_check(&l, m, "sends", DDI, &mut found);
            let chain = walk(nbls as usize, None, DDI, &mut found);
            let ok = take(&mut l, m, chain, Dir::Send, false, true, DDI, &mut found);
            for n in &ok {
                if let Some(t) = l.tracks.get_mut(n) {
                    t.path.push(m);
                }
            }
            let (stack, below) = (l.modules[&m].stack, l.below(m));
            flow::send_to(&mut l, stack, below, ok, port, &mut calls);
        }
    }
    report_now(found);
    run(calls);
}

/// `NdisFSendNetBufferListsComplete`: sends go back up.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFSendNetBufferListsComplete(
    filter: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    flags: ULONG,
) {
    const DDI: &str = "NdisFSendNetBufferListsComplete";
    at_most(DISPATCH_LEVEL, DDI);
    dispatch_claim(
        flags & NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL != 0,
        "NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL",
        DDI,
    );
    let mut found = Vec::new();
    let mut calls = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            let chain = walk(nbls as usize, None, DDI, &mut found);
            let ok = take(&mut l, m, chain, Dir::Send, true, false, DDI, &mut found);
            flow::complete_up(&mut l, ok, &mut calls);
        }
    }
    report_now(found);
    run(calls);
}

/// `NdisFIndicateReceiveNetBufferLists`: receives go up to the next
/// module or the protocol; with `NDIS_RECEIVE_FLAGS_RESOURCES` they are
/// back with the caller when it returns.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFIndicateReceiveNetBufferLists(
    filter: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    count: ULONG,
    flags: ULONG,
) {
    const DDI: &str = "NdisFIndicateReceiveNetBufferLists";
    at_most(DISPATCH_LEVEL, DDI);
    dispatch_claim(flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL != 0, "NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL", DDI);
    let resources = flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0;
    let mut found = Vec::new();
    let mut calls = Vec::new();
    let m = filter as usize;
    let mut indicated = Vec::new();
    {
        let mut l = lwf();
        if module_ok(&l, m, DDI, &mut found) {
            paused_check(&l, m, "indicates receives", DDI, &mut found);
            let chain = walk(nbls as usize, Some(count), DDI, &mut found);
            let ok = take(&mut l, m, chain, Dir::Recv, false, true, DDI, &mut found);
            let name = l.name(m);
            for n in &ok {
                if let Some(t) = l.tracks.get_mut(n) {
                    if t.resources && !resources {
                        found.push(v(
                            Rule::ResourcesNetBufferListKept,
                            DDI,
                            format!(
                                "{} indicated {} without NDIS_RECEIVE_FLAGS_RESOURCES; it came with it, so the layer above would keep an NBL the miniport regains",
                                name,
                                nbl_name(*n)
                            ),
                        ));
                    }
                    t.path.push(m);
                }
            }
            // A low-resources indication stays so on the way up.
            let resources = resources || ok.iter().any(|n| l.tracks.get(n).is_some_and(|t| t.resources));
            let (stack, above) = (l.modules[&m].stack, l.above(m));
            indicated.clone_from(&ok);
            flow::indicate_to(&mut l, stack, above, ok, port, resources, &mut calls);
        }
    }
    report_now(found);
    run(calls);
    if resources && !indicated.is_empty() {
        let mut l = lwf();
        flow::regain(&mut l, Some(m), &indicated);
    }
}

/// `NdisFReturnNetBufferLists`: receives go back down.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFReturnNetBufferLists(filter: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    const DDI: &str = "NdisFReturnNetBufferLists";
    at_most(DISPATCH_LEVEL, DDI);
    dispatch_claim(flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL != 0, "NDIS_RETURN_FLAGS_DISPATCH_LEVEL", DDI);
    let mut found = Vec::new();
    let mut calls = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            let chain = walk(nbls as usize, None, DDI, &mut found);
            let mut ok = take(&mut l, m, chain, Dir::Recv, true, false, DDI, &mut found);
            ok.retain(|n| {
                let lent = l.tracks.get(n).is_some_and(|t| t.resources && t.at == At::Module(m, Phase::Handed));
                if lent {
                    found.push(v(
                        Rule::ResourcesNetBufferListKept,
                        DDI,
                        format!(
                            "{} returned {}, lent with NDIS_RECEIVE_FLAGS_RESOURCES: the miniport regains it when the receive handler returns",
                            l.name(m),
                            nbl_name(*n)
                        ),
                    ));
                }
                !lent
            });
            flow::return_down(&mut l, ok, &mut calls);
        }
    }
    report_now(found);
    run(calls);
}

/// `NdisFCancelSendNetBufferLists`: the simulated miniport holds sends
/// until the test completes them, and cancels none; the call is counted.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFCancelSendNetBufferLists(filter: NDIS_HANDLE, _cancel_id: PVOID) {
    const DDI: &str = "NdisFCancelSendNetBufferLists";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            let stack = l.modules[&m].stack;
            if let Some(s) = l.stacks.get_mut(&stack) {
                s.cancels += 1;
            }
        }
    }
    report_now(found);
}

/// Checks a pause completion (from the handler's SUCCESS or the DDI).
pub(crate) fn pause_done(l: &mut Lwf, m: usize, ddi: &'static str, found: &mut Vec<Violation>) {
    let out = l.outstanding(m);
    if !out.is_empty() {
        let names: Vec<String> = out.iter().map(|n| nbl_name(*n)).collect();
        found.push(v(
            Rule::PauseCompletedWithOutstanding,
            ddi,
            format!(
                "{} completed its pause with NBLs it originated (sent down or indicated up) not back: {}",
                l.name(m),
                names.join(", ")
            ),
        ));
    }
    if let Some(r) = l.modules.get_mut(&m) {
        r.pause_pending = false;
        r.state = MState::Paused;
    }
}

/// `NdisFPauseComplete`.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFPauseComplete(filter: NDIS_HANDLE) {
    const DDI: &str = "NdisFPauseComplete";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            let r = &l.modules[&m];
            if !r.pause_pending || r.completed_in_pause {
                found.push(v(Rule::PauseOrRestartNotPending, DDI, format!("{} has no pause pending", l.name(m))));
            } else if r.in_pause {
                if let Some(r) = l.modules.get_mut(&m) {
                    r.completed_in_pause = true;
                }
            } else {
                pause_done(&mut l, m, DDI, &mut found);
            }
        }
    }
    report_now(found);
}

/// `NdisFRestartComplete`.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFRestartComplete(filter: NDIS_HANDLE, status: NDIS_STATUS) {
    const DDI: &str = "NdisFRestartComplete";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    {
        let mut l = lwf();
        let m = filter as usize;
        if module_ok(&l, m, DDI, &mut found) {
            let name = l.name(m);
            let Some(r) = l.modules.get_mut(&m) else { return };
            if !r.restart_pending || r.completed_in_restart.is_some() {
                found.push(v(Rule::PauseOrRestartNotPending, DDI, format!("{name} has no restart pending")));
            } else if r.in_restart {
                r.completed_in_restart = Some(status);
            } else {
                r.restart_pending = false;
                r.state = if status == NDIS_STATUS_SUCCESS { MState::Running } else { MState::Paused };
            }
        }
    }
    report_now(found);
}

/// `NdisAllocateMemoryWithTagPriority`: zeroed memory aligned to
/// `MEMORY_ALLOCATION_ALIGNMENT`; NULL for a zero length.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateMemoryWithTagPriority(
    _handle: NDIS_HANDLE,
    length: UINT,
    tag: ULONG,
    _priority: EX_POOL_PRIORITY,
) -> PVOID {
    at_most(DISPATCH_LEVEL, "NdisAllocateMemoryWithTagPriority");
    let Ok(layout) = std::alloc::Layout::from_size_align(length as usize, MEMORY_ALLOCATION_ALIGNMENT) else {
        return core::ptr::null_mut();
    };
    if length == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    if !p.is_null() {
        lwf().memory.insert(p as usize, (layout, tag));
    }
    p.cast()
}

/// `NdisFreeMemoryWithTagPriority`.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeMemoryWithTagPriority(_handle: NDIS_HANDLE, va: PVOID, tag: ULONG) {
    const DDI: &str = "NdisFreeMemoryWithTagPriority";
    at_most(DISPATCH_LEVEL, DDI);
    let entry = lwf().memory.remove(&(va as usize));
    match entry {
        Some((layout, t)) => {
            if t != tag {
                report_now(vec![v(
                    Rule::WrongFreeFunction,
                    DDI,
                    format!("memory allocated with tag {t:#x} freed with {tag:#x}"),
                )]);
            }
            // SAFETY: allocated above with this layout, freed once.
            unsafe { std::alloc::dealloc(va.cast(), layout) };
        }
        None => {
            report_now(vec![v(Rule::DoubleFree, DDI, format!("{va:p} is not NDIS memory allocated and not yet freed"))])
        }
    }
}
