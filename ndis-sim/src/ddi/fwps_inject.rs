//! Injection handles, injection, and the injection state of a packet.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use fwps_sys::*;
use ndis_sys::*;

use crate::model::Kind;
use crate::model::Raw;
use crate::model::injection::{self, InjectionMode, Pending};
use crate::model::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::model::records::nbs;
use crate::verifier::irql::at_most;
use crate::verifier::{self, data, objects};

/// Creates an injection handle for `addressFamily` and the `flags`
/// injection types.
///
/// # Safety
///
/// `injectionHandle` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectionHandleCreate0(
    _addressFamily: ADDRESS_FAMILY,
    _flags: UINT32,
    injectionHandle: *mut HANDLE,
) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsInjectionHandleCreate0");
    if injectionHandle.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let handle = verifier::with(|st, _| injection::new_handle(st));
    if handle.is_null() {
        return STATUS_NO_MEMORY;
    }
    // SAFETY: the caller guarantees `injectionHandle` is writable.
    unsafe { *injectionHandle = handle };
    STATUS_SUCCESS
}

/// Destroys an injection handle. Injections still pending on it are
/// completed first (with `STATUS_SUCCESS`): the call returns once their
/// completions have run, as WFP's waits for them.
///
/// # Safety
///
/// `injectionHandle` is a handle `FwpsInjectionHandleCreate0` made.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectionHandleDestroy0(injectionHandle: HANDLE) -> NTSTATUS {
    at_most(PASSIVE_LEVEL, "FwpsInjectionHandleDestroy0");
    const DDI: &str = "FwpsInjectionHandleDestroy0";
    let h = injectionHandle as usize;
    let ok = verifier::with(|st, found| objects::valid_handle(st, h, DDI, found));
    if !ok {
        return STATUS_INVALID_PARAMETER;
    }
    // Drain this handle's pending injections.
    while let Some(p) = injection::take_pending_of(h) {
        injection::complete(p, STATUS_SUCCESS);
    }
    verifier::with(|st, _| injection::free_handle(st, injectionHandle, DDI));
    STATUS_SUCCESS
}

/// The common path of every `FwpsInject*Async0`.
pub(crate) fn inject(
    handle: HANDLE,
    injection_context: HANDLE,
    nbl: *mut NET_BUFFER_LIST,
    completion: FWPS_INJECT_COMPLETE0,
    context: HANDLE,
    ddi: &'static str,
) -> NTSTATUS {
    let m = injection::mode();
    let accepted = verifier::with(|st, found| {
        if !objects::valid_handle(st, handle as usize, ddi, found)
            || !objects::callers_nbl(st, nbl as usize, ddi, found)
        {
            return Err(STATUS_INVALID_PARAMETER);
        }
        // SAFETY: the NBL is live.
        for nb in unsafe { nbs(nbl) } {
            // SAFETY: its NBs are live.
            if !unsafe { data::consistent(st, nb, ddi, found) } {
                return Err(STATUS_INVALID_PARAMETER);
            }
        }
        if let InjectionMode::FailSynchronously(status) = m {
            return Err(status);
        }
        injection::accept(st, handle, injection_context, nbl);
        Ok(())
    });
    if let Err(status) = accepted {
        return status;
    }
    let p = Pending { nbl: Raw(nbl.cast()), completion, context: Raw(context.cast()) };
    match m {
        InjectionMode::Immediate(status) => injection::complete_here(p, status),
        _ => injection::pending().push_back(p),
    }
    STATUS_SUCCESS
}

/// Injects an NBL into the send path at the transport layer.
/// `sendArgs` is read when the injection is made and when it completes, as
/// the stack reads it after the call returns.
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns; `sendArgs`, if not NULL,
/// stays valid until the completion runs.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectTransportSendAsync0(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _endpointHandle: UINT64,
    _flags: UINT32,
    sendArgs: *mut FWPS_TRANSPORT_SEND_PARAMS0,
    _addressFamily: ADDRESS_FAMILY,
    _compartmentId: COMPARTMENT_ID,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectTransportSendAsync0");
    crate::wfp::inject::record(crate::wfp::inject::TransportInjection::Send {
        remote: Vec::new(),
        scope: 0,
        control: Vec::new(),
    });
    if !sendArgs.is_null() {
        // SAFETY: the caller guarantees `sendArgs` is readable: the stack
        // reads the remote address now.
        let _remote = unsafe { core::ptr::read_volatile(&raw const (*sendArgs).remoteAddress) };
    }
    inject(
        injectionHandle,
        injectionContext,
        netBufferList,
        completionFn,
        completionContext,
        "FwpsInjectTransportSendAsync0",
    )
}

/// Injects an NBL into the receive path at the transport layer.
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectTransportReceiveAsync0(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _reserved: PVOID,
    _flags: UINT32,
    _addressFamily: ADDRESS_FAMILY,
    _compartmentId: COMPARTMENT_ID,
    interfaceIndex: IF_INDEX,
    subInterfaceIndex: IF_INDEX,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectTransportReceiveAsync0");
    crate::wfp::inject::record(crate::wfp::inject::TransportInjection::Receive {
        interface: interfaceIndex,
        sub_interface: subInterfaceIndex,
    });
    inject(
        injectionHandle,
        injectionContext,
        netBufferList,
        completionFn,
        completionContext,
        "FwpsInjectTransportReceiveAsync0",
    )
}

/// Injects an NBL into the send path at the network layer.
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectNetworkSendAsync0(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _flags: UINT32,
    _compartmentId: COMPARTMENT_ID,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectNetworkSendAsync0");
    inject(
        injectionHandle,
        injectionContext,
        netBufferList,
        completionFn,
        completionContext,
        "FwpsInjectNetworkSendAsync0",
    )
}

/// Injects an NBL into the receive path at the network layer.
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectNetworkReceiveAsync0(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _flags: UINT32,
    _compartmentId: COMPARTMENT_ID,
    _interfaceIndex: IF_INDEX,
    _subInterfaceIndex: IF_INDEX,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectNetworkReceiveAsync0");
    inject(
        injectionHandle,
        injectionContext,
        netBufferList,
        completionFn,
        completionContext,
        "FwpsInjectNetworkReceiveAsync0",
    )
}

/// Injects an NBL into the forwarding path.
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectForwardAsync0(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _flags: UINT32,
    _addressFamily: ADDRESS_FAMILY,
    _compartmentId: COMPARTMENT_ID,
    _interfaceIndex: IF_INDEX,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectForwardAsync0");
    inject(injectionHandle, injectionContext, netBufferList, completionFn, completionContext, "FwpsInjectForwardAsync0")
}

/// Whether an NBL was injected, and by whom: `FWPS_PACKET_INJECTED_BY_SELF`
/// (with the injection context) for an NBL this handle injected and whose
/// completion has not run, or a stack NBL marked as such
/// ([`crate::StackNbl::injected_by`]); `…_BY_OTHER` for another
/// handle's; `FWPS_PACKET_NOT_INJECTED` otherwise.
///
/// # Safety
///
/// `netBufferList` is a live NBL; `injectionContext`, if not NULL, is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsQueryPacketInjectionState0(
    injectionHandle: HANDLE,
    netBufferList: *const NET_BUFFER_LIST,
    injectionContext: *mut HANDLE,
) -> FWPS_PACKET_INJECTION_STATE {
    at_most(DISPATCH_LEVEL, "FwpsQueryPacketInjectionState0");
    const DDI: &str = "FwpsQueryPacketInjectionState0";
    verifier::with(|st, found| {
        let addr = netBufferList as usize;
        if !objects::valid_handle(st, injectionHandle as usize, DDI, found)
            || !objects::live(st, addr, Kind::Nbl, DDI, found)
        {
            return FWPS_PACKET_NOT_INJECTED;
        }
        let Some(record) =
            st.nbl(addr).and_then(|n| n.injected.as_ref().or(n.lent.as_ref().and_then(|l| l.came_from.as_ref())))
        else {
            return FWPS_PACKET_NOT_INJECTED;
        };
        if record.handle != injectionHandle as usize {
            return FWPS_PACKET_INJECTED_BY_OTHER;
        }
        if !injectionContext.is_null() {
            // SAFETY: the caller guarantees `injectionContext` is writable.
            unsafe { *injectionContext = record.context.0.cast() };
        }
        FWPS_PACKET_INJECTED_BY_SELF
    })
}

/// Injects an NBL into the send path at the transport layer, with the
/// remote address (4 or 16 bytes by `addressFamily`), scope and control
/// data of `sendArgs`, which must stay valid and unchanged until the
/// completion (the engine's `wfp::inject` keeps what the stack read and
/// compares it then).
///
/// # Safety
///
/// `netBufferList` is a live NBL the caller owns; `sendArgs`, if not NULL,
/// and what it points to stay valid until the completion runs.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsInjectTransportSendAsync1(
    injectionHandle: HANDLE,
    injectionContext: HANDLE,
    _endpointHandle: UINT64,
    _flags: UINT32,
    sendArgs: *mut FWPS_TRANSPORT_SEND_PARAMS1,
    addressFamily: ADDRESS_FAMILY,
    _compartmentId: COMPARTMENT_ID,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, "FwpsInjectTransportSendAsync1");
    // SAFETY: the caller's guarantee: NULL or readable.
    unsafe { crate::wfp::inject::before_send1(sendArgs, addressFamily, netBufferList) };
    let status = inject(
        injectionHandle,
        injectionContext,
        netBufferList,
        completionFn,
        completionContext,
        "FwpsInjectTransportSendAsync1",
    );
    if status != STATUS_SUCCESS {
        crate::wfp::inject::send1_refused(netBufferList);
    }
    status
}
