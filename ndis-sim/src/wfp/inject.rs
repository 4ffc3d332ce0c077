//! `FwpsInjectTransportSendAsync1`: a transport send with the remote
//! address, scope and control data the stack reads when the injection is
//! made and again when it sends the packet (its completion). The engine
//! keeps a copy of what it read and, when the injection completes, reports
//! a remote address or control data that changed meanwhile
//! ([`Rule::SendParamsChangedBeforeCompletion`]).
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::*;

use crate::verifier::{Rule, report, v};

/// What a Send1 injection's stack read: where, and the bytes then.
struct Read {
    nbl: usize,
    remote: (*const u8, Vec<u8>),
    control: (*const u8, Vec<u8>),
}
// SAFETY: the pointers are the driver's send parameters, read only by the
// completion, on whatever thread runs it, as the stack reads them.
unsafe impl Send for Read {}

static READS: Mutex<Vec<Read>> = Mutex::new(Vec::new());

fn reads() -> MutexGuard<'static, Vec<Read>> {
    READS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads `len` bytes at `addr` (0: none).
///
/// # Safety
///
/// `addr` is 0 or valid for `len` bytes.
unsafe fn bytes(addr: *const u8, len: usize) -> Vec<u8> {
    if addr.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller's guarantee.
    unsafe { std::slice::from_raw_parts(addr, len) }.to_vec()
}

/// Checks, as the stack sends an injected packet (its completion), that
/// the send parameters it reads are what they were at the injection.
///
/// # Safety
///
/// The parameters of `nbl`'s Send1 injection, if any, are still readable
/// (a driver that freed them has broken the rule this reports only if the
/// memory is still mapped; the simulator reads it as the stack would).
pub(crate) unsafe fn at_completion(nbl: *mut NET_BUFFER_LIST) {
    let read = {
        let mut all = reads();
        all.iter().position(|r| r.nbl == nbl.addr()).map(|i| all.remove(i))
    };
    let Some(r) = read else { return };
    // SAFETY: the caller's guarantee: the stack reads them now.
    let (remote, control) = unsafe { (bytes(r.remote.0, r.remote.1.len()), bytes(r.control.0, r.control.1.len())) };
    if remote != r.remote.1 || control != r.control.1 {
        report::report(vec![v(
            Rule::SendParamsChangedBeforeCompletion,
            "(injection completes)",
            format!(
                "the send parameters of NBL {:#x} changed before its completion (remote address {}, control data {})",
                r.nbl,
                if remote == r.remote.1 { "unchanged" } else { "changed" },
                if control == r.control.1 { "unchanged" } else { "changed" },
            ),
        )]);
    }
}

/// What `FwpsInjectTransportSendAsync1` does before the injection proper:
/// keeps a copy of the send parameters the stack reads now (to compare at
/// the completion) and records what the injection was given.
///
/// # Safety
///
/// `send_args`, if not NULL, and what it points to are readable.
pub(crate) unsafe fn before_send1(
    send_args: *mut FWPS_TRANSPORT_SEND_PARAMS1,
    family: ADDRESS_FAMILY,
    nbl: *mut NET_BUFFER_LIST,
) {
    // SAFETY: the caller's guarantee: NULL or readable.
    let read = unsafe { send_args.as_ref() }.map(|a| {
        let len = if family == AF_INET6 { 16 } else { 4 };
        // SAFETY: the caller's guarantee for the pointed-to buffers; the
        // pointers kept so the completion can read them again.
        unsafe {
            Read {
                nbl: nbl.addr(),
                remote: (a.remoteAddress, bytes(a.remoteAddress, len)),
                control: (a.controlData.cast(), bytes(a.controlData.cast(), a.controlDataLength as usize)),
            }
        }
    });
    // SAFETY: as above.
    let scope = unsafe { send_args.as_ref() }.map_or(0, |a| {
        // SAFETY: SCOPE_ID's ULONG view is always defined.
        unsafe { a.remoteScopeId.__bindgen_anon_1.Value }
    });
    record(TransportInjection::Send {
        remote: read.as_ref().map_or_else(Vec::new, |r| r.remote.1.clone()),
        scope,
        control: read.as_ref().map_or_else(Vec::new, |r| r.control.1.clone()),
    });
    if let Some(r) = read {
        reads().push(r);
    }
}

/// A refused `FwpsInjectTransportSendAsync1`: its completion will not run,
/// so its parameters are not read again.
pub(crate) fn send1_refused(nbl: *mut NET_BUFFER_LIST) {
    reads().retain(|r| r.nbl != nbl.addr());
}

/// What a transport injection (`FwpsInjectTransportSendAsync0`/`1`,
/// `FwpsInjectTransportReceiveAsync0`) was given besides its packet, as a
/// test reads it with [`take_transport_injections`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportInjection {
    /// A send: the remote address bytes (4 or 16; empty when no send
    /// parameters or no address were given), the remote scope id and the
    /// control data.
    Send {
        /// The remote address (`remoteAddress`), by the address family.
        remote: Vec<u8>,
        /// `remoteScopeId`.
        scope: u32,
        /// The control data.
        control: Vec<u8>,
    },
    /// A receive: the interface and sub-interface indices.
    Receive {
        /// `interfaceIndex`.
        interface: u32,
        /// `subInterfaceIndex`.
        sub_interface: u32,
    },
}

static TRANSPORT_INJECTIONS: Mutex<Vec<TransportInjection>> = Mutex::new(Vec::new());

/// Records what a transport injection was given.
pub(crate) fn record(injection: TransportInjection) {
    TRANSPORT_INJECTIONS.lock().unwrap_or_else(PoisonError::into_inner).push(injection);
}

/// Takes what the transport injections made so far were given (oldest
/// first).
pub fn take_transport_injections() -> Vec<TransportInjection> {
    std::mem::take(&mut *TRANSPORT_INJECTIONS.lock().unwrap_or_else(PoisonError::into_inner))
}
