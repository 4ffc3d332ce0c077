//! The WFP net-buffer, clone, reference and injection DDIs (fwps-sys'
//! functions), exported under their C names, and the control a test has
//! over injections: whether they complete at once, wait for the test, or
//! fail synchronously ([`InjectionMode`], [`complete_next`], …).
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use fwps_sys::*;
use ndis_sys::*;

use crate::ndis::{
    NblRequest, alloc_nbl, check_context_args, check_nbl_nb_args, drop_nbl, free_clone, make_clone, may_free_nbl,
};
use crate::state::{self, Body, InjectionRecord, NblOrigin, Raw, State, nb_inconsistency, v};
use crate::verifier::{Rule, Violation};

/// What the simulated stack does with the next injections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InjectionMode {
    /// The injection is accepted and waits: the completion runs when the
    /// test calls [`complete_next`] or [`complete_all`] (with the status it
    /// chooses, so an asynchronous failure is `complete_next(failure)`).
    #[default]
    Deferred,
    /// The injection is accepted and its completion runs before the inject
    /// call returns, with this status in `NET_BUFFER_LIST_STATUS`.
    Immediate(NTSTATUS),
    /// The inject call fails with this status: the NBL stays the caller's
    /// and the completion never runs.
    FailSynchronously(NTSTATUS),
}

static MODE: Mutex<InjectionMode> = Mutex::new(InjectionMode::Deferred);

fn mode() -> MutexGuard<'static, InjectionMode> {
    MODE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets what the next injections do.
pub fn set_injection_mode(m: InjectionMode) {
    *mode() = m;
}

pub(crate) fn reset_injection_mode() {
    *mode() = InjectionMode::Deferred;
}

/// An injection the stack holds.
struct Pending {
    nbl: Raw,
    completion: FWPS_INJECT_COMPLETE0,
    context: Raw,
}
// SAFETY: the pointers name an NBL the stack owns and the driver's context,
// which the completion is given on whatever thread completes it, as on
// Windows.
unsafe impl Send for Pending {}

static PENDING: Mutex<VecDeque<Pending>> = Mutex::new(VecDeque::new());

fn pending() -> MutexGuard<'static, VecDeque<Pending>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many injections wait for their completion.
pub fn pending_injections() -> usize {
    pending().len()
}

/// Hands the NBL back to the driver: clears its injected mark, sets its
/// status, and calls the completion (outside every lock, as the stack may
/// call it from any context; `dispatchLevel` is FALSE).
fn complete(p: Pending, status: NTSTATUS) {
    let nbl: *mut NET_BUFFER_LIST = p.nbl.0.cast();
    state::with(|st, _| {
        let handle = st.nbl_mut(nbl as usize).and_then(|n| n.injected.take()).map(|r| r.handle);
        if let Some(h) = handle
            && let Some(Body::InjectionHandle { pending }) = st.objs.get_mut(&h).map(|o| &mut o.body)
        {
            *pending = pending.saturating_sub(1);
        }
        // SAFETY: the stack owns the NBL until this completion; it is live.
        unsafe { *NET_BUFFER_LIST_STATUS(nbl) = status };
    });
    if let Some(f) = p.completion {
        // SAFETY: the driver's completion routine, called as WFP calls it.
        unsafe { f(p.context.0.cast(), nbl, 0) };
    }
}

/// Completes the oldest pending injection with `status`. Returns false when
/// none is pending.
pub fn complete_next(status: NTSTATUS) -> bool {
    let next = pending().pop_front();
    match next {
        Some(p) => {
            complete(p, status);
            true
        }
        None => false,
    }
}

/// Completes every pending injection with `status` (including those the
/// completions start). Returns how many were completed.
pub fn complete_all(status: NTSTATUS) -> usize {
    let mut n = 0;
    while complete_next(status) {
        n += 1;
    }
    n
}

// ---- NBLs ----

/// Allocates a NET_BUFFER_LIST with one NET_BUFFER over the caller's MDL
/// chain (or the pool's data, with a NULL chain), freed by
/// `FwpsFreeNetBufferList0`.
///
/// # Safety
///
/// `poolHandle` is an NBL pool; the chain's MDLs are live; `netBufferList`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAllocateNetBufferAndNetBufferList0(
    poolHandle: NDIS_HANDLE,
    contextSize: USHORT,
    contextBackFill: USHORT,
    mdlChain: *mut MDL,
    dataOffset: ULONG,
    dataLength: SIZE_T,
    netBufferList: *mut *mut NET_BUFFER_LIST,
) -> NTSTATUS {
    const DDI: &str = "FwpsAllocateNetBufferAndNetBufferList0";
    state::with(|st, found| {
        if netBufferList.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        if !st.live(poolHandle as usize, "nbl-pool", DDI, found)
            || !check_context_args(contextSize, contextBackFill, DDI, found)
            // SAFETY: the caller guarantees the chain's MDLs are live.
            || !unsafe { check_nbl_nb_args(st, poolHandle, mdlChain, dataOffset, dataLength, DDI, found) }
        {
            return STATUS_INVALID_PARAMETER;
        }
        let nbl = alloc_nbl(
            st,
            NblRequest {
                pool: poolHandle,
                context_size: contextSize,
                backfill: contextBackFill,
                origin: NblOrigin::Fwps,
                nb: Some((mdlChain, dataOffset, dataLength as u32)),
            },
        );
        // SAFETY: the caller guarantees `netBufferList` is writable.
        unsafe { *netBufferList = nbl };
        if nbl.is_null() { STATUS_NO_MEMORY } else { STATUS_SUCCESS }
    })
}

/// Frees a NET_BUFFER_LIST `FwpsAllocateNetBufferAndNetBufferList0` made.
///
/// # Safety
///
/// `netBufferList` is such an NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFreeNetBufferList0(netBufferList: *mut NET_BUFFER_LIST) {
    const DDI: &str = "FwpsFreeNetBufferList0";
    state::with(|st, found| {
        if may_free_nbl(st, netBufferList, &[NblOrigin::Fwps], DDI, found) {
            drop_nbl(st, netBufferList as usize, DDI);
        }
    });
}

/// Clones a NET_BUFFER_LIST over the original's MDLs (new NBL and NBs, from
/// the pools given or WFP's own), for modification and injection.
///
/// # Safety
///
/// `originalNetBufferList` is a live NBL; `netBufferList` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsAllocateCloneNetBufferList0(
    originalNetBufferList: *mut NET_BUFFER_LIST,
    netBufferListPoolHandle: NDIS_HANDLE,
    netBufferPoolHandle: NDIS_HANDLE,
    _allocateCloneFlags: ULONG,
    netBufferList: *mut *mut NET_BUFFER_LIST,
) -> NTSTATUS {
    const DDI: &str = "FwpsAllocateCloneNetBufferList0";
    state::with(|st, found| {
        if netBufferList.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let clone = make_clone(
            st,
            originalNetBufferList,
            netBufferListPoolHandle,
            netBufferPoolHandle,
            true,
            NblOrigin::FwpsClone,
            DDI,
            found,
        );
        // SAFETY: the caller guarantees `netBufferList` is writable.
        unsafe { *netBufferList = clone };
        if clone.is_null() { STATUS_INVALID_PARAMETER } else { STATUS_SUCCESS }
    })
}

/// Frees a clone `FwpsAllocateCloneNetBufferList0` made, once its chains
/// and offsets are back as they were made.
///
/// # Safety
///
/// `netBufferList` is such a clone.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsFreeCloneNetBufferList0(netBufferList: *mut NET_BUFFER_LIST, _freeCloneFlags: ULONG) {
    state::with(|st, found| free_clone(st, netBufferList, NblOrigin::FwpsClone, "FwpsFreeCloneNetBufferList0", found));
}

// ---- references ----

/// Takes a reference on an NBL (typically one classify was given), which
/// keeps the stack from completing it until the reference is released.
///
/// # Safety
///
/// `netBufferList` is a live NBL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsReferenceNetBufferList0(
    netBufferList: *mut NET_BUFFER_LIST,
    _intendToModify: BOOLEAN,
) {
    const DDI: &str = "FwpsReferenceNetBufferList0";
    state::with(|st, found| {
        if st.live(netBufferList as usize, "nbl", DDI, found)
            && let Some(n) = st.nbl_mut(netBufferList as usize)
        {
            n.references += 1;
        }
    });
}

/// Releases a reference `FwpsReferenceNetBufferList0` took. The last one on
/// an NBL the stack has finished with returns it to the stack, which
/// requires its clones to be gone.
///
/// # Safety
///
/// `netBufferList` is a live NBL holding a reference.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsDereferenceNetBufferList0(
    netBufferList: *mut NET_BUFFER_LIST,
    _dispatchLevel: BOOLEAN,
) {
    const DDI: &str = "FwpsDereferenceNetBufferList0";
    state::with(|st, found| {
        let addr = netBufferList as usize;
        if !st.live(addr, "nbl", DDI, found) {
            return;
        }
        let name = st.name(addr);
        let Some(n) = st.nbl_mut(addr) else { return };
        if n.references == 0 {
            found.push(v(Rule::DereferenceWithoutReference, DDI, format!("{name} holds no reference")));
            return;
        }
        n.references -= 1;
        if n.references == 0 && n.stack_returned {
            crate::stack::release(st, netBufferList, DDI, found);
        }
    });
}

// ---- injection ----

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
    if injectionHandle.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    state::with(|st, _| {
        let Some(block) = state::Block::zeroed(std::alloc::Layout::new::<u128>()) else {
            return STATUS_NO_MEMORY;
        };
        st.insert(block.ptr.0 as usize, 0, Body::InjectionHandle { pending: 0 });
        // SAFETY: the caller guarantees `injectionHandle` is writable.
        unsafe { *injectionHandle = block.cast() };
        STATUS_SUCCESS
    })
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
    const DDI: &str = "FwpsInjectionHandleDestroy0";
    let h = injectionHandle as usize;
    let ok = state::with(|st, found| valid_handle(st, h, DDI, found));
    if !ok {
        return STATUS_INVALID_PARAMETER;
    }
    // Drain this handle's pending injections.
    loop {
        let next = {
            let mut q = pending();
            let at = q.iter().position(|p| {
                state::with(|st, _| {
                    st.nbl(p.nbl.0 as usize).and_then(|n| n.injected.as_ref()).is_some_and(|r| r.handle == h)
                })
            });
            at.and_then(|i| q.remove(i))
        };
        match next {
            Some(p) => complete(p, STATUS_SUCCESS),
            None => break,
        }
    }
    state::with(|st, _| {
        st.bury(h, DDI);
        // SAFETY: the handle block was allocated by FwpsInjectionHandleCreate0.
        unsafe { state::Block { ptr: Raw(injectionHandle.cast()), layout: std::alloc::Layout::new::<u128>() }.free() };
    });
    STATUS_SUCCESS
}

fn valid_handle(st: &State, h: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
    match st.objs.get(&h) {
        Some(o) if matches!(o.body, Body::InjectionHandle { .. }) && o.freed_by.is_none() => true,
        Some(o) if o.freed_by.is_some() => {
            found.push(v(Rule::InvalidInjectionHandle, ddi, format!("{} was already destroyed", o.name())));
            false
        }
        _ => {
            found.push(v(Rule::InvalidInjectionHandle, ddi, format!("{h:#x} is not an injection handle")));
            false
        }
    }
}

/// The common path of every `FwpsInject*Async0`.
fn inject(
    handle: HANDLE,
    injection_context: HANDLE,
    nbl: *mut NET_BUFFER_LIST,
    completion: FWPS_INJECT_COMPLETE0,
    context: HANDLE,
    ddi: &'static str,
) -> NTSTATUS {
    let m = *mode();
    let accepted = state::with(|st, found| {
        if !valid_handle(st, handle as usize, ddi, found) {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let addr = nbl as usize;
        if !st.live(addr, "nbl", ddi, found) || st.owned_by_stack(addr, ddi, found) {
            return Err(STATUS_INVALID_PARAMETER);
        }
        // SAFETY: the NBL is live.
        for nb in unsafe { state::nbs(nbl) } {
            // SAFETY: its NBs are live.
            if let Some(e) = unsafe { nb_inconsistency(nb) } {
                found.push(v(Rule::DataOutsideMdlChain, ddi, format!("{}: {e}", st.name(nb as usize))));
                return Err(STATUS_INVALID_PARAMETER);
            }
        }
        if let InjectionMode::FailSynchronously(status) = m {
            return Err(status);
        }
        if let Some(n) = st.nbl_mut(addr) {
            n.injected = Some(InjectionRecord { handle: handle as usize, context: Raw(injection_context.cast()) });
        }
        if let Some(Body::InjectionHandle { pending }) = st.objs.get_mut(&(handle as usize)).map(|o| &mut o.body) {
            *pending += 1;
        }
        Ok(())
    });
    if let Err(status) = accepted {
        return status;
    }
    let p = Pending { nbl: Raw(nbl.cast()), completion, context: Raw(context.cast()) };
    match m {
        InjectionMode::Immediate(status) => complete(p, status),
        _ => pending().push_back(p),
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
    _interfaceIndex: IF_INDEX,
    _subInterfaceIndex: IF_INDEX,
    netBufferList: *mut NET_BUFFER_LIST,
    completionFn: FWPS_INJECT_COMPLETE0,
    completionContext: HANDLE,
) -> NTSTATUS {
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
    inject(injectionHandle, injectionContext, netBufferList, completionFn, completionContext, "FwpsInjectForwardAsync0")
}

/// Whether an NBL was injected, and by whom: `FWPS_PACKET_INJECTED_BY_SELF`
/// (with the injection context) for an NBL this handle injected and whose
/// completion has not run, or a stack NBL marked as such
/// ([`crate::stack::StackNbl::injected_by`]); `…_BY_OTHER` for another
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
    const DDI: &str = "FwpsQueryPacketInjectionState0";
    state::with(|st, found| {
        let addr = netBufferList as usize;
        if !valid_handle(st, injectionHandle as usize, DDI, found) || !st.live(addr, "nbl", DDI, found) {
            return FWPS_PACKET_NOT_INJECTED;
        }
        let Some(record) = st.nbl(addr).and_then(|n| n.injected.as_ref().or(n.came_from.as_ref())) else {
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

// ---- callouts ----

/// A registered callout: its id and registration.
struct Callout {
    id: u32,
    callout: FWPS_CALLOUT0,
}
// SAFETY: the registration holds function pointers and a GUID.
unsafe impl Send for Callout {}

static CALLOUTS: Mutex<Vec<Callout>> = Mutex::new(Vec::new());
static NEXT_CALLOUT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

fn callouts() -> MutexGuard<'static, Vec<Callout>> {
    CALLOUTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers a callout with the (simulated) filter engine; `calloutId`
/// receives its run-time id. Its classify function is then what
/// [`classify`] calls.
///
/// # Safety
///
/// `callout` points to a readable `FWPS_CALLOUT0`; `calloutId`, if not NULL,
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutRegister0(
    _deviceObject: *mut core::ffi::c_void,
    callout: *const FWPS_CALLOUT0,
    calloutId: *mut UINT32,
) -> NTSTATUS {
    if callout.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller guarantees `callout` is readable.
    let callout = unsafe { *callout };
    if callout.classifyFn.is_none() || callout.notifyFn.is_none() {
        return STATUS_INVALID_PARAMETER;
    }
    let id = NEXT_CALLOUT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    callouts().push(Callout { id, callout });
    if !calloutId.is_null() {
        // SAFETY: the caller guarantees `calloutId` is writable.
        unsafe { *calloutId = id };
    }
    STATUS_SUCCESS
}

/// Unregisters a callout by its run-time id.
///
/// # Safety
///
/// None beyond the DDI's: any id may be passed.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsCalloutUnregisterById0(calloutId: UINT32) -> NTSTATUS {
    let mut all = callouts();
    match all.iter().position(|c| c.id == calloutId) {
        Some(i) => {
            all.remove(i);
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_PARAMETER,
    }
}

/// What the simulated filter engine tells a classify function about a packet.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassifyMetadata {
    /// `ipHeaderSize`, if the layer provides it (`FWPS_METADATA_FIELD_IP_HEADER_SIZE`).
    pub ip_header_size: Option<u32>,
    /// `transportHeaderSize`, if provided.
    pub transport_header_size: Option<u32>,
    /// `compartmentId`, if provided.
    pub compartment: Option<u32>,
}

/// Calls the classify function of registered callout `id` for a packet at
/// `layer` (an `FWPS_BUILTIN_LAYERS` value), as the filter engine does when
/// a filter sends it there, with write rights. Returns what it decided, or
/// `None` when no such callout is registered.
///
/// # Safety
///
/// `layer_data` is what the layer passes (an NBL the stack lends, or NULL).
pub unsafe fn classify(
    id: u32,
    layer: u16,
    layer_data: *mut NET_BUFFER_LIST,
    meta: ClassifyMetadata,
) -> Option<FWPS_CLASSIFY_OUT0> {
    let classify_fn = callouts().iter().find(|c| c.id == id).and_then(|c| c.callout.classifyFn)?;
    // SAFETY: all-zero values are valid for these C records (null pointers, zero counts).
    let (mut values, mut metadata, filter, mut out): (
        FWPS_INCOMING_VALUES0,
        FWPS_INCOMING_METADATA_VALUES0,
        FWPS_FILTER0,
        FWPS_CLASSIFY_OUT0,
    ) = unsafe { (core::mem::zeroed(), core::mem::zeroed(), core::mem::zeroed(), core::mem::zeroed()) };
    values.layerId = layer;
    if let Some(n) = meta.ip_header_size {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_IP_HEADER_SIZE;
        metadata.ipHeaderSize = n;
    }
    if let Some(n) = meta.transport_header_size {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE;
        metadata.transportHeaderSize = n;
    }
    if let Some(n) = meta.compartment {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_COMPARTMENT_ID;
        metadata.compartmentId = n;
    }
    out.rights = FWPS_RIGHT_ACTION_WRITE;
    out.actionType = FWP_ACTION_CONTINUE;
    // SAFETY: the callout's own classify function, called as the engine
    // calls it; every pointer is to a local that outlives the call.
    unsafe { classify_fn(&values, &metadata, layer_data.cast(), &filter, 0, &mut out) };
    let _ = &mut values;
    Some(out)
}

/// How many callouts are registered.
pub fn registered_callouts() -> usize {
    callouts().len()
}
