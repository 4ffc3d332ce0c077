//! The kernel-mode management API (fwpmk.h), as far as a callout driver
//! uses it to install its policy: engine sessions (dynamic sessions remove
//! what they added when closed), transactions (an abort removes what the
//! transaction added), sublayers, callouts and filters, translated into the
//! engine's sublayers and filters ([`super::add_filter`]).
//!
//! Supported where the documentation allows more: filter layers are those
//! the engine lays out (IP packet and transport, IPv4 and IPv6, and ALE
//! connect); conditions are `FWP_MATCH_EQUAL` on the protocol, ports,
//! addresses, interface and sub-interface indices, with the value types the
//! engine stores there; weights are `FWP_EMPTY`, `FWP_UINT8` (a weight
//! range, as the engine maps it: the value in the top 4 bits) or
//! `FWP_UINT64`. Anything else is refused with `STATUS_INVALID_PARAMETER`,
//! never guessed.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::*;
use ndis_sys::*;

use super::filters::{FilterAction, FilterSpec, add_filter, add_sublayer, delete_filter, delete_sublayer};
use super::values::{Value, field_of};
use crate::model::callout::{callouts, same_guid};
use crate::model::irql::PASSIVE_LEVEL;
use crate::verifier::irql::at_most;

/// `STATUS_FWP_ALREADY_EXISTS`.
const ALREADY_EXISTS: NTSTATUS = 0xC022_0009_u32 as i32;
/// `STATUS_FWP_NOT_FOUND`.
const NOT_FOUND: NTSTATUS = 0xC022_0008_u32 as i32;
/// `STATUS_FWP_INVALID_HANDLE` (not an open session).
const INVALID_HANDLE: NTSTATUS = 0xC022_0024_u32 as i32;
/// `STATUS_FWP_TXN_IN_PROGRESS`.
const TXN_IN_PROGRESS: NTSTATUS = 0xC022_000D_u32 as i32;
/// `STATUS_FWP_NO_TXN_IN_PROGRESS`.
const NO_TXN_IN_PROGRESS: NTSTATUS = 0xC022_000C_u32 as i32;

#[derive(Clone, Copy)]
enum Object {
    Sublayer(u32),
    Filter(u64),
    Callout(GUID),
    Provider(GUID),
}

/// A key, compared as GUIDs are.
#[derive(Clone, Copy)]
struct GuidKey(GUID);

struct Session {
    handle: usize,
    dynamic: bool,
    added: Vec<Object>,
    txn: Option<Vec<Object>>,
}

#[derive(Default)]
struct Mgmt {
    sessions: Vec<Session>,
    next: usize,
    sublayers: Vec<(GuidKey, u32)>,
    callouts: Vec<(GuidKey, GuidKey)>,
    filters: Vec<(GuidKey, u64)>,
    providers: Vec<GuidKey>,
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Object::Sublayer(a), Object::Sublayer(b)) => a == b,
            (Object::Filter(a), Object::Filter(b)) => a == b,
            (Object::Callout(a), Object::Callout(b)) | (Object::Provider(a), Object::Provider(b)) => same_guid(a, b),
            _ => false,
        }
    }
}

static MGMT: Mutex<Option<Mgmt>> = Mutex::new(None);

fn mgmt() -> MutexGuard<'static, Option<Mgmt>> {
    MGMT.lock().unwrap_or_else(PoisonError::into_inner)
}

fn with<R>(f: impl FnOnce(&mut Mgmt) -> R) -> R {
    f(mgmt().get_or_insert_with(Mgmt::default))
}

/// Records `o` as added by session `h` (and its transaction).
fn added(m: &mut Mgmt, h: usize, o: Object) {
    if let Some(s) = m.sessions.iter_mut().find(|s| s.handle == h) {
        s.added.push(o);
        if let Some(t) = s.txn.as_mut() {
            t.push(o);
        }
    }
}

fn open(h: HANDLE) -> bool {
    with(|m| m.sessions.iter().any(|s| s.handle == h.addr()))
}

/// Removes one object from the engine.
fn remove(o: Object) {
    match o {
        Object::Sublayer(id) => {
            with(|m| m.sublayers.retain(|(_, s)| *s != id));
            delete_sublayer(id);
        }
        Object::Filter(id) => {
            with(|m| m.filters.retain(|(_, f)| *f != id));
            delete_filter(id);
        }
        Object::Callout(key) => with(|m| m.callouts.retain(|(k, _)| !same_guid(&k.0, &key))),
        Object::Provider(key) => with(|m| m.providers.retain(|k| !same_guid(&k.0, &key))),
    }
}

/// The `FWPS_LAYER_*` id of an `FWPM_LAYER_*` key the engine lays out.
fn layer_id(key: &GUID) -> Option<u16> {
    let table = [
        (FWPM_LAYER_INBOUND_IPPACKET_V4, FWPS_LAYER_INBOUND_IPPACKET_V4),
        (FWPM_LAYER_INBOUND_IPPACKET_V6, FWPS_LAYER_INBOUND_IPPACKET_V6),
        (FWPM_LAYER_OUTBOUND_IPPACKET_V4, FWPS_LAYER_OUTBOUND_IPPACKET_V4),
        (FWPM_LAYER_OUTBOUND_IPPACKET_V6, FWPS_LAYER_OUTBOUND_IPPACKET_V6),
        (FWPM_LAYER_INBOUND_TRANSPORT_V4, FWPS_LAYER_INBOUND_TRANSPORT_V4),
        (FWPM_LAYER_INBOUND_TRANSPORT_V6, FWPS_LAYER_INBOUND_TRANSPORT_V6),
        (FWPM_LAYER_OUTBOUND_TRANSPORT_V4, FWPS_LAYER_OUTBOUND_TRANSPORT_V4),
        (FWPM_LAYER_OUTBOUND_TRANSPORT_V6, FWPS_LAYER_OUTBOUND_TRANSPORT_V6),
        (FWPM_LAYER_ALE_AUTH_CONNECT_V4, FWPS_LAYER_ALE_AUTH_CONNECT_V4),
        (FWPM_LAYER_ALE_AUTH_CONNECT_V6, FWPS_LAYER_ALE_AUTH_CONNECT_V6),
        (FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4, FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4),
        (FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6, FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V6),
        (FWPM_LAYER_ALE_FLOW_ESTABLISHED_V4, FWPS_LAYER_ALE_FLOW_ESTABLISHED_V4),
        (FWPM_LAYER_ALE_FLOW_ESTABLISHED_V6, FWPS_LAYER_ALE_FLOW_ESTABLISHED_V6),
        (FWPM_LAYER_STREAM_V4, FWPS_LAYER_STREAM_V4),
        (FWPM_LAYER_STREAM_V6, FWPS_LAYER_STREAM_V6),
        (FWPM_LAYER_ALE_CONNECT_REDIRECT_V4, FWPS_LAYER_ALE_CONNECT_REDIRECT_V4),
        (FWPM_LAYER_ALE_CONNECT_REDIRECT_V6, FWPS_LAYER_ALE_CONNECT_REDIRECT_V6),
        (FWPM_LAYER_ALE_BIND_REDIRECT_V4, FWPS_LAYER_ALE_BIND_REDIRECT_V4),
        (FWPM_LAYER_ALE_BIND_REDIRECT_V6, FWPS_LAYER_ALE_BIND_REDIRECT_V6),
    ];
    table.iter().find(|(g, _)| same_guid(g, key)).map(|(_, id)| *id as u16)
}

/// Opens a session with the (simulated) engine.
///
/// # Safety
///
/// `session` is NULL or readable; `engineHandle` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmEngineOpen0(
    _serverName: *const wchar_t,
    _authnService: UINT32,
    _authIdentity: *mut SEC_WINNT_AUTH_IDENTITY_W,
    session: *const FWPM_SESSION0,
    engineHandle: *mut HANDLE,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmEngineOpen0");
    if engineHandle.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's guarantee.
    let dynamic = unsafe { session.as_ref() }.is_some_and(|s| s.flags & FWPM_SESSION_FLAG_DYNAMIC != 0);
    let h = with(|m| {
        m.next += 1;
        let h = 0x0E46_0000 + m.next * 16;
        m.sessions.push(Session { handle: h, dynamic, added: Vec::new(), txn: None });
        h
    });
    // SAFETY: the caller's guarantee.
    unsafe { *engineHandle = core::ptr::without_provenance_mut(h) };
    STATUS_SUCCESS
}

/// Closes a session: a dynamic session's objects are deleted; an open
/// transaction is aborted.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmEngineClose0(engineHandle: HANDLE) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmEngineClose0");
    let Some(s) =
        with(|m| m.sessions.iter().position(|s| s.handle == engineHandle.addr()).map(|i| m.sessions.remove(i)))
    else {
        return INVALID_HANDLE;
    };
    let gone: Vec<Object> = match (s.dynamic, s.txn) {
        (true, _) => s.added,
        (false, Some(txn)) => txn,
        (false, None) => Vec::new(),
    };
    gone.into_iter().rev().for_each(remove);
    STATUS_SUCCESS
}

/// Begins a transaction on the session.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmTransactionBegin0(engineHandle: HANDLE, _flags: UINT32) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmTransactionBegin0");
    with(|m| match m.sessions.iter_mut().find(|s| s.handle == engineHandle.addr()) {
        None => INVALID_HANDLE,
        Some(s) if s.txn.is_some() => TXN_IN_PROGRESS,
        Some(s) => {
            s.txn = Some(Vec::new());
            STATUS_SUCCESS
        }
    })
}

/// Commits the session's transaction.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmTransactionCommit0(engineHandle: HANDLE) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmTransactionCommit0");
    with(|m| match m.sessions.iter_mut().find(|s| s.handle == engineHandle.addr()) {
        None => INVALID_HANDLE,
        Some(s) => match s.txn.take() {
            Some(_) => STATUS_SUCCESS,
            None => NO_TXN_IN_PROGRESS,
        },
    })
}

/// Aborts the session's transaction: what it added is removed.
///
/// # Safety
///
/// None beyond the DDI's: the handle is checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmTransactionAbort0(engineHandle: HANDLE) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmTransactionAbort0");
    let txn = with(|m| match m.sessions.iter_mut().find(|s| s.handle == engineHandle.addr()) {
        None => Err(INVALID_HANDLE),
        Some(s) => match s.txn.take() {
            Some(t) => {
                s.added.retain(|o| !t.contains(o));
                Ok(t)
            }
            None => Err(NO_TXN_IN_PROGRESS),
        },
    });
    match txn {
        Ok(t) => {
            t.into_iter().rev().for_each(remove);
            STATUS_SUCCESS
        }
        Err(s) => s,
    }
}

/// Adds a sublayer.
///
/// # Safety
///
/// `subLayer` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmSubLayerAdd0(
    engineHandle: HANDLE,
    subLayer: *const FWPM_SUBLAYER0,
    _sd: PSECURITY_DESCRIPTOR,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmSubLayerAdd0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(s) = (unsafe { subLayer.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    if with(|m| m.sublayers.iter().any(|(k, _)| same_guid(&k.0, &s.subLayerKey))) {
        return ALREADY_EXISTS;
    }
    let id = add_sublayer(s.weight);
    with(|m| {
        m.sublayers.push((GuidKey(s.subLayerKey), id));
        added(m, engineHandle.addr(), Object::Sublayer(id));
    });
    STATUS_SUCCESS
}

/// Deletes a sublayer (and its filters) by key.
///
/// # Safety
///
/// `key` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmSubLayerDeleteByKey0(engineHandle: HANDLE, key: *const GUID) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmSubLayerDeleteByKey0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(key) = (unsafe { key.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    match with(|m| m.sublayers.iter().find(|(k, _)| same_guid(&k.0, key)).map(|(_, id)| *id)) {
        Some(id) => {
            remove(Object::Sublayer(id));
            STATUS_SUCCESS
        }
        None => NOT_FOUND,
    }
}

/// Adds a callout object (the management side of a registration): its key
/// and applicable layer. `id`, if not NULL, receives the run-time id of the
/// callout registered under the key, or 0 if none is registered yet.
///
/// # Safety
///
/// `callout` is NULL or readable; `id` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmCalloutAdd0(
    engineHandle: HANDLE,
    callout: *const FWPM_CALLOUT0,
    _sd: PSECURITY_DESCRIPTOR,
    id: *mut UINT32,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmCalloutAdd0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(c) = (unsafe { callout.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    if with(|m| m.callouts.iter().any(|(k, _)| same_guid(&k.0, &c.calloutKey))) {
        return ALREADY_EXISTS;
    }
    with(|m| {
        m.callouts.push((GuidKey(c.calloutKey), GuidKey(c.applicableLayer)));
        added(m, engineHandle.addr(), Object::Callout(c.calloutKey));
    });
    if !id.is_null() {
        let run_time = callouts().iter().find(|r| same_guid(&r.key, &c.calloutKey)).map_or(0, |r| r.id);
        // SAFETY: the caller's guarantee.
        unsafe { *id = run_time };
    }
    STATUS_SUCCESS
}

/// Deletes a callout object by key.
///
/// # Safety
///
/// `key` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmCalloutDeleteByKey0(engineHandle: HANDLE, key: *const GUID) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmCalloutDeleteByKey0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(key) = (unsafe { key.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    if !with(|m| m.callouts.iter().any(|(k, _)| same_guid(&k.0, key))) {
        return NOT_FOUND;
    }
    remove(Object::Callout(*key));
    STATUS_SUCCESS
}

/// One condition's value, as the engine stores it at the field.
///
/// # Safety
///
/// The value's pointers (for its type) are readable.
unsafe fn condition_value(v: &FWP_CONDITION_VALUE0) -> Option<Value> {
    // SAFETY: each arm reads the member its tag names; pointers are the caller's.
    unsafe {
        Some(match v.type_ {
            FWP_UINT8 => Value::U8(v.__bindgen_anon_1.uint8),
            FWP_UINT16 => Value::U16(v.__bindgen_anon_1.uint16),
            FWP_UINT32 => Value::U32(v.__bindgen_anon_1.uint32),
            FWP_BYTE_ARRAY16_TYPE => Value::Bytes16(v.__bindgen_anon_1.byteArray16.as_ref()?.byteArray16),
            _ => return None,
        })
    }
}

/// Adds a filter. `id`, if not NULL, receives its run-time id.
///
/// # Safety
///
/// `filter` is NULL or readable, with its conditions and weight pointers;
/// `id` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmFilterAdd0(
    engineHandle: HANDLE,
    filter: *const FWPM_FILTER0,
    _sd: PSECURITY_DESCRIPTOR,
    id: *mut UINT64,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmFilterAdd0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(f) = (unsafe { filter.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    let Some(layer) = layer_id(&f.layerKey) else { return STATUS_INVALID_PARAMETER };
    let Some(sublayer) = with(|m| m.sublayers.iter().find(|(k, _)| same_guid(&k.0, &f.subLayerKey)).map(|(_, s)| *s))
    else {
        return NOT_FOUND;
    };
    let weight = match f.weight.type_ {
        FWP_EMPTY => 0,
        // SAFETY: the weight's tagged member.
        FWP_UINT8 => u64::from(unsafe { f.weight.__bindgen_anon_1.uint8 }.min(15)) << 60,
        // SAFETY: the tagged member; its pointer is the caller's.
        FWP_UINT64 => match unsafe { f.weight.__bindgen_anon_1.uint64.as_ref() } {
            Some(w) => *w,
            None => return STATUS_INVALID_PARAMETER,
        },
        _ => return STATUS_INVALID_PARAMETER,
    };
    let mut conditions = Vec::new();
    for i in 0..f.numFilterConditions as usize {
        // SAFETY: the caller's guarantee: `numFilterConditions` conditions.
        let c = unsafe { &*f.filterCondition.add(i) };
        if c.matchType != FWP_MATCH_EQUAL {
            return STATUS_INVALID_PARAMETER;
        }
        let Some(field) = field_of(layer, &c.fieldKey) else { return STATUS_INVALID_PARAMETER };
        // SAFETY: the caller's guarantee for the value's pointers.
        let Some(value) = (unsafe { condition_value(&c.conditionValue) }) else { return STATUS_INVALID_PARAMETER };
        conditions.push((field, value));
    }
    let action = match f.action.type_ {
        FWP_ACTION_PERMIT => FilterAction::Permit,
        FWP_ACTION_BLOCK => FilterAction::Block,
        t if t & FWP_ACTION_FLAG_CALLOUT != 0 => {
            // SAFETY: a callout action names its callout key.
            let key = unsafe { f.action.__bindgen_anon_1.calloutKey };
            match callouts().iter().find(|r| same_guid(&r.key, &key)) {
                Some(r) => FilterAction::Callout(r.id),
                None => return NOT_FOUND,
            }
        }
        _ => return STATUS_INVALID_PARAMETER,
    };
    // SAFETY: the context member, when FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT is clear.
    let context = unsafe { f.__bindgen_anon_1.rawContext };
    let spec = FilterSpec { layer, sublayer, weight, conditions, action, flags: 0, context };
    let Some(fid) = add_filter(spec) else { return NOT_FOUND };
    with(|m| {
        m.filters.push((GuidKey(f.filterKey), fid));
        added(m, engineHandle.addr(), Object::Filter(fid));
    });
    if !id.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { *id = fid };
    }
    STATUS_SUCCESS
}

/// Deletes a filter by its run-time id.
///
/// # Safety
///
/// None beyond the DDI's: the handle and id are checked.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmFilterDeleteById0(engineHandle: HANDLE, id: UINT64) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmFilterDeleteById0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    if !with(|m| m.filters.iter().any(|(_, f)| *f == id)) {
        return NOT_FOUND;
    }
    remove(Object::Filter(id));
    STATUS_SUCCESS
}

/// Adds a provider (the owner objects may name).
///
/// # Safety
///
/// `provider` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmProviderAdd0(
    engineHandle: HANDLE,
    provider: *const FWPM_PROVIDER0,
    _sd: PSECURITY_DESCRIPTOR,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmProviderAdd0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(p) = (unsafe { provider.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    if with(|m| m.providers.iter().any(|k| same_guid(&k.0, &p.providerKey))) {
        return ALREADY_EXISTS;
    }
    with(|m| {
        m.providers.push(GuidKey(p.providerKey));
        added(m, engineHandle.addr(), Object::Provider(p.providerKey));
    });
    STATUS_SUCCESS
}

/// Deletes a provider by key.
///
/// # Safety
///
/// `key` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpmProviderDeleteByKey0(engineHandle: HANDLE, key: *const GUID) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpmProviderDeleteByKey0");
    if !open(engineHandle) {
        return INVALID_HANDLE;
    }
    // SAFETY: the caller's guarantee.
    let Some(key) = (unsafe { key.as_ref() }) else { return STATUS_INVALID_PARAMETER };
    if !with(|m| m.providers.iter().any(|k| same_guid(&k.0, key))) {
        return NOT_FOUND;
    }
    remove(Object::Provider(*key));
    STATUS_SUCCESS
}

/// How many providers the engine holds.
pub fn providers() -> usize {
    with(|m| m.providers.len())
}
