//! The lock-free places a driver keeps pends and its redirect handle in:
//! `PendSlot` (a pend moved in and out, each at most once; a full slot
//! refuses another; dropping a full slot completes its pend with block;
//! leaking one leaves the pend waiting, which the watchdog lists) and
//! `RedirectHandleCell` (one handle set, lent, taken out and destroyed —
//! a take waiting for a lending under way on another thread; leaking one
//! leaves the handle alive, never a report).
#![allow(missing_docs, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr};
use std::ptr::NonNull;
use std::sync::Mutex;

use fwps_sys::{FWP_ACTION_BLOCK, FWP_ACTION_PERMIT, GUID};
use ndis_safe::wfp::callout::{Callout, CalloutFlags, DeviceObject, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided, Decision};
use ndis_safe::wfp::layer::{AleAuthConnectV4, Layer};
use ndis_safe::wfp::pend::PendSlot;
use ndis_safe::wfp::redirect::{RedirectHandle, RedirectHandleCell};
use ndis_sim::wfp::{Endpoints, Filter, Incoming, Metadata};

static SERIAL: Mutex<()> = Mutex::new(());
static SLOTS: [PendSlot; 2] = [const { PendSlot::new() }; 2];

/// Pends every connect into the first free slot; blocks when none is.
struct Parker;
impl Callout for Parker {
    type Layer = AleAuthConnectV4;
    fn classify<'c>(c: Classify<'c, AleAuthConnectV4>, action: Action<'c>) -> Decided<'c> {
        let Action::Writable(w) = action else {
            return match action {
                Action::ReadOnly(r) => r.leave(),
                Action::Writable(w) => w.block(),
            };
        };
        if SLOTS.iter().all(PendSlot::is_full) {
            return w.block();
        }
        match w.pend(&c) {
            Ok((decided, mut pended)) => {
                for slot in &SLOTS {
                    match slot.put(pended) {
                        Ok(()) => return decided,
                        Err(back) => pended = back,
                    }
                }
                drop(pended); // no room after all: completed (blocked) at once
                decided
            }
            Err(not) => not.action.block(),
        }
    }
}

fn device() -> DeviceObject {
    static DEVICE: u8 = 0;
    // SAFETY: the simulator takes any device object; this one lives forever.
    unsafe { DeviceObject::from_raw(NonNull::from(&DEVICE).cast()) }
}

fn connect(id: u32) -> ndis_sim::wfp::Outcome {
    let ends = Endpoints {
        protocol: 6,
        local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        local_port: 1,
        remote_port: 443,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let incoming = Incoming::with_endpoints(AleAuthConnectV4::ID, ends, None).unwrap();
    // SAFETY: no layer data.
    unsafe { ndis_sim::wfp::classify(id, &incoming, &Metadata::default(), std::ptr::null_mut(), Filter::default()) }
        .unwrap()
}

#[test]
fn pends_go_into_slots_and_out_once() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let session = ndis_sim::Session::new();
    let _ = ndis_sim::wfp::completions();
    let reg = Registration::<Parker>::register(
        device(),
        GUID { Data1: 0x5107, ..GUID::default() },
        CalloutFlags::NONE,
        Version::V1,
    )
    .unwrap();
    assert!(connect(reg.id()).pended);
    assert!(connect(reg.id()).pended);
    assert!(SLOTS.iter().all(PendSlot::is_full));
    // The slots are full: the third is refused at once.
    let third = connect(reg.id());
    assert!(!third.pended && third.action == FWP_ACTION_BLOCK);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 2);

    // Taken once, completed once; a second take finds nothing.
    let first = SLOTS[0].take().unwrap();
    assert!(SLOTS[0].take().is_none());
    first.complete(Decision::Permit);
    // A full slot dropped completes its pend with block.
    let moved = PendSlot::new();
    moved.put(SLOTS[1].take().unwrap()).unwrap();
    drop(moved);
    let done = ndis_sim::wfp::completions();
    assert_eq!(done.iter().map(|(_, o)| o.action).collect::<Vec<_>>(), [FWP_ACTION_PERMIT, FWP_ACTION_BLOCK]);
    assert!(ndis_sim::wfp::outstanding_pends().is_empty());

    // Leaked with a pend in it: the pend waits, the watchdog lists it.
    assert!(connect(reg.id()).pended);
    let leaked = PendSlot::new();
    leaked.put(SLOTS[0].take().unwrap()).unwrap();
    std::mem::forget(leaked);
    assert_eq!(ndis_sim::wfp::outstanding_pends().len(), 1);
    reg.unregister().unwrap();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
}

#[test]
fn a_redirect_handle_is_set_lent_and_taken_out_once() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let session = ndis_sim::Session::new();
    let before = ndis_sim::wfp::redirect_handles();
    let cell = RedirectHandleCell::new();
    assert_eq!(cell.with(7, |_, v| v), Err(7), "empty: the value comes back");
    cell.set(RedirectHandle::new(GUID::default()).unwrap()).unwrap();
    let second = RedirectHandle::new(GUID::default()).unwrap();
    let second = cell.set(second).unwrap_err(); // full: given back
    drop(second);
    let raw = cell.with((), |h, ()| h.as_raw()).unwrap();
    assert!(!raw.is_null());
    assert_eq!(ndis_sim::wfp::redirect_handles(), before + 1);
    let taken = cell.take().unwrap();
    assert_eq!(taken.as_raw(), raw);
    assert!(cell.take().is_none(), "taken once");
    drop(taken);
    drop(cell); // empty: destroys nothing
    assert_eq!(ndis_sim::wfp::redirect_handles(), before);

    // Leaked full: the handle stays alive, no report.
    let leaked = RedirectHandleCell::new();
    leaked.set(RedirectHandle::new(GUID::default()).unwrap()).unwrap();
    std::mem::forget(leaked);
    assert_eq!(ndis_sim::wfp::redirect_handles(), before + 1);
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
}

#[test]
fn a_take_waits_for_the_lending_under_way_on_another_thread() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let session = ndis_sim::Session::new();
    let before = ndis_sim::wfp::redirect_handles();
    let cell = RedirectHandleCell::new();
    cell.set(RedirectHandle::new(GUID::default()).unwrap()).unwrap();
    let (lending, taking, lent_done) = (AtomicBool::new(false), AtomicBool::new(false), AtomicBool::new(false));
    let taken = std::thread::scope(|s| {
        s.spawn(|| {
            cell.with((), |h, ()| {
                lending.store(true, Ordering::SeqCst);
                while !taking.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                // The taker is in `take` now (or about to be): it must
                // wait for this lending, whose handle is still alive.
                std::thread::sleep(std::time::Duration::from_millis(20));
                assert!(!h.as_raw().is_null());
                assert_eq!(ndis_sim::wfp::redirect_handles(), before + 1);
                lent_done.store(true, Ordering::SeqCst);
            })
            .unwrap();
        });
        let taker = s.spawn(|| {
            while !lending.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            taking.store(true, Ordering::SeqCst);
            let taken = cell.take().unwrap();
            assert!(lent_done.load(Ordering::SeqCst), "handed out while still lent");
            taken
        });
        taker.join().unwrap()
    });
    assert_eq!(cell.with(1, |_, v| v), Err(1), "empty once taken");
    drop(taken);
    assert_eq!(ndis_sim::wfp::redirect_handles(), before);
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
}
