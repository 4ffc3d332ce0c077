//! The filter stack's verifier rules: each broken by a raw filter (the
//! probe) and kept by its clean twin.
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "a test of raw DDI misuse: each block is one probe"
)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

mod common;

use common::lwf::{Rig, characteristics as base};
use ndis_sim::{Rule, Session};
use ndis_sys::*;

/// What the raw filter's handlers were given, as (module, chain head).
static SENDS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
static RECEIVES: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
static COMPLETED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static RETURNED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// What the pause handler returns.
static PAUSE: AtomicI32 = AtomicI32::new(NDIS_STATUS_SUCCESS);
/// The receive handler, with NDIS_RECEIVE_FLAGS_RESOURCES: return the
/// NBLs (the probe) or indicate them up with the flag (the twin).
static RESOURCES_RETURN: AtomicBool = AtomicBool::new(false);

unsafe extern "system" fn pause(_: NDIS_HANDLE, _: PNDIS_FILTER_PAUSE_PARAMETERS) -> NDIS_STATUS {
    PAUSE.load(Ordering::SeqCst)
}
unsafe extern "system" fn send(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, _: NDIS_PORT_NUMBER, _: ULONG) {
    SENDS.lock().unwrap().push((ctx as usize, nbls as usize));
}
unsafe extern "system" fn send_complete(_: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, _: ULONG) {
    COMPLETED.lock().unwrap().push(nbls as usize);
}
unsafe extern "system" fn receive(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    n: ULONG,
    flags: ULONG,
) {
    if flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0 {
        // SAFETY: the NBLs indicated to this module, handed on once.
        unsafe {
            if RESOURCES_RETURN.load(Ordering::SeqCst) {
                NdisFReturnNetBufferLists(ctx, nbls, flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
            } else {
                NdisFIndicateReceiveNetBufferLists(ctx, nbls, port, n, flags);
            }
        }
        return;
    }
    RECEIVES.lock().unwrap().push((ctx as usize, nbls as usize));
}
unsafe extern "system" fn return_nbls(_: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, _: ULONG) {
    RETURNED.lock().unwrap().push(nbls as usize);
}

fn characteristics() -> NDIS_FILTER_DRIVER_CHARACTERISTICS {
    let mut c = base(Some(pause));
    c.SendNetBufferListsHandler = Some(send);
    c.SendNetBufferListsCompleteHandler = Some(send_complete);
    c.ReceiveNetBufferListsHandler = Some(receive);
    c.ReturnNetBufferListsHandler = Some(return_nbls);
    c
}

/// The rig of this file's raw filter: the statics reset, `n` modules.
fn new_rig(n: usize) -> Rig {
    for v in [&SENDS, &RECEIVES] {
        v.lock().unwrap().clear();
    }
    COMPLETED.lock().unwrap().clear();
    RETURNED.lock().unwrap().clear();
    PAUSE.store(NDIS_STATUS_SUCCESS, Ordering::SeqCst);
    RESOURCES_RETURN.store(false, Ordering::SeqCst);
    Rig::new(characteristics(), n)
}

impl Rig {
    /// The first chain the module's send handler holds.
    fn held_send(&self) -> PNET_BUFFER_LIST {
        SENDS.lock().unwrap().remove(0).1 as PNET_BUFFER_LIST
    }

    fn held_receive(&self) -> PNET_BUFFER_LIST {
        RECEIVES.lock().unwrap().remove(0).1 as PNET_BUFFER_LIST
    }
}

const F: &[u8] = &[0xab; 60];

/// Returns down whatever came back to the (single) module.
fn return_all(rig: &Rig) {
    let back: Vec<usize> = std::mem::take(&mut *RETURNED.lock().unwrap());
    for b in back {
        // SAFETY: NBLs returned to the module, returned down once.
        unsafe { NdisFReturnNetBufferLists(rig.m(0), b as PNET_BUFFER_LIST, 0) };
    }
}

fn rules(s: &Session) -> Vec<Rule> {
    s.rules()
}

#[test]
fn completed_twice_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F]);
    let nbl = rig.held_send();
    // SAFETY: raw DDI calls on the NBL handed to the module.
    unsafe {
        NdisFSendNetBufferListsComplete(rig.m(0), nbl, 0);
        assert_eq!(rules(&s), vec![], "the twin: once");
        NdisFSendNetBufferListsComplete(rig.m(0), nbl, 0);
    }
    assert_eq!(rules(&s), vec![Rule::NetBufferListGivenBackTwice]);
    assert_eq!(rig.stack().completed().len(), 1);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn returned_twice_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().receive(&[F], false);
    let nbl = rig.held_receive();
    // SAFETY: raw DDI calls on the NBL indicated to the module.
    unsafe {
        NdisFReturnNetBufferLists(rig.m(0), nbl, 0);
        assert_eq!(rules(&s), vec![]);
        NdisFReturnNetBufferLists(rig.m(0), nbl, 0);
    }
    assert_eq!(rules(&s), vec![Rule::NetBufferListGivenBackTwice]);
    rig.end();
}

#[test]
fn wrong_direction_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().receive(&[F], false);
    let nbl = rig.held_receive();
    // SAFETY: raw DDI calls on the NBL indicated to the module.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), nbl, 0) };
    assert_eq!(rules(&s), vec![Rule::NetBufferListWrongDirection], "a receive completed as a send");
    // SAFETY: as above: the twin.
    unsafe { NdisFReturnNetBufferLists(rig.m(0), nbl, 0) };
    assert_eq!(rules(&s), vec![]);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn wrong_filter_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(2);
    rig.stack().send(&[F]);
    let nbl = rig.held_send();
    // SAFETY: raw DDI calls; the bottom module never had this NBL.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(1), nbl, 0) };
    assert_eq!(rules(&s), vec![Rule::NetBufferListWrongFilter]);
    // SAFETY: the twin: the top module, which holds it, passes it down;
    // the bottom one completes it up.
    unsafe { NdisFSendNetBufferLists(rig.m(0), nbl, 0, 0) };
    let nbl = rig.held_send();
    // SAFETY: as above.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(1), nbl, 0) };
    assert_eq!(COMPLETED.lock().unwrap().len(), 1, "back to the top module");
    // SAFETY: the top module completes it to the protocol.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), nbl, 0) };
    assert_eq!(rules(&s), vec![]);
    assert_eq!(rig.stack().completed(), vec![NDIS_STATUS_SUCCESS]);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn source_handle_changed_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F, F]);
    let a = rig.held_send();
    // SAFETY: the chain handed to the module; split into two.
    let b = unsafe { std::mem::replace(&mut *NET_BUFFER_LIST_NEXT_NBL(a), core::ptr::null_mut()) };
    // SAFETY: the NBL's record, held by the module.
    let orig = unsafe { (*a).SourceHandle };
    // SAFETY: raw DDI calls on NBLs the module holds.
    unsafe {
        (*a).SourceHandle = 0x1234 as NDIS_HANDLE;
        NdisFSendNetBufferLists(rig.m(0), a, 0, 0);
        assert_eq!(rules(&s), vec![Rule::SourceHandleChanged]);
        NdisFSendNetBufferLists(rig.m(0), b, 0, 0);
    }
    assert_eq!(rules(&s), vec![], "the twin: SourceHandle as it came");
    assert_eq!(rig.stack().pending_sends(), 1);
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: the twin's NBL, back to the module, completed up.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    // SAFETY: the probe's NBL, its SourceHandle restored, completed up.
    unsafe {
        (*a).SourceHandle = orig;
        NdisFSendNetBufferListsComplete(rig.m(0), a, 0);
    }
    rig.end();
    assert_eq!(rules(&s), vec![]);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn chain_links_broken_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().receive(&[F, F], false);
    let chain = rig.held_receive();
    // SAFETY: raw DDI calls on NBLs indicated to the module: a count of 3
    // for a chain of 2, then the twin with the true count.
    unsafe {
        NdisFIndicateReceiveNetBufferLists(rig.m(0), chain, 0, 3, 0);
    }
    assert!(rules(&s).contains(&Rule::ChainLinksBroken));
    assert_eq!(rig.stack().pending_returns(), 2, "reported, and delivered");
    rig.stack().return_receives();
    return_all(&rig);
    rig.stack().receive(&[F, F], false);
    let chain = rig.held_receive();
    // SAFETY: the twin.
    unsafe { NdisFIndicateReceiveNetBufferLists(rig.m(0), chain, 0, 2, 0) };
    assert_eq!(rules(&s), vec![]);
    rig.stack().return_receives();
    return_all(&rig);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn send_while_paused_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F]);
    rig.stack().send(&[F]);
    let (a, b) = (rig.held_send(), rig.held_send());
    // SAFETY: the twin: sent down while running.
    unsafe { NdisFSendNetBufferLists(rig.m(0), a, 0, 0) };
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: back to the module, completed up.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    assert_eq!(rules(&s), vec![]);
    assert!(rig.stack().pause());
    // SAFETY: the probe: sent down while paused.
    unsafe { NdisFSendNetBufferLists(rig.m(0), b, 0, 0) };
    assert_eq!(rules(&s), vec![Rule::FilterPaused]);
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: as above.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn pause_complete_not_pending_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    // SAFETY: the probe: no pause is pending.
    unsafe { NdisFPauseComplete(rig.m(0)) };
    assert_eq!(rules(&s), vec![Rule::PauseOrRestartNotPending]);
    // SAFETY: no restart either.
    unsafe { NdisFRestartComplete(rig.m(0), NDIS_STATUS_SUCCESS) };
    assert_eq!(rules(&s), vec![Rule::PauseOrRestartNotPending]);
    PAUSE.store(NDIS_STATUS_PENDING, Ordering::SeqCst);
    assert!(!rig.stack().pause());
    // SAFETY: the twin: once while pending; then twice.
    unsafe { NdisFPauseComplete(rig.m(0)) };
    assert!(rig.stack().is_paused());
    assert_eq!(rules(&s), vec![]);
    // SAFETY: completed twice.
    unsafe { NdisFPauseComplete(rig.m(0)) };
    assert_eq!(rules(&s), vec![Rule::PauseOrRestartNotPending]);
    rig.end();
}

/// An NBL of the module's own, from a fresh pool (with a 64-byte frame),
/// its SourceHandle the module's handle.
fn own_nbl(m: NDIS_HANDLE) -> (NDIS_HANDLE, PNET_BUFFER_LIST) {
    let params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        fAllocateNetBuffer: 1,
        PoolTag: u32::from_le_bytes(*b"Own "),
        DataSize: 64,
        ..Default::default()
    };
    // SAFETY: valid parameters; the module's handle owns the pool.
    let pool = unsafe { NdisAllocateNetBufferListPool(m, &params) };
    assert!(!pool.is_null());
    // SAFETY: a pool with preallocated data; a whole 64-byte frame.
    let nbl = unsafe { NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, core::ptr::null_mut(), 0, 64) };
    assert!(!nbl.is_null());
    // SAFETY: the NBL just allocated, ours.
    unsafe { (*nbl).SourceHandle = m };
    (pool, nbl)
}

/// Frees an own NBL back with the module, and its pool.
fn free_own(pool: NDIS_HANDLE, nbl: PNET_BUFFER_LIST) {
    // SAFETY: ours again, freed once, then its pool.
    unsafe {
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
}

#[test]
fn pause_with_outstanding_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    let (pool, own) = own_nbl(rig.m(0));
    // SAFETY: the module's own NBL, sent down; the pause handler then says
    // SUCCESS while it is out.
    unsafe { NdisFSendNetBufferLists(rig.m(0), own, 0, 0) };
    assert!(rig.stack().pause());
    assert_eq!(rules(&s), vec![Rule::PauseCompletedWithOutstanding]);
    rig.stack().complete_sends();
    assert_eq!(COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST, own, "back to the module");
    // The twin: pend, complete when the own NBL is back.
    assert!(rig.stack().restart());
    // SAFETY: as above.
    unsafe { NdisFSendNetBufferLists(rig.m(0), own, 0, 0) };
    PAUSE.store(NDIS_STATUS_PENDING, Ordering::SeqCst);
    assert!(!rig.stack().pause());
    rig.stack().complete_sends();
    assert_eq!(COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST, own);
    // SAFETY: the pending pause, completed.
    unsafe { NdisFPauseComplete(rig.m(0)) };
    assert!(rig.stack().is_paused());
    assert_eq!(rules(&s), vec![]);
    free_own(pool, own);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

/// NDIS pauses the protocol's binding first: a module's pause handler runs
/// only when the sends it passed down are complete and the receives it
/// passed up returned, so a pass-through module that completes its pause at
/// once (as the raw twin of a typed pass-through filter does) is clean.
#[test]
fn pass_through_is_back_before_the_pause_handler_runs() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F]);
    rig.stack().receive(&[F], false);
    let (a, r) = (rig.held_send(), rig.held_receive());
    // SAFETY: passed on whole, as they came.
    unsafe {
        NdisFSendNetBufferLists(rig.m(0), a, 0, 0);
        NdisFIndicateReceiveNetBufferLists(rig.m(0), r, 0, 1, 0);
    }
    // The protocol's pause waits for its send and returns its receive.
    assert!(!rig.stack().pause());
    assert_eq!(RETURNED.lock().unwrap().len(), 0, "the protocol still holds it");
    // A send the pausing protocol makes fails at once; a receive indicated
    // to it now is returned at once.
    rig.stack().send(&[F]);
    assert_eq!(rig.stack().completed(), vec![NDIS_STATUS_PAUSED]);
    rig.stack().receive(&[F], false);
    let r2 = rig.held_receive();
    // SAFETY: the module runs still: passed up, and back at once.
    unsafe { NdisFIndicateReceiveNetBufferLists(rig.m(0), r2, 0, 1, 0) };
    return_all(&rig);
    assert!(!rig.stack().is_paused());
    rig.stack().return_receives();
    return_all(&rig);
    assert!(!rig.stack().is_paused(), "the send is still out");
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: completed up; then the module's pause runs, and completes at once.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    assert!(rig.stack().is_paused());
    assert_eq!(rules(&s), vec![]);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn held_at_detach_is_a_leak_and_the_twin_is_clean() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().receive(&[F], false);
    rig.stack().send(&[F]);
    let r = rig.held_receive();
    // SAFETY: the twin's half: the receive is returned.
    unsafe { NdisFReturnNetBufferLists(rig.m(0), r, 0) };
    assert_eq!(rig.stack().held().len(), 1, "the send is still held");
    rig.end();
    assert_eq!(rules(&s), vec![]);
    assert_eq!(s.leaks().len(), 1, "{}", s.leaks());
}

#[test]
fn resources_nbl_returned_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().receive(&[F], true);
    assert_eq!(rules(&s), vec![], "the twin: indicated up with the flag");
    assert_eq!(rig.stack().received().len(), 1);
    RESOURCES_RETURN.store(true, Ordering::SeqCst);
    rig.stack().receive(&[F], true);
    assert_eq!(rules(&s), vec![Rule::ResourcesNetBufferListKept]);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn dispatch_flag_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F, F]);
    let a = rig.held_send();
    // SAFETY: the chain handed to the module, split in two.
    let b = unsafe { std::mem::replace(&mut *NET_BUFFER_LIST_NEXT_NBL(a), core::ptr::null_mut()) };
    // SAFETY: the test thread runs at PASSIVE_LEVEL: the flag lies, then
    // the twin at DISPATCH_LEVEL.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), a, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL) };
    assert_eq!(rules(&s), vec![Rule::DispatchLevelFlagWithoutDispatchLevel]);
    ndis_sim::irql::at(ndis_sim::irql::DISPATCH_LEVEL, || {
        // SAFETY: as above.
        unsafe { NdisFSendNetBufferListsComplete(rig.m(0), b, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL) }
    });
    assert_eq!(rules(&s), vec![]);
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn pause_never_completed_watchdog_and_twin() {
    let s = Session::collecting();
    let mut rig = new_rig(1);
    PAUSE.store(NDIS_STATUS_PENDING, Ordering::SeqCst);
    assert!(!rig.stack().pause());
    rig.drop_stack();
    assert_eq!(rules(&s), vec![Rule::PauseNeverCompleted]);
    rig.end();
    // The twin.
    let rig = new_rig(1);
    PAUSE.store(NDIS_STATUS_PENDING, Ordering::SeqCst);
    assert!(!rig.stack().pause());
    // SAFETY: the pending pause, completed.
    unsafe { NdisFPauseComplete(rig.m(0)) };
    rig.end();
    assert_eq!(rules(&s), vec![]);
}

#[test]
fn sent_after_completed_probe_and_twin() {
    let s = Session::collecting();
    let rig = new_rig(1);
    rig.stack().send(&[F]);
    rig.stack().send(&[F]);
    let (a, b) = (rig.held_send(), rig.held_send());
    // SAFETY: the probe: completed up, then sent down.
    unsafe {
        NdisFSendNetBufferListsComplete(rig.m(0), a, 0);
        NdisFSendNetBufferLists(rig.m(0), a, 0, 0);
    }
    assert_eq!(rules(&s), vec![Rule::NetBufferListGivenBackTwice]);
    // SAFETY: the twin: sent down once, completed back up once.
    unsafe { NdisFSendNetBufferLists(rig.m(0), b, 0, 0) };
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: as above.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    assert_eq!(rules(&s), vec![]);
    assert_eq!(rig.stack().pending_sends(), 0, "the probe's NBL never reached the miniport");
    rig.end();
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn frames_split_across_mdls_arrive_whole() {
    let s = Session::collecting();
    let rig = new_rig(1);
    let frame: Vec<u8> = (0..64).collect();
    rig.stack().send_split(&[(&frame, &[5, 13, 13, 0, 64])]);
    let nbl = rig.held_send();
    // SAFETY: the NBL handed to the module: its NB and MDL chain, read.
    let mdls: Vec<u32> = unsafe {
        let mut at = (*NET_BUFFER_LIST_FIRST_NB(nbl)).cast::<NET_BUFFER>();
        let mut v = Vec::new();
        let mut m = *NET_BUFFER_FIRST_MDL(at);
        while !m.is_null() {
            v.push((*m).ByteCount);
            m = (*m).Next;
        }
        at = *NET_BUFFER_NEXT_NB(at);
        assert!(at.is_null());
        v
    };
    assert_eq!(mdls, vec![5, 8, 51], "cut at 5 and 13; the ends and the repeat ignored");
    // SAFETY: passed down once.
    unsafe { NdisFSendNetBufferLists(rig.m(0), nbl, 0, 0) };
    assert_eq!(rig.stack().sent(), vec![frame.clone()]);
    rig.stack().complete_sends();
    let back = COMPLETED.lock().unwrap().remove(0) as PNET_BUFFER_LIST;
    // SAFETY: completed up once.
    unsafe { NdisFSendNetBufferListsComplete(rig.m(0), back, 0) };
    rig.stack().receive_split(&[(&frame, &[1])], true);
    assert_eq!(rig.stack().received(), vec![frame]);
    rig.end();
    assert_eq!(rules(&s), vec![]);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
