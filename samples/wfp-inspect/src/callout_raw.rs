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

use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWPS_CALLOUT_NOTIFY_TYPE, FWPS_CLASSIFY_OUT_FLAG_ABSORB,
    FWPS_CLASSIFY_OUT0, FWPS_FILTER0, FWPS_INCOMING_METADATA_VALUES0, FWPS_INCOMING_VALUES0,
    FWPS_METADATA_FIELD_COMPARTMENT_ID, FWPS_METADATA_FIELD_IP_HEADER_SIZE, FWPS_RIGHT_ACTION_WRITE, GUID, HANDLE,
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
    /// # Safety
    ///
    /// `ndis` is the driver's NDIS handle.
    pub unsafe fn new(ndis: NDIS_HANDLE) -> Option<Inspector> {
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
///
/// # Safety
///
/// As [`crate::callout::install`].
pub unsafe fn install(inspector: &Inspector) {
    INSPECTOR.store(core::ptr::from_ref(inspector).cast_mut(), Ordering::Release);
}

/// Stops classify from using the state.
pub fn uninstall() {
    INSPECTOR.store(core::ptr::null_mut(), Ordering::Release);
}

unsafe extern "system" fn injected(_ctx: *mut core::ffi::c_void, clone: *mut NET_BUFFER_LIST, _dispatch: BOOLEAN) {
    // SAFETY: our clone, back from the stack, with the context we pushed.
    unsafe {
        let parent = *NET_BUFFER_LIST_PARENT(clone);
        NdisFreeNetBufferListContext(clone, size_of::<Flow>() as u16);
        fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0);
        fwps_sys::FwpsDereferenceNetBufferList0(parent, 0);
        if let Some(ins) = INSPECTOR.load(Ordering::Acquire).as_ref() {
            ins.completed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The classify function.
///
/// # Safety
///
/// Called by the filter engine.
pub unsafe extern "system" fn classify(
    inFixedValues: *const FWPS_INCOMING_VALUES0,
    inMetaValues: *const FWPS_INCOMING_METADATA_VALUES0,
    layerData: *mut core::ffi::c_void,
    _filter: *const FWPS_FILTER0,
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
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        };
        if ins.is_null() || nbl.is_null() {
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        let ins = &*ins;
        let mut ctx = core::ptr::null_mut();
        let state = fwps_sys::FwpsQueryPacketInjectionState0(ins.injection, nbl, &mut ctx);
        if state == fwps_sys::FWPS_PACKET_INJECTED_BY_SELF || state == fwps_sys::FWPS_PACKET_PREVIOUSLY_INJECTED_BY_SELF
        {
            out.actionType = FWP_ACTION_PERMIT;
            return;
        }
        let header = if inbound && meta.currentMetadataValues & FWPS_METADATA_FIELD_IP_HEADER_SIZE != 0 {
            meta.ipHeaderSize
        } else {
            0
        };
        let compartment = if meta.currentMetadataValues & FWPS_METADATA_FIELD_COMPARTMENT_ID != 0 {
            meta.compartmentId as i32
        } else {
            fwps_sys::DEFAULT_COMPARTMENT_ID
        };
        let seq = ins.injected.fetch_add(1, Ordering::Relaxed);
        fwps_sys::FwpsReferenceNetBufferList0(nbl, 1);
        let nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
        if !nb.is_null() && *NET_BUFFER_DATA_OFFSET(nb) < header {
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        NdisRetreatNetBufferListDataStart(nbl, header, 0, None, None);
        let mut clone = core::ptr::null_mut();
        let status = fwps_sys::FwpsAllocateCloneNetBufferList0(nbl, ins.pool, core::ptr::null_mut(), 0, &mut clone);
        NdisAdvanceNetBufferListDataStart(nbl, header, 0, None);
        if status != 0 {
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        if NdisAllocateNetBufferListContext(clone, size_of::<Flow>() as u16, 0, 0) != 0 {
            fwps_sys::FwpsFreeCloneNetBufferList0(clone, 0);
            fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
            out.actionType = FWP_ACTION_CONTINUE;
            return;
        }
        NET_BUFFER_LIST_CONTEXT_DATA_START(clone).cast::<Flow>().write(Flow { seq, layer: u64::from(values.layerId) });
        let status = if inbound {
            fwps_sys::FwpsInjectTransportReceiveAsync0(
                ins.injection,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                0,
                family,
                compartment,
                meta.sourceInterfaceIndex,
                0,
                clone,
                Some(injected),
                core::ptr::null_mut(),
            )
        } else {
            fwps_sys::FwpsInjectTransportSendAsync0(
                ins.injection,
                core::ptr::null_mut(),
                meta.transportEndpointHandle,
                0,
                core::ptr::null_mut(),
                family,
                compartment,
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
    _filter: *mut FWPS_FILTER0,
) -> NTSTATUS {
    STATUS_SUCCESS
}

/// The registration `FwpsCalloutRegister0` takes.
pub fn registration() -> fwps_sys::FWPS_CALLOUT0 {
    fwps_sys::FWPS_CALLOUT0 {
        calloutKey: CALLOUT_KEY,
        flags: 0,
        classifyFn: Some(classify),
        notifyFn: Some(notify),
        flowDeleteFn: None,
    }
}
