//! The same callout written against the raw -sys calls, as a C driver
//! would write it: built instead of [`callout`](crate::callout) with the
//! `raw` feature, only so that `cargo xtask bench` can compare the two
//! drivers' code size. Same entry points, same logic, same DDIs.
#![allow(unsafe_code, reason = "the raw twin is raw by design")]
#![allow(non_snake_case, reason = "the DDI parameter names")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWP_BYTE_ARRAY16_TYPE, FWP_UINT32,
    FWPS_CALLOUT_NOTIFY_TYPE, FWPS_CLASSIFY_OUT_FLAG_ABSORB, FWPS_CLASSIFY_OUT0, FWPS_FILTER1,
    FWPS_INCOMING_METADATA_VALUES0, FWPS_INCOMING_VALUES0, FWPS_METADATA_FIELD_COMPARTMENT_ID,
    FWPS_METADATA_FIELD_IP_HEADER_SIZE, FWPS_METADATA_FIELD_REMOTE_SCOPE_ID,
    FWPS_METADATA_FIELD_TRANSPORT_CONTROL_DATA, FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE,
    FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE, FWPS_RIGHT_ACTION_WRITE, FWPS_TRANSPORT_SEND_PARAMS1, GUID, HANDLE,
};
use ndis_sys::*;

/// The callout's key.
pub const CALLOUT_KEY: GUID = crate::callout_key();

/// What each clone carries in its context area.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Flow {
    /// The packet's number.
    pub seq: u64,
    /// The layer.
    pub layer: u64,
}

/// The pool and injection handle, freed in that order reversed.
pub struct Inspector {
    injection: HANDLE,
    pool: NDIS_HANDLE,
    /// Packets injected so far.
    pub injected: AtomicU64,
    /// Packets completed so far.
    pub completed: AtomicU64,
}

impl Inspector {
    /// Makes the pool and the injection handle.
    ///
    pub fn new(owner: &ndis_safe::NdisHandle) -> Option<Inspector> {
        let ndis = owner.as_raw();
        let params = NET_BUFFER_LIST_POOL_PARAMETERS {
            Header: NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_DEFAULT,
                Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            },
            ProtocolId: NDIS_PROTOCOL_ID_DEFAULT,
            fAllocateNetBuffer: 0,
            ContextSize: size_of::<Flow>() as u16,
            PoolTag: u32::from_le_bytes(*b"Insp"),
            DataSize: 0,
        };
        // SAFETY: valid parameters; the caller's handle.
        let pool = unsafe { NdisAllocateNetBufferListPool(ndis, &params) };
        if pool.is_null() {
            return None;
        }
        let mut injection = core::ptr::null_mut();
        // SAFETY: `injection` is writable.
        if unsafe { fwps_sys::FwpsInjectionHandleCreate0(0, fwps_sys::FWPS_INJECTION_TYPE_TRANSPORT, &mut injection) }
            != 0
        {
            // SAFETY: ours, unused.
            unsafe { NdisFreeNetBufferListPool(pool) };
            return None;
        }
        Some(Inspector { injection, pool, injected: AtomicU64::new(0), completed: AtomicU64::new(0) })
    }
}

impl Drop for Inspector {
    fn drop(&mut self) {
        // SAFETY: ours; the handle first (it waits for pending injections).
        unsafe {
            fwps_sys::FwpsInjectionHandleDestroy0(self.injection);
            NdisFreeNetBufferListPool(self.pool);
        }
    }
}

static INSPECTOR: AtomicPtr<Inspector> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `inspector` the state classify uses.
pub fn install(inspector: &'static Inspector) {
    INSPECTOR.store(core::ptr::from_ref(inspector).cast_mut(), Ordering::Release);
}

/// Stops classify from using the state.
pub fn uninstall() {
    INSPECTOR.store(core::ptr::null_mut(), Ordering::Release);
}

/// A send injection's parameters, from the injection to its completion.
struct Slot {
    busy: AtomicBool,
    params: UnsafeCell<FWPS_TRANSPORT_SEND_PARAMS1>,
    remote: UnsafeCell<[u8; 16]>,
    control: UnsafeCell<[u8; CONTROL_MAX]>,
}

// SAFETY: one injection at a time uses a slot (`busy`).
unsafe impl Sync for Slot {}

const CONTROL_MAX: usize = 256;
const SEND_SLOTS: usize = 8;

#[allow(clippy::declare_interior_mutable_const, reason = "the array's initialiser")]
const FREE: Slot = Slot {
    busy: AtomicBool::new(false),
    // SAFETY: all-zero send parameters are valid (NULL pointers, no data).
    params: UnsafeCell::new(unsafe { core::mem::zeroed() }),
    remote: UnsafeCell::new([0; 16]),
    control: UnsafeCell::new([0; CONTROL_MAX]),
};

static SLOTS: [Slot; SEND_SLOTS] = [FREE; SEND_SLOTS];

unsafe extern "system" fn injected(ctx: *mut core::ffi::c_void, clone: *mut NET_BUFFER_LIST, _dispatch: BOOLEAN) {
    // SAFETY: our clone, back from the stack, with the context we pushed;
    // `ctx` is the send slot it held, or NULL.
    unsafe {
        let parent = *NET_BUFFER_LIST_PARENT(clone);
        NdisFreeNetBufferListContext(clone, size_of::<Flow>() as u16);
        fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0);
        fwps_sys::FwpsDereferenceNetBufferList0(parent, 0);
        if let Some(slot) = ctx.cast::<Slot>().as_ref() {
            slot.busy.store(false, Ordering::Release);
        }
        if let Some(ins) = INSPECTOR.load(Ordering::Acquire).as_ref() {
            ins.completed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The `FWP_UINT32` incoming value at `index`, if there is one of that type.
///
/// # Safety
///
/// `values` are the engine's for the call.
unsafe fn value_u32(values: &FWPS_INCOMING_VALUES0, index: u32) -> Option<u32> {
    if index >= values.valueCount {
        return None;
    }
    // SAFETY: within the engine's `valueCount` values; the union read as
    // its type tag says.
    unsafe {
        let v = &(*values.incomingValue.add(index as usize)).value;
        (v.type_ == FWP_UINT32).then_some(v.__bindgen_anon_1.uint32)
    }
}

/// The classify function (`classifyFn1`), for the four layers.
///
/// # Safety
///
/// Called by the filter engine.
pub unsafe extern "system" fn classify(
    inFixedValues: *const FWPS_INCOMING_VALUES0,
    inMetaValues: *const FWPS_INCOMING_METADATA_VALUES0,
    layerData: *mut core::ffi::c_void,
    _classifyContext: *const core::ffi::c_void,
    _filter: *const FWPS_FILTER1,
    _flowContext: u64,
    classifyOut: *mut FWPS_CLASSIFY_OUT0,
) {
    // SAFETY: the engine's pointers are valid for the call; the NBL is lent.
    unsafe {
        let (values, meta, out) = (&*inFixedValues, &*inMetaValues, &mut *classifyOut);
        if out.rights & FWPS_RIGHT_ACTION_WRITE == 0 {
            return;
        }
        let ins = INSPECTOR.load(Ordering::Acquire);
        let nbl: *mut NET_BUFFER_LIST = layerData.cast();
        let Some((inbound, family)) = crate::layer_kind(values.layerId) else {
            return;
        };
        if ins.is_null() || nbl.is_null() {
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        let ins = &*ins;
        let has = |f: u32| meta.currentMetadataValues & f != 0;
        let compartment = if has(FWPS_METADATA_FIELD_COMPARTMENT_ID) {
            meta.compartmentId as i32
        } else {
            fwps_sys::DEFAULT_COMPARTMENT_ID
        };
        // Inbound: back to the IP header past both headers, and the
        // layer's interface indices. Outbound: a free send slot and the
        // remote address.
        let mut header = 0;
        let mut interface = (0, 0);
        let mut slot: Option<&'static Slot> = None;
        if inbound {
            if !has(FWPS_METADATA_FIELD_IP_HEADER_SIZE) || !has(FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE) {
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            }
            let Some(h) = meta.ipHeaderSize.checked_add(meta.transportHeaderSize) else {
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            };
            header = h;
            let (i, s) = if family == fwps_sys::AF_INET {
                (
                    fwps_sys::FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_INDEX as u32,
                    fwps_sys::FWPS_FIELD_INBOUND_TRANSPORT_V4_SUB_INTERFACE_INDEX as u32,
                )
            } else {
                (
                    fwps_sys::FWPS_FIELD_INBOUND_TRANSPORT_V6_INTERFACE_INDEX as u32,
                    fwps_sys::FWPS_FIELD_INBOUND_TRANSPORT_V6_SUB_INTERFACE_INDEX as u32,
                )
            };
            let (Some(i), Some(s)) = (value_u32(values, i), value_u32(values, s)) else {
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            };
            interface = (i, s);
        } else {
            // The first slot that reads free, claimed below with one
            // exchange (taken meanwhile: the packet passes) — the typed
            // `SendSlot` claims the same way.
            let Some(free) = SLOTS.iter().find(|s| !s.busy.load(Ordering::Acquire)) else {
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            };
            slot = Some(free);
        }
        let mut ctx = core::ptr::null_mut();
        let state = fwps_sys::FwpsQueryPacketInjectionState0(ins.injection, nbl, &mut ctx);
        if state == fwps_sys::FWPS_PACKET_INJECTED_BY_SELF || state == fwps_sys::FWPS_PACKET_PREVIOUSLY_INJECTED_BY_SELF
        {
            out.actionType = FWP_ACTION_PERMIT;
            return;
        }
        // Outbound: fill the slot (remote address, scope, control data).
        let mut params: *mut FWPS_TRANSPORT_SEND_PARAMS1 = core::ptr::null_mut();
        if let Some(slot) = slot {
            let control = if has(FWPS_METADATA_FIELD_TRANSPORT_CONTROL_DATA) && !meta.controlData.is_null() {
                meta.controlDataLength as usize
            } else {
                0
            };
            if control > CONTROL_MAX
                || slot.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err()
            {
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            }
            let remote = &mut *slot.remote.get();
            *remote = [0; 16];
            let field = if family == fwps_sys::AF_INET {
                fwps_sys::FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS as u32
            } else {
                fwps_sys::FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_ADDRESS as u32
            };
            let ok = if family == fwps_sys::AF_INET {
                value_u32(values, field).map(|a| remote[..4].copy_from_slice(&a.to_be_bytes())).is_some()
            } else if field < values.valueCount {
                let v = &(*values.incomingValue.add(field as usize)).value;
                let a = v.__bindgen_anon_1.byteArray16;
                if v.type_ == FWP_BYTE_ARRAY16_TYPE && !a.is_null() {
                    *remote = (*a).byteArray16;
                    true
                } else {
                    false
                }
            } else {
                false
            };
            if !ok {
                slot.busy.store(false, Ordering::Release);
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            }
            let buffer = &mut *slot.control.get();
            core::ptr::copy_nonoverlapping(meta.controlData.cast::<u8>(), buffer.as_mut_ptr(), control);
            let p = &mut *slot.params.get();
            p.remoteAddress = remote.as_mut_ptr();
            p.remoteScopeId.__bindgen_anon_1.Value =
                if has(FWPS_METADATA_FIELD_REMOTE_SCOPE_ID) { meta.remoteScopeId.__bindgen_anon_1.Value } else { 0 };
            p.controlData = if control == 0 { core::ptr::null_mut() } else { buffer.as_mut_ptr().cast() };
            p.controlDataLength = control as u32;
            params = p;
        }
        let release = |slot: Option<&Slot>| {
            if let Some(s) = slot {
                s.busy.store(false, Ordering::Release);
            }
        };
        let seq = ins.injected.fetch_add(1, Ordering::Relaxed);
        fwps_sys::FwpsReferenceNetBufferList0(nbl, 1);
        // Every net buffer must have the headers before its data (the
        // retreat moves them all), as the typed path checks.
        let mut nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
        while !nb.is_null() {
            if *NET_BUFFER_DATA_OFFSET(nb) < header {
                fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
                release(slot);
                out.actionType = FWP_ACTION_CONTINUE;
                return;
            }
            nb = *NET_BUFFER_NEXT_NB(nb);
        }
        NdisRetreatNetBufferListDataStart(nbl, header, 0, None, None);
        let mut clone = core::ptr::null_mut();
        let status = fwps_sys::FwpsAllocateCloneNetBufferList0(nbl, ins.pool, core::ptr::null_mut(), 0, &mut clone);
        NdisAdvanceNetBufferListDataStart(nbl, header, 0, None);
        if status != 0 {
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            release(slot);
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        if NdisAllocateNetBufferListContext(clone, size_of::<Flow>() as u16, 0, 0) != 0 {
            fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0);
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            release(slot);
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        NET_BUFFER_LIST_CONTEXT_DATA_START(clone).cast::<Flow>().write(Flow { seq, layer: u64::from(values.layerId) });
        let status = if let Some(slot) = slot {
            let endpoint =
                if has(FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE) { meta.transportEndpointHandle } else { 0 };
            fwps_sys::FwpsInjectTransportSendAsync1(
                ins.injection,
                core::ptr::null_mut(),
                endpoint,
                0,
                params,
                family,
                compartment,
                clone,
                Some(injected),
                core::ptr::from_ref(slot).cast_mut().cast(),
            )
        } else {
            fwps_sys::FwpsInjectTransportReceiveAsync0(
                ins.injection,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                0,
                family,
                compartment,
                interface.0,
                interface.1,
                clone,
                Some(injected),
                core::ptr::null_mut(),
            )
        };
        if status == 0 {
            out.actionType = FWP_ACTION_BLOCK;
            out.flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
            out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        } else {
            NdisFreeNetBufferListContext(clone, size_of::<Flow>() as u16);
            fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0);
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            release(slot);
            out.actionType = FWP_ACTION_CONTINUE;
        }
    }
}

/// The notify function.
///
/// # Safety
///
/// Called by the filter engine.
pub unsafe extern "system" fn notify(
    _notifyType: FWPS_CALLOUT_NOTIFY_TYPE,
    _filterKey: *const GUID,
    _filter: *mut FWPS_FILTER1,
) -> NTSTATUS {
    STATUS_SUCCESS
}

/// The four callouts' run-time ids (`FwpsCalloutRegister1`, one classify
/// for all four layers).
pub struct Callouts {
    ids: [u32; 4],
}

/// The callout key of each layer, as [`crate::callout`]'s.
pub const fn key(outbound: bool, v6: bool) -> GUID {
    let base = if outbound { GUID { Data1: CALLOUT_KEY.Data1 ^ 1, ..CALLOUT_KEY } } else { CALLOUT_KEY };
    let mut data4 = base.Data4;
    data4[7] = if v6 { 6 } else { 4 };
    GUID { Data4: data4, ..base }
}

impl Callouts {
    /// Registers the four callouts; on an error, those registered already
    /// are unregistered.
    pub fn register(device: ndis_safe::wfp::callout::DeviceObject) -> Result<Callouts, NTSTATUS> {
        let mut ids = [0u32; 4];
        let keys = [key(false, false), key(false, true), key(true, false), key(true, true)];
        for (n, k) in keys.into_iter().enumerate() {
            let rec = fwps_sys::FWPS_CALLOUT1 {
                calloutKey: k,
                flags: 0,
                classifyFn: Some(classify),
                notifyFn: Some(notify),
                flowDeleteFn: None,
            };
            // SAFETY: the driver's device object; a complete record.
            let status = unsafe { fwps_sys::FwpsCalloutRegister1(device.as_ptr(), &rec, &mut ids[n]) };
            if status != STATUS_SUCCESS {
                for id in &ids[..n] {
                    // SAFETY: ours, registered above.
                    unsafe { fwps_sys::FwpsCalloutUnregisterById0(*id) };
                }
                return Err(status);
            }
        }
        Ok(Callouts { ids })
    }

    /// Unregisters the four callouts; `false` when one was still busy.
    pub fn unregister(self) -> bool {
        let ids = core::mem::ManuallyDrop::new(self).ids;
        let mut ok = true;
        for id in ids {
            // SAFETY: ours.
            ok &= unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) } == STATUS_SUCCESS;
        }
        ok
    }
}

/// Dropped (at unload), the callouts are unregistered, each tried once,
/// the result ignored — as the typed registrations do when dropped.
impl Drop for Callouts {
    fn drop(&mut self) {
        for id in self.ids {
            // SAFETY: ours, registered by `register`.
            unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) };
        }
    }
}
