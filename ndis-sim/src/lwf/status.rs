//! Status indications and PnP events on the simulated stack.
//!
//! A status indication comes up from the miniport
//! ([`Stack::indicate_status`]): each module with a `StatusHandler`, bottom
//! first, is handed it and passes it up with `NdisFIndicateStatus` (or
//! not); what reaches the protocol is recorded ([`Stack::statuses`]). A
//! network PnP event goes up the same way ([`Stack::net_pnp_event`],
//! `FilterNetPnPEvent` / `NdisFNetPnPEvent`, as the DDI's page says: "to
//! overlying drivers"); the protocol accepts it (`NDIS_STATUS_SUCCESS`) and
//! records it. A device PnP event goes down ([`Stack::device_pnp_event`],
//! `FilterDevicePnPEventNotify` / `NdisFDevicePnPEventNotify`) to the
//! miniport, which records it. Modules without the handler are passed by,
//! as NDIS does. The indication's record is the same one all the way (a
//! filter passes on what it was handed, or a record of its own).

use ndis_sys::*;

use super::state::{Lwf, MState, lwf};
use super::{Stack, report_now};
use crate::model::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::verifier::irql::at_most;
use crate::verifier::{Rule, Violation, v};

/// Which handler a module is looked up for.
#[derive(Clone, Copy)]
enum Kind {
    Status,
    NetPnp,
    DevicePnp,
}

/// The first attached module from `at` on (going `up` or down) with the
/// handler of `kind`: (its context, whether found).
fn next_with(l: &Lwf, mut at: Option<usize>, up: bool, kind: Kind) -> Option<(usize, usize)> {
    while let Some(m) = at {
        if let Some(r) = l.modules.get(&m)
            && r.state != MState::Detached
            && let Some(d) = l.drivers.get(&r.driver)
        {
            let has = match kind {
                Kind::Status => d.chars.StatusHandler.is_some(),
                Kind::NetPnp => d.chars.NetPnPEventHandler.is_some(),
                Kind::DevicePnp => d.chars.DevicePnPEventNotifyHandler.is_some(),
            };
            if has {
                return Some((m, r.ctx));
            }
        }
        at = if up { l.above(m) } else { l.below(m) };
    }
    None
}

fn driver_chars(l: &Lwf, m: usize) -> Option<NDIS_FILTER_DRIVER_CHARACTERISTICS> {
    l.modules.get(&m).and_then(|r| l.drivers.get(&r.driver)).map(|d| d.chars)
}

/// Copies `len` bytes at `p` (none when NULL).
///
/// # Safety
///
/// `p` is NULL or valid for `len` bytes.
unsafe fn bytes(p: PVOID, len: u32) -> Vec<u8> {
    if p.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: the caller's guarantee.
    unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len as usize) }.to_vec()
}

/// A status indication arrives at the first module from `at` up that takes
/// them, or the protocol.
fn status_up(stack: u64, at: Option<usize>, ind: PNDIS_STATUS_INDICATION) {
    let next = {
        let mut l = lwf();
        match next_with(&l, at, true, Kind::Status) {
            Some((m, ctx)) => driver_chars(&l, m).and_then(|c| c.StatusHandler).map(|f| (f, ctx)),
            None => {
                // SAFETY: the indication record, valid for the call.
                let (code, data) = unsafe { ((*ind).StatusCode, bytes((*ind).StatusBuffer, (*ind).StatusBufferSize)) };
                l.oids.stack(stack).statuses.push((code, data));
                None
            }
        }
    };
    if let Some((f, ctx)) = next {
        // SAFETY: the module's handler with its context and a valid record.
        unsafe { f(ctx as NDIS_HANDLE, ind) };
    }
}

/// A network PnP event arrives at the first module from `at` up that takes
/// them, or the protocol; its status.
fn net_pnp_up(stack: u64, at: Option<usize>, ev: PNET_PNP_EVENT_NOTIFICATION) -> NDIS_STATUS {
    let next = {
        let mut l = lwf();
        match next_with(&l, at, true, Kind::NetPnp) {
            Some((m, ctx)) => driver_chars(&l, m).and_then(|c| c.NetPnPEventHandler).map(|f| (f, ctx)),
            None => {
                // SAFETY: the event record, valid for the call.
                let (code, data) = unsafe {
                    let e = (*ev).NetPnPEvent;
                    (e.NetEvent, bytes(e.Buffer, e.BufferLength))
                };
                l.oids.stack(stack).net_events.push((code, data));
                None
            }
        }
    };
    match next {
        // SAFETY: the module's handler with its context and a valid record.
        Some((f, ctx)) => unsafe { f(ctx as NDIS_HANDLE, ev) },
        None => NDIS_STATUS_SUCCESS,
    }
}

/// A device PnP event arrives at the first module from `at` down that
/// takes them, or the miniport.
fn device_pnp_down(stack: u64, at: Option<usize>, ev: PNET_DEVICE_PNP_EVENT) {
    let next = {
        let mut l = lwf();
        match next_with(&l, at, false, Kind::DevicePnp) {
            Some((m, ctx)) => driver_chars(&l, m).and_then(|c| c.DevicePnPEventNotifyHandler).map(|f| (f, ctx)),
            None => {
                // SAFETY: the event record, valid for the call.
                let (code, data) =
                    unsafe { ((*ev).DevicePnPEvent, bytes((*ev).InformationBuffer, (*ev).InformationBufferLength)) };
                l.oids.stack(stack).device_events.push((code, data));
                None
            }
        }
    };
    if let Some((f, ctx)) = next {
        // SAFETY: the module's handler with its context and a valid record.
        unsafe { f(ctx as NDIS_HANDLE, ev) };
    }
}

impl Stack {
    fn ends(&self) -> (Option<usize>, Option<usize>, usize) {
        let l = lwf();
        let s = &l.stacks[&self.id];
        (s.modules.first().copied(), s.modules.last().copied(), s.miniport)
    }

    /// The miniport indicates status `code` with `buffer` as its
    /// `StatusBuffer`.
    pub fn indicate_status(&self, code: NDIS_STATUS, buffer: &[u8]) {
        let (_, bottom, miniport) = self.ends();
        let mut data = buffer.to_vec();
        // SAFETY: all-zero is a valid value of this C record.
        let mut ind: NDIS_STATUS_INDICATION = unsafe { core::mem::zeroed() };
        ind.Header = NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_STATUS_INDICATION,
            Revision: NDIS_STATUS_INDICATION_REVISION_1 as u8,
            Size: NDIS_SIZEOF_STATUS_INDICATION_REVISION_1,
        };
        ind.SourceHandle = core::ptr::without_provenance_mut(miniport);
        ind.StatusCode = code;
        ind.StatusBuffer = if data.is_empty() { core::ptr::null_mut() } else { data.as_mut_ptr().cast() };
        ind.StatusBufferSize = data.len() as u32;
        status_up(self.id, bottom, &mut ind);
    }

    /// The status indications that reached the protocol: (code, buffer).
    pub fn statuses(&self) -> Vec<(NDIS_STATUS, Vec<u8>)> {
        lwf().oids.stack(self.id).statuses.clone()
    }

    /// A network PnP event `code` with `buffer` goes up from the miniport;
    /// the status the stack answered with.
    pub fn net_pnp_event(&self, code: NET_PNP_EVENT_CODE, buffer: &[u8]) -> NDIS_STATUS {
        let (_, bottom, _) = self.ends();
        let mut data = buffer.to_vec();
        // SAFETY: all-zero is a valid value of this C record.
        let mut ev: NET_PNP_EVENT_NOTIFICATION = unsafe { core::mem::zeroed() };
        ev.Header = NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_PNP_EVENT_NOTIFICATION_REVISION_1 as u8,
            Size: NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1,
        };
        ev.NetPnPEvent.NetEvent = code;
        ev.NetPnPEvent.Buffer = if data.is_empty() { core::ptr::null_mut() } else { data.as_mut_ptr().cast() };
        ev.NetPnPEvent.BufferLength = data.len() as u32;
        net_pnp_up(self.id, bottom, &mut ev)
    }

    /// The network PnP events that reached the protocol: (code, buffer).
    pub fn net_pnp_events(&self) -> Vec<(i32, Vec<u8>)> {
        lwf().oids.stack(self.id).net_events.clone()
    }

    /// A device PnP event `event` with `buffer` goes down to the miniport.
    pub fn device_pnp_event(&self, event: NDIS_DEVICE_PNP_EVENT, buffer: &[u8]) {
        let (top, _, _) = self.ends();
        let mut data = buffer.to_vec();
        // SAFETY: all-zero is a valid value of this C record.
        let mut ev: NET_DEVICE_PNP_EVENT = unsafe { core::mem::zeroed() };
        ev.Header = NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_DEVICE_PNP_EVENT_REVISION_1 as u8,
            Size: NDIS_SIZEOF_NET_DEVICE_PNP_EVENT_REVISION_1,
        };
        ev.DevicePnPEvent = event;
        ev.InformationBuffer = if data.is_empty() { core::ptr::null_mut() } else { data.as_mut_ptr().cast() };
        ev.InformationBufferLength = data.len() as u32;
        device_pnp_down(self.id, top, &mut ev);
    }

    /// The device PnP events that reached the miniport: (event, buffer).
    pub fn device_pnp_events(&self) -> Vec<(i32, Vec<u8>)> {
        lwf().oids.stack(self.id).device_events.clone()
    }
}

/// The module's stack, or a report.
fn stack_of(filter: NDIS_HANDLE, ddi: &'static str, found: &mut Vec<Violation>) -> Option<(u64, usize)> {
    let l = lwf();
    let m = filter as usize;
    match l.modules.get(&m) {
        Some(r) if r.state != MState::Detached => Some((r.stack, m)),
        _ => {
            found.push(v(
                Rule::NotAnObject,
                ddi,
                format!("{m:#x} is not an attached filter module's NdisFilterHandle"),
            ));
            None
        }
    }
}

/// `NdisFIndicateStatus`: the indication goes up to the next module that
/// takes them, or the protocol.
///
/// # Safety
///
/// As the DDI: `indication` valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFIndicateStatus(filter: NDIS_HANDLE, indication: PNDIS_STATUS_INDICATION) {
    const DDI: &str = "NdisFIndicateStatus";
    at_most(DISPATCH_LEVEL, DDI);
    let mut found = Vec::new();
    let at = stack_of(filter, DDI, &mut found);
    report_now(found);
    if let Some((stack, m)) = at
        && !indication.is_null()
    {
        let above = lwf().above(m);
        status_up(stack, above, indication);
    }
}

/// `NdisFNetPnPEvent`: the event goes up to the next module that takes
/// them, or the protocol; its status.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFNetPnPEvent(filter: NDIS_HANDLE, event: PNET_PNP_EVENT_NOTIFICATION) -> NDIS_STATUS {
    const DDI: &str = "NdisFNetPnPEvent";
    at_most(PASSIVE_LEVEL, DDI);
    let mut found = Vec::new();
    let at = stack_of(filter, DDI, &mut found);
    report_now(found);
    match at {
        Some((stack, m)) if !event.is_null() => {
            let above = lwf().above(m);
            net_pnp_up(stack, above, event)
        }
        _ => NDIS_STATUS_INVALID_PARAMETER,
    }
}

/// `NdisFDevicePnPEventNotify`: the event goes down to the next module
/// that takes them, or the miniport.
///
/// # Safety
///
/// As the DDI.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFDevicePnPEventNotify(filter: NDIS_HANDLE, event: PNET_DEVICE_PNP_EVENT) {
    const DDI: &str = "NdisFDevicePnPEventNotify";
    at_most(PASSIVE_LEVEL, DDI);
    let mut found = Vec::new();
    let at = stack_of(filter, DDI, &mut found);
    report_now(found);
    if let Some((stack, m)) = at
        && !event.is_null()
    {
        let below = lwf().below(m);
        device_pnp_down(stack, below, event);
    }
}
