//! The same work through ndis-safe and through the raw -sys calls, both on
//! the simulator, one workload per path a driver takes per packet, plus
//! calibration workloads whose driver-side cost is known in advance.
//!
//! `cargo xtask bench` asks this binary for its workloads (`list`), runs
//! each variant under callgrind with collection switched on inside its root
//! function (the `#[no_mangle]` function named in the list) and splits the
//! instructions between the driver's own code and the simulator's
//! (BENCHMARKS.md, "Method"). Adding a path to the table is adding one entry
//! to [`WORKLOADS`]: its safe root, its raw root and the setup that calls
//! them.
//!
//! `zero_cost list` — the workloads, one a line, tab-separated: kind
//! (`path` or `check`), name, root of the first variant, root of the second,
//! description.
//! `zero_cost run NAME VARIANT [iterations]` — run one variant (`safe` or
//! `raw` for a path, `nops` or `plain` for a check).
//! `zero_cost [iterations]` — time every path, both variants (wall time,
//! noisy).
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "a benchmark; the raw half is raw by design"
)]

use core::num::NonZeroU32;
use std::hint::black_box;

use fwps_sys::{FwpsAllocateCloneNetBufferList0, FwpsFreeCloneNetBufferList0};
#[allow(unused_imports)]
use ndis_safe::NoContext;
use ndis_safe::clone::Fwps;
use ndis_safe::{ContextArea, NblPool, NblPoolOptions, NdisHandle, Tag};
use ndis_sys::*;

/// The context both workloads carry.
#[derive(ContextArea, Clone, Copy)]
#[repr(C)]
pub struct Ctx {
    id: u64,
    len: u64,
}

const DATA: u32 = 64;
const RETREAT: u32 = 24; // beyond the unused space: NDIS chains an MDL

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_nbl_safe(pool: &NblPool<Ctx, ndis_safe::pool::prealloc::WithData>, n: u32) {
    for i in 0..n {
        let Ok(nbl) = pool.allocate(Ctx { id: u64::from(i), len: 0 }) else { return };
        let Ok(mut clone) = nbl.clone_nbl::<Fwps>() else { return };
        clone.modify(|mut c| {
            if let Ok(u) = c.retreat(RETREAT) {
                let _ = c.undo(u);
            }
        });
        // The clone's pointer, as the raw twin does (`black_box(&clone)`
        // would pin the whole clone, log included, in memory).
        black_box(clone.as_ptr());
        drop(clone);
        black_box(nbl.context().id);
        drop(nbl);
    }
}

/// The raw twin of `ndis_rs_nbl_safe`.
///
/// # Safety
///
/// `pool` is a live NBL pool with a NET_BUFFER, data and a 16-byte context.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_nbl_raw(pool: NDIS_HANDLE, n: u32) {
    for i in 0..n {
        unsafe {
            let nbl = NdisAllocateNetBufferList(pool, 16, 0);
            if nbl.is_null() {
                return;
            }
            NET_BUFFER_LIST_CONTEXT_DATA_START(nbl).cast::<Ctx>().write(Ctx { id: u64::from(i), len: 0 });
            let mut clone = core::ptr::null_mut();
            if FwpsAllocateCloneNetBufferList0(nbl, core::ptr::null_mut(), core::ptr::null_mut(), 0, &mut clone) != 0 {
                NdisFreeNetBufferList(nbl);
                return;
            }
            if NdisRetreatNetBufferListDataStart(clone, RETREAT, 0, None, None) == NDIS_STATUS_SUCCESS {
                NdisAdvanceNetBufferListDataStart(clone, RETREAT, 1, None);
            }
            black_box(clone);
            FwpsFreeCloneNetBufferList0(clone, 0);
            black_box((*NET_BUFFER_LIST_CONTEXT_DATA_START(nbl).cast::<Ctx>()).id);
            NdisFreeNetBufferList(nbl);
        }
    }
}

/// The injected clones' context (room for an injection record).
#[derive(ContextArea, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
pub struct Seq {
    n: u64,
    pad: u64,
}

fn inspected(c: ndis_safe::wfp::Completed<ndis_safe::wfp::ClonedPacket<Fwps, Seq, ndis_safe::clone::Unmodifiable>>) {
    black_box(c.status().is_ok());
}

/// The inspect path through ndis-safe: reference the lent packet, retreat
/// over its IP header, clone, advance back, inject (completed at once),
/// completion frees the clone and releases the reference.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_inspect_safe(
    handle: &ndis_safe::wfp::InjectionHandle,
    pool: &'static NblPool<Seq>,
    lent: &[*mut NET_BUFFER_LIST],
) {
    for (i, &nbl) in lent.iter().enumerate() {
        // SAFETY: the simulated stack lends each NBL for this iteration.
        let Some(mut nbl) = (unsafe { ndis_safe::BorrowedNbl::from_raw(nbl) }) else { return };
        if handle.state(&nbl).is_self_injected() {
            continue;
        }
        let Ok(packet) = nbl.reference_and_clone_unmodifiable::<Fwps, Seq>(20, Some(pool), Seq { n: i as u64, pad: 0 })
        else {
            return;
        };
        let _ = handle.inject_transport_receive(packet, ndis_safe::wfp::AF_INET, 1, 0, 0, inspected);
    }
}

unsafe extern "system" fn raw_inspected(_: *mut core::ffi::c_void, clone: *mut NET_BUFFER_LIST, _: BOOLEAN) {
    unsafe {
        black_box(*NET_BUFFER_LIST_STATUS(clone));
        let parent = *NET_BUFFER_LIST_PARENT(clone);
        NdisFreeNetBufferListContext(clone, 16);
        FwpsFreeCloneNetBufferList0(clone, 0);
        fwps_sys::FwpsDereferenceNetBufferList0(parent, 0);
    }
}

/// Whether every NB of `nbl` has `delta` bytes of unused space before its
/// data: a retreat of a lent NBL must not make NDIS chain an MDL of its own
/// onto it, which the clone would then share and the advance back free.
#[inline(always)]
unsafe fn room_before(nbl: *mut NET_BUFFER_LIST, delta: u32) -> bool {
    unsafe {
        let mut nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
        while !nb.is_null() {
            if *NET_BUFFER_DATA_OFFSET(nb) < delta {
                return false;
            }
            nb = *NET_BUFFER_NEXT_NB(nb);
        }
        true
    }
}

/// The raw twin of `ndis_rs_inspect_safe`. It does what the DDI contracts
/// ask of a driver, as the safe path does: it tests classify's layer data
/// for NULL (classify may be given none), lets a packet injected by this
/// handle earlier pass too (`FWPS_PACKET_PREVIOUSLY_INJECTED_BY_SELF`),
/// checks that every NB has the unused space the retreat takes (a retreat
/// past it makes NDIS chain an MDL of its own onto the lent NBL, which the
/// clone would share and the advance back free), and tests the retreat's
/// and the context push's status (both can fail).
///
/// # Safety
///
/// `handle` and `pool` are live; each NBL is lent for the call.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_inspect_raw(handle: fwps_sys::HANDLE, pool: NDIS_HANDLE, lent: &[*mut NET_BUFFER_LIST]) {
    unsafe { inspect_raw_with(handle, pool, lent, raw_inspected) }
}

/// The raw inspect loop with `completion` as the injection's completion
/// routine (shared by the raw path and the callback calibration, so that
/// their loops are the same instructions).
#[inline(always)]
unsafe fn inspect_raw_with(
    handle: fwps_sys::HANDLE,
    pool: NDIS_HANDLE,
    lent: &[*mut NET_BUFFER_LIST],
    completion: unsafe extern "system" fn(*mut core::ffi::c_void, *mut NET_BUFFER_LIST, BOOLEAN),
) {
    for (i, &nbl) in lent.iter().enumerate() {
        unsafe {
            // classify's layer data may be NULL.
            if nbl.is_null() {
                return;
            }
            let mut ctx = core::ptr::null_mut();
            let state = fwps_sys::FwpsQueryPacketInjectionState0(handle, nbl, &mut ctx);
            if state == fwps_sys::FWPS_PACKET_INJECTED_BY_SELF
                || state == fwps_sys::FWPS_PACKET_PREVIOUSLY_INJECTED_BY_SELF
            {
                continue;
            }
            if !room_before(nbl, 20) {
                return;
            }
            fwps_sys::FwpsReferenceNetBufferList0(nbl, 1);
            if NdisRetreatNetBufferListDataStart(nbl, 20, 0, None, None) != NDIS_STATUS_SUCCESS {
                fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
                return;
            }
            let mut clone = core::ptr::null_mut();
            let status = FwpsAllocateCloneNetBufferList0(nbl, pool, core::ptr::null_mut(), 0, &mut clone);
            NdisAdvanceNetBufferListDataStart(nbl, 20, 0, None);
            if status != 0 {
                fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
                return;
            }
            if NdisAllocateNetBufferListContext(clone, 16, 0, 0) != NDIS_STATUS_SUCCESS {
                FwpsFreeCloneNetBufferList0(clone, 0);
                fwps_sys::FwpsDereferenceNetBufferList0(nbl, 0);
                return;
            }
            NET_BUFFER_LIST_CONTEXT_DATA_START(clone).cast::<u64>().write(i as u64);
            let status = fwps_sys::FwpsInjectTransportReceiveAsync0(
                handle,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                0,
                fwps_sys::AF_INET,
                1,
                0,
                0,
                clone,
                Some(completion),
                core::ptr::null_mut(),
            );
            if status != 0 {
                completion(core::ptr::null_mut(), clone, 0);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Calibration: workloads whose driver-side count is known in advance. Each
// pair differs by exactly NOPS instructions an iteration of driver code; the
// `plain` variant of `check-ddi` does nothing but call a DDI (and one nop).

/// The instructions `nops` executes.
pub const NOPS: u32 = 100;

/// Exactly `N` `nop` instructions of driver code. The `plain` variants run
/// one, the `nops` variants [`NOPS`] + 1: so that no variant's code is
/// identical to another function's (rustc merges identical functions, and
/// callgrind would see one name for both).
#[inline(always)]
fn nops<const N: u32>() {
    // SAFETY: `nop` has no effect on memory, the stack or the flags.
    unsafe { core::arch::asm!(".rept {n}", "nop", ".endr", n = const N, options(nomem, nostack, preserves_flags)) }
}

/// `n` calls of a DDI, each preceded by [`NOPS`] + 1 driver instructions.
///
/// # Safety
///
/// `nbl` is a live NBL.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_check_ddi_nops(nbl: *mut NET_BUFFER_LIST, n: u32) {
    for _ in 0..n {
        nops::<{ NOPS + 1 }>();
        black_box(unsafe { NdisGetPoolFromNetBufferList(nbl) });
    }
}

/// `n` calls of a DDI and nothing else (but one `nop`): driver side, the
/// loop and the call.
///
/// # Safety
///
/// `nbl` is a live NBL.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_check_ddi_plain(nbl: *mut NET_BUFFER_LIST, n: u32) {
    for _ in 0..n {
        nops::<1>();
        black_box(unsafe { NdisGetPoolFromNetBufferList(nbl) });
    }
}

unsafe extern "system" fn raw_inspected_nops(
    ctx: *mut core::ffi::c_void,
    clone: *mut NET_BUFFER_LIST,
    dispatch: BOOLEAN,
) {
    nops::<{ NOPS + 1 }>();
    unsafe { raw_inspected(ctx, clone, dispatch) }
}

unsafe extern "system" fn raw_inspected_plain(
    ctx: *mut core::ffi::c_void,
    clone: *mut NET_BUFFER_LIST,
    dispatch: BOOLEAN,
) {
    nops::<1>();
    unsafe { raw_inspected(ctx, clone, dispatch) }
}

/// The raw inspect path whose completion routine, called by the simulator
/// from inside the injection DDI, runs [`NOPS`] more instructions.
///
/// # Safety
///
/// As [`ndis_rs_inspect_raw`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_check_callback_nops(handle: fwps_sys::HANDLE, pool: NDIS_HANDLE, lent: &[*mut NET_BUFFER_LIST]) {
    unsafe { inspect_raw_with(handle, pool, lent, raw_inspected_nops) }
}

/// [`ndis_rs_check_callback_nops`] without the instructions.
///
/// # Safety
///
/// As [`ndis_rs_inspect_raw`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn ndis_rs_check_callback_plain(handle: fwps_sys::HANDLE, pool: NDIS_HANDLE, lent: &[*mut NET_BUFFER_LIST]) {
    unsafe { inspect_raw_with(handle, pool, lent, raw_inspected_plain) }
}

// ---------------------------------------------------------------------------
// Typed classify against the raw classify, same work: at the inbound
// transport layer (IPv4), read the remote port and the interface index
// (type tags checked) and the IP header size (presence checked); block the
// telnet port, permit the rest (soft, unless the filter asks for a hard
// permit). The engine's own work (laying out the values) is the
// simulator's, not counted.

/// The typed callout.
pub struct TypedIn4;

impl ndis_safe::wfp::callout::Callout for TypedIn4 {
    type Layer = ndis_safe::wfp::layer::InboundTransportV4;
    #[inline]
    fn classify<'c>(
        c: ndis_safe::wfp::classify::Classify<'c, Self::Layer>,
        action: ndis_safe::wfp::decision::Action<'c>,
    ) -> ndis_safe::wfp::decision::Decided<'c> {
        use ndis_safe::wfp::decision::Action;
        use ndis_safe::wfp::layer::InboundTransportV4 as L;
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        black_box((c.get(L::INTERFACE_INDEX), c.ip_header_size()));
        if c.get(L::IP_REMOTE_PORT) == Some(23) { w.block() } else { w.permit() }
    }
}

/// The raw twin of [`TypedIn4`]'s classify (`classifyFn0`).
unsafe extern "system" fn raw_classify_in4(
    values: *const fwps_sys::FWPS_INCOMING_VALUES0,
    meta: *const fwps_sys::FWPS_INCOMING_METADATA_VALUES0,
    _layer_data: *mut core::ffi::c_void,
    filter: *const fwps_sys::FWPS_FILTER0,
    _flow_context: u64,
    out: *mut fwps_sys::FWPS_CLASSIFY_OUT0,
) {
    use fwps_sys::*;
    // The engine never passes NULL for these (the classifyFn contract), so
    // neither twin tests them.
    unsafe {
        let (values, meta, filter, out) = (&*values, &*meta, &*filter, &mut *out);
        if values.layerId != FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16 || out.rights & FWPS_RIGHT_ACTION_WRITE == 0 {
            return;
        }
        let at = |i: u32| (i < values.valueCount).then(|| &(*values.incomingValue.add(i as usize)).value);
        let interface = at(FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_INDEX as u32)
            .and_then(|v| (v.type_ == FWP_UINT32).then_some(v.__bindgen_anon_1.uint32));
        let header =
            (meta.currentMetadataValues & FWPS_METADATA_FIELD_IP_HEADER_SIZE != 0).then_some(meta.ipHeaderSize);
        black_box((interface, header));
        let port = at(FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT as u32)
            .and_then(|v| (v.type_ == FWP_UINT16).then_some(v.__bindgen_anon_1.uint16));
        if port == Some(23) {
            out.actionType = FWP_ACTION_BLOCK;
            out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        } else {
            out.actionType = FWP_ACTION_PERMIT;
            if u32::from(filter.flags) & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT != 0 {
                out.rights &= !FWPS_RIGHT_ACTION_WRITE;
            }
        }
    }
}

/// The raw callout's notify (the DDI requires one).
unsafe extern "system" fn raw_notify(
    _kind: fwps_sys::FWPS_CALLOUT_NOTIFY_TYPE,
    _key: *const GUID,
    _filter: *mut fwps_sys::FWPS_FILTER0,
) -> NTSTATUS {
    0
}

/// `n` classifies of the callout registered as `id`, by the simulated
/// engine (its work is not counted).
#[inline(always)]
fn classify_n(id: u32, incoming: &ndis_sim::wfp::Incoming, meta: &ndis_sim::wfp::Metadata, n: u32) {
    for _ in 0..n {
        let out = unsafe {
            ndis_sim::wfp::classify(id, incoming, meta, core::ptr::null_mut(), ndis_sim::wfp::Filter::default())
        };
        black_box(out);
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_classify_safe(id: u32, incoming: &ndis_sim::wfp::Incoming, meta: &ndis_sim::wfp::Metadata, n: u32) {
    // A different constant in each root, so that they are not merged into
    // one function (callgrind switches on by name).
    black_box(0u8);
    classify_n(id, incoming, meta, n);
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_classify_raw(id: u32, incoming: &ndis_sim::wfp::Incoming, meta: &ndis_sim::wfp::Metadata, n: u32) {
    black_box(1u8);
    classify_n(id, incoming, meta, n);
}

fn run_classify(variant: usize, n: u32) {
    use ndis_safe::wfp::callout::{CalloutFlags, DeviceObject, Registration, Version};
    static DEVICE: u8 = 0;
    let device = unsafe { DeviceObject::from_raw(core::ptr::NonNull::from(&DEVICE).cast()) };
    let key = GUID { Data1: 0xBE4C, ..GUID::default() };
    let ends = ndis_sim::wfp::Endpoints {
        protocol: 17,
        local: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
        remote: std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        local_port: 12345,
        remote_port: 53,
        interface_index: 4,
        sub_interface_index: 4,
    };
    let layer = fwps_sys::FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16;
    let incoming = ndis_sim::wfp::Incoming::with_endpoints(layer, ends, None).unwrap();
    let meta = ndis_sim::wfp::Metadata { ip_header_size: Some(20), ..Default::default() };
    if variant == 0 {
        let reg = Registration::<TypedIn4>::register(device, key, CalloutFlags::NONE, Version::V0).unwrap();
        ndis_rs_classify_safe(reg.id(), &incoming, &meta, n);
        reg.unregister().unwrap();
    } else {
        let rec = fwps_sys::FWPS_CALLOUT0 {
            calloutKey: key,
            flags: 0,
            classifyFn: Some(raw_classify_in4),
            notifyFn: Some(raw_notify),
            flowDeleteFn: None,
        };
        let mut id = 0;
        assert_eq!(unsafe { fwps_sys::FwpsCalloutRegister0(device.as_ptr(), &rec, &mut id) }, 0);
        ndis_rs_classify_raw(id, &incoming, &meta, n);
        assert_eq!(unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) }, 0);
    }
}

// The same work through a multi-layer callout: one classify function for
// the four transport layers, the fields read through the set's index table
// at the layer the engine names (the inbound transport layer, IPv4, here),
// against a raw classifyFn0 registered for the four layers that picks the
// indices by switching on the layer id.

/// The typed multi-layer callout.
pub enum TypedTransport {}

impl ndis_safe::wfp::callout::MultiLayerCallout for TypedTransport {
    type Layers = ndis_safe::wfp::layer::TransportLayers;
    #[inline]
    fn classify<'c>(
        c: ndis_safe::wfp::classify::Classify<'c, Self::Layers>,
        action: ndis_safe::wfp::decision::Action<'c>,
    ) -> ndis_safe::wfp::decision::Decided<'c> {
        use ndis_safe::wfp::decision::Action;
        use ndis_safe::wfp::layer::TransportLayers as L;
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(),
        };
        black_box((c.get(L::INTERFACE_INDEX), c.ip_header_size()));
        if c.get(L::IP_REMOTE_PORT) == Some(23) { w.block() } else { w.permit() }
    }
}

/// The raw twin of [`TypedTransport`]'s classify (`classifyFn0`).
unsafe extern "system" fn raw_classify_transport(
    values: *const fwps_sys::FWPS_INCOMING_VALUES0,
    meta: *const fwps_sys::FWPS_INCOMING_METADATA_VALUES0,
    _layer_data: *mut core::ffi::c_void,
    filter: *const fwps_sys::FWPS_FILTER0,
    _flow_context: u64,
    out: *mut fwps_sys::FWPS_CLASSIFY_OUT0,
) {
    use fwps_sys::*;
    // The engine never passes NULL for these (the classifyFn contract), so
    // neither twin tests them.
    unsafe {
        let (values, meta, filter, out) = (&*values, &*meta, &*filter, &mut *out);
        let (interface, port) = match i32::from(values.layerId) {
            FWPS_LAYER_INBOUND_TRANSPORT_V4 => {
                (FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_INDEX, FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT)
            }
            FWPS_LAYER_INBOUND_TRANSPORT_V6 => {
                (FWPS_FIELD_INBOUND_TRANSPORT_V6_INTERFACE_INDEX, FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_REMOTE_PORT)
            }
            FWPS_LAYER_OUTBOUND_TRANSPORT_V4 => {
                (FWPS_FIELD_OUTBOUND_TRANSPORT_V4_INTERFACE_INDEX, FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_PORT)
            }
            FWPS_LAYER_OUTBOUND_TRANSPORT_V6 => {
                (FWPS_FIELD_OUTBOUND_TRANSPORT_V6_INTERFACE_INDEX, FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_PORT)
            }
            _ => return,
        };
        if out.rights & FWPS_RIGHT_ACTION_WRITE == 0 {
            return;
        }
        let at = |i: i32| (i < values.valueCount as i32).then(|| &(*values.incomingValue.add(i as usize)).value);
        let interface = at(interface).and_then(|v| (v.type_ == FWP_UINT32).then_some(v.__bindgen_anon_1.uint32));
        let header =
            (meta.currentMetadataValues & FWPS_METADATA_FIELD_IP_HEADER_SIZE != 0).then_some(meta.ipHeaderSize);
        black_box((interface, header));
        let port = at(port).and_then(|v| (v.type_ == FWP_UINT16).then_some(v.__bindgen_anon_1.uint16));
        if port == Some(23) {
            out.actionType = FWP_ACTION_BLOCK;
            out.rights &= !FWPS_RIGHT_ACTION_WRITE;
        } else {
            out.actionType = FWP_ACTION_PERMIT;
            if u32::from(filter.flags) & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT != 0 {
                out.rights &= !FWPS_RIGHT_ACTION_WRITE;
            }
        }
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_classify_set_safe(id: u32, incoming: &ndis_sim::wfp::Incoming, meta: &ndis_sim::wfp::Metadata, n: u32) {
    black_box(2u8);
    classify_n(id, incoming, meta, n);
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_classify_set_raw(id: u32, incoming: &ndis_sim::wfp::Incoming, meta: &ndis_sim::wfp::Metadata, n: u32) {
    black_box(3u8);
    classify_n(id, incoming, meta, n);
}

fn run_classify_set(variant: usize, n: u32) {
    use ndis_safe::wfp::callout::{At, CalloutFlags, DeviceObject, Registration, Version};
    use ndis_safe::wfp::layer::InboundTransportV4;
    static DEVICE: u8 = 0;
    let device = unsafe { DeviceObject::from_raw(core::ptr::NonNull::from(&DEVICE).cast()) };
    let key = GUID { Data1: 0xBE4D, ..GUID::default() };
    let ends = ndis_sim::wfp::Endpoints {
        protocol: 17,
        local: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
        remote: std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        local_port: 12345,
        remote_port: 53,
        interface_index: 4,
        sub_interface_index: 4,
    };
    let layer = fwps_sys::FWPS_LAYER_INBOUND_TRANSPORT_V4 as u16;
    let incoming = ndis_sim::wfp::Incoming::with_endpoints(layer, ends, None).unwrap();
    let meta = ndis_sim::wfp::Metadata { ip_header_size: Some(20), ..Default::default() };
    if variant == 0 {
        let reg = Registration::<At<TypedTransport, InboundTransportV4>>::register(
            device,
            key,
            CalloutFlags::NONE,
            Version::V0,
        )
        .unwrap();
        ndis_rs_classify_set_safe(reg.id(), &incoming, &meta, n);
        reg.unregister().unwrap();
    } else {
        let rec = fwps_sys::FWPS_CALLOUT0 {
            calloutKey: key,
            flags: 0,
            classifyFn: Some(raw_classify_transport),
            notifyFn: Some(raw_notify),
            flowDeleteFn: None,
        };
        let mut id = 0;
        assert_eq!(unsafe { fwps_sys::FwpsCalloutRegister0(device.as_ptr(), &rec, &mut id) }, 0);
        ndis_rs_classify_set_raw(id, &incoming, &meta, n);
        assert_eq!(unsafe { fwps_sys::FwpsCalloutUnregisterById0(id) }, 0);
    }
}

// ---------------------------------------------------------------------------
// The table.

/// What a workload measures.
#[derive(Clone, Copy)]
enum Kind {
    /// A driver path: variants `safe` and `raw`.
    Path,
    /// A calibration: variants `nops` and `plain`, which differ by exactly
    /// [`NOPS`] driver instructions an iteration.
    Check,
}

/// One row of the table: its two variants' root functions (the names
/// callgrind switches collection on in) and the setup that calls them.
struct Workload {
    kind: Kind,
    name: &'static str,
    roots: [&'static str; 2],
    about: &'static str,
    /// Sets up, then calls the root of variant 0 or 1 with `n` iterations.
    run: fn(variant: usize, n: u32),
}

const WORKLOADS: &[Workload] = &[
    Workload {
        kind: Kind::Path,
        name: "nbl",
        roots: ["ndis_rs_nbl_safe", "ndis_rs_nbl_raw"],
        about: "allocate an NBL with a context from a pool, clone it (FWPS), retreat the clone past its unused \
                space (NDIS chains an MDL), undo, free the clone, free the NBL",
        run: run_nbl,
    },
    Workload {
        kind: Kind::Path,
        name: "inspect",
        roots: ["ndis_rs_inspect_safe", "ndis_rs_inspect_raw"],
        about: "for each packet the stack lends: query the injection state, reference, retreat over the IP \
                header, clone (FWPS, with a context), advance back, inject (transport receive; the simulator \
                completes it at once), and in the completion free the clone and release the reference",
        run: run_inspect,
    },
    Workload {
        kind: Kind::Path,
        name: "classify",
        roots: ["ndis_rs_classify_safe", "ndis_rs_classify_raw"],
        about: "a typed callout's classify (FwpsCalloutRegister0 trampoline, typed view, fields with their type \
                tags checked, metadata presence-checked, the decision written) against the raw classifyFn0 \
                doing the same work, called by the simulated engine at the inbound transport layer (IPv4)",
        run: run_classify,
    },
    Workload {
        kind: Kind::Path,
        name: "classify-set",
        roots: ["ndis_rs_classify_set_safe", "ndis_rs_classify_set_raw"],
        about: "the same classify through a multi-layer callout (one classify function for the four transport \
                layers, TransportLayers' fields read by the layer's index table) against a raw classifyFn0 that \
                switches on the layer id for the indices, called at the inbound transport layer (IPv4)",
        run: run_classify_set,
    },
    Workload {
        kind: Kind::Check,
        name: "check-ddi",
        roots: ["ndis_rs_check_ddi_nops", "ndis_rs_check_ddi_plain"],
        about: "a loop of NdisGetPoolFromNetBufferList calls; `nops` runs 100 nop instructions before each",
        run: run_check_ddi,
    },
    Workload {
        kind: Kind::Check,
        name: "check-callback",
        roots: ["ndis_rs_check_callback_nops", "ndis_rs_check_callback_plain"],
        about: "the raw inspect path; in `nops` the completion routine the simulator calls back runs 100 nop \
                instructions more",
        run: run_check_callback,
    },
    Workload {
        kind: Kind::Path,
        name: "filter-pass",
        roots: ["ndis_rs_filter_pass_safe", "ndis_rs_filter_pass_raw"],
        about: "a filter module on the simulated stack passes a send chain of 4 NBLs down and its completion up, \
                then a receive chain of 4 up and its return down (typed: SendChain::send_down, the library's \
                completion handler, RecvChain::indicate_up, its return handler; raw: NdisFSendNetBufferLists, \
                NdisFSendNetBufferListsComplete, NdisFIndicateReceiveNetBufferLists, NdisFReturnNetBufferLists); \
                both test the module's state on send and receive, as NDIS's pause contract asks",
        run: run_filter_pass,
    },
];

/// An NBL pool through ndis-safe and the raw one with the same parameters.
fn raw_pool(context: u32, data: u32) -> NDIS_HANDLE {
    let params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        fAllocateNetBuffer: u8::from(data != 0),
        ContextSize: context as u16,
        PoolTag: u32::from_le_bytes(*b"Raw "),
        DataSize: data,
        ..Default::default()
    };
    let pool = unsafe { NdisAllocateNetBufferListPool(core::ptr::null_mut(), &params) };
    assert!(!pool.is_null());
    pool
}

fn run_nbl(variant: usize, n: u32) {
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    let safe_pool: NblPool<Ctx, _> =
        NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Safe")).with_data(NonZeroU32::new(DATA).unwrap())).unwrap();
    let raw_pool = raw_pool(16, DATA);
    match variant {
        0 => ndis_rs_nbl_safe(&safe_pool, n),
        _ => unsafe { ndis_rs_nbl_raw(raw_pool, n) },
    }
    unsafe { NdisFreeNetBufferListPool(raw_pool) };
}

/// `n` NBLs as the stack indicates them.
fn indicate(n: u32) -> Vec<ndis_sim::StackNbl> {
    let mut packet = vec![0u8; 48];
    packet[0] = 0x45;
    (0..n).map(|_| ndis_sim::StackNbl::indicate(&packet, 20)).collect()
}

/// Sets up the inspect path (pools, injection handle, `n` lent NBLs) and
/// calls `root` with the raw or safe handles.
fn with_inspect(
    n: u32,
    root: impl FnOnce(&ndis_safe::wfp::InjectionHandle, &'static NblPool<Seq>, NDIS_HANDLE, &[*mut NET_BUFFER_LIST]),
) {
    let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
    let safe_pool: &'static NblPool<Seq> =
        Box::leak(Box::new(NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Insp"))).unwrap()));
    let raw_pool = raw_pool(u32::from(<Seq as ContextArea>::SIZE + <Seq as ContextArea>::BACKFILL), 0);
    let handle = ndis_safe::wfp::InjectionHandle::new(0, ndis_safe::wfp::InjectionTypes::TRANSPORT).unwrap();
    ndis_sim::set_injection_mode(ndis_sim::InjectionMode::Immediate(0));
    let stack = indicate(n);
    let lent: Vec<_> = stack.iter().map(ndis_sim::StackNbl::as_ptr).collect();
    root(&handle, safe_pool, raw_pool, &lent);
    drop(stack);
    drop(handle);
    unsafe { NdisFreeNetBufferListPool(raw_pool) };
}

fn run_inspect(variant: usize, n: u32) {
    with_inspect(n, |handle, safe_pool, raw_pool, lent| match variant {
        0 => ndis_rs_inspect_safe(handle, safe_pool, lent),
        _ => unsafe { ndis_rs_inspect_raw(handle.as_raw(), raw_pool, lent) },
    });
}

fn run_check_callback(variant: usize, n: u32) {
    with_inspect(n, |handle, _, raw_pool, lent| match variant {
        0 => unsafe { ndis_rs_check_callback_nops(handle.as_raw(), raw_pool, lent) },
        _ => unsafe { ndis_rs_check_callback_plain(handle.as_raw(), raw_pool, lent) },
    });
}

fn run_check_ddi(variant: usize, n: u32) {
    let pool = raw_pool(0, 0);
    let nbl = unsafe { NdisAllocateNetBufferList(pool, 0, 0) };
    assert!(!nbl.is_null());
    match variant {
        0 => unsafe { ndis_rs_check_ddi_nops(nbl, n) },
        _ => unsafe { ndis_rs_check_ddi_plain(nbl, n) },
    }
    unsafe {
        NdisFreeNetBufferList(nbl);
        NdisFreeNetBufferListPool(pool);
    }
}

fn variants(kind: Kind) -> [&'static str; 2] {
    match kind {
        Kind::Path => ["safe", "raw"],
        Kind::Check => ["nops", "plain"],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let _session = ndis_sim::Session::new();
    match args.first().map(String::as_str) {
        Some("list") => {
            for w in WORKLOADS {
                let kind = match w.kind {
                    Kind::Path => "path",
                    Kind::Check => "check",
                };
                let about = w.about.split_whitespace().collect::<Vec<_>>().join(" ");
                println!("{kind}\t{}\t{}\t{}\t{about}", w.name, w.roots[0], w.roots[1]);
            }
        }
        Some("run") => {
            let (Some(name), Some(variant)) = (args.get(1), args.get(2)) else {
                eprintln!("usage: zero_cost run NAME VARIANT [iterations]");
                std::process::exit(2);
            };
            let n = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(2_000);
            let Some(w) = WORKLOADS.iter().find(|w| w.name == name) else {
                eprintln!("no workload {name}");
                std::process::exit(2);
            };
            let Some(v) = variants(w.kind).iter().position(|v| v == variant) else {
                eprintln!("{name} has the variants {:?}", variants(w.kind));
                std::process::exit(2);
            };
            (w.run)(v, n);
        }
        other => {
            let n = other.and_then(|v| v.parse().ok()).unwrap_or(200_000);
            for w in WORKLOADS.iter().filter(|w| matches!(w.kind, Kind::Path)) {
                for (v, variant) in variants(w.kind).iter().enumerate() {
                    let t = std::time::Instant::now();
                    (w.run)(v, n);
                    println!("{}: {variant}: {n} iterations in {:?} (with setup)", w.name, t.elapsed());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The filter pass-through: a typed filter and a raw one, each a module on a
// simulated stack; the root drives traffic through it (the stack's work is
// the simulator's; the handlers it calls back are the driver's).

/// A typed pass-through filter.
pub struct PassFilter;

impl ndis_safe::filter::Filter for PassFilter {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Pass");

    fn attach(
        _: &ndis_safe::filter::Module<Self>,
        _: &ndis_safe::filter::AttachParameters<'_>,
    ) -> Result<Self, ndis_safe::Status> {
        Ok(PassFilter)
    }

    fn send<'c>(&'c self, _: &'c ndis_safe::filter::Module<Self>, chain: ndis_safe::filter::SendChain<'c, Self>) {
        chain.send_down();
    }

    fn receive<'c>(&'c self, _: &'c ndis_safe::filter::Module<Self>, chain: ndis_safe::filter::RecvChain<'c, Self>) {
        chain.indicate_up();
    }
}

const PASS_REGISTRATION: ndis_safe::filter::Registration = ndis_safe::filter::Registration {
    friendly: ndis_safe::filter::Name(ndis_safe::utf16!("Pass")),
    unique: ndis_safe::filter::Name(ndis_safe::utf16!("{00000000-0000-0000-0000-000000000001}")),
    service: ndis_safe::filter::Name(ndis_safe::utf16!("pass")),
    version: (1, 0),
};

/// The raw pass-through filter's module context: its handle first (one
/// load from the context reaches it) and its state, which NDIS's pause
/// contract makes a filter test on every send and receive: one that
/// arrives while the module is pausing or paused is completed with
/// `NDIS_STATUS_PAUSED` (or returned). Receives come from below, where the
/// miniport still runs while the module pauses, so a receive call is
/// counted for its duration in the low bits of the same word and a pause
/// completes only when the count is zero (else `NdisFPauseComplete` from
/// the call that ends last). The typed filter does the same.
#[repr(C)]
struct RawModule {
    handle: NDIS_HANDLE,
    /// `RAW_PAUSED` (the top bit) or running (0), plus the calls in progress.
    word: core::sync::atomic::AtomicU32,
}

const RAW_PAUSED: u32 = 1 << 31;
const RAW_PAUSING: u32 = 3 << 30;

impl RawModule {
    /// A receive call ends; the last one of a pausing module completes its pause.
    #[inline(always)]
    fn leave(&self) {
        use core::sync::atomic::Ordering;
        if self.word.fetch_sub(1, Ordering::AcqRel) == RAW_PAUSING + 1
            && self.word.compare_exchange(RAW_PAUSING, RAW_PAUSED, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            unsafe { NdisFPauseComplete(self.handle) };
        }
    }
}

unsafe extern "system" fn raw_pass_attach(
    h: NDIS_HANDLE,
    _: NDIS_HANDLE,
    _: PNDIS_FILTER_ATTACH_PARAMETERS,
) -> NDIS_STATUS {
    let mut attrs = NDIS_FILTER_ATTRIBUTES {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES,
            Revision: NDIS_FILTER_ATTRIBUTES_REVISION_1 as u8,
            Size: NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1,
        },
        Flags: 0,
    };
    let m = Box::into_raw(Box::new(RawModule { handle: h, word: core::sync::atomic::AtomicU32::new(RAW_PAUSED) }));
    unsafe { NdisFSetAttributes(h, m.cast(), &mut attrs) }
}
unsafe extern "system" fn raw_pass_detach(ctx: NDIS_HANDLE) {
    drop(unsafe { Box::from_raw(ctx.cast::<RawModule>()) });
}
unsafe extern "system" fn raw_pass_restart(ctx: NDIS_HANDLE, _: PNDIS_FILTER_RESTART_PARAMETERS) -> NDIS_STATUS {
    unsafe { (*ctx.cast::<RawModule>()).word.fetch_and(!RAW_PAUSING, core::sync::atomic::Ordering::AcqRel) };
    NDIS_STATUS_SUCCESS
}
/// No own NBLs: nothing of the module's is in flight when NDIS pauses it
/// (what it passed through is back first) but receive calls in progress;
/// the pause completes at once when there are none, else when the last ends.
unsafe extern "system" fn raw_pass_pause(ctx: NDIS_HANDLE, _: PNDIS_FILTER_PAUSE_PARAMETERS) -> NDIS_STATUS {
    use core::sync::atomic::Ordering;
    let m = unsafe { &*ctx.cast::<RawModule>() };
    // Pausing, the pause's own call counted so no receive completes it meanwhile.
    let _ = m.word.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some(((w & !RAW_PAUSING) + 1) | RAW_PAUSING));
    if m.word.fetch_sub(1, Ordering::AcqRel) == RAW_PAUSING + 1
        && m.word.compare_exchange(RAW_PAUSING, RAW_PAUSED, Ordering::AcqRel, Ordering::Acquire).is_ok()
    {
        NDIS_STATUS_SUCCESS
    } else {
        NDIS_STATUS_PENDING
    }
}
unsafe extern "system" fn raw_pass_send(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    flags: ULONG,
) {
    let m = unsafe { &*ctx.cast::<RawModule>() };
    if m.word.load(core::sync::atomic::Ordering::Relaxed) < RAW_PAUSED {
        unsafe { NdisFSendNetBufferLists(m.handle, nbls, port, flags) }
    } else {
        unsafe { raw_refuse_send(m, nbls, flags) }
    }
}
#[cold]
#[inline(never)]
unsafe fn raw_refuse_send(m: &RawModule, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    let mut at = nbls;
    while !at.is_null() {
        unsafe {
            *NET_BUFFER_LIST_STATUS(at) = NDIS_STATUS_PAUSED;
            at = *NET_BUFFER_LIST_NEXT_NBL(at);
        }
    }
    unsafe { NdisFSendNetBufferListsComplete(m.handle, nbls, flags & NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL) }
}
unsafe extern "system" fn raw_pass_send_complete(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    unsafe { NdisFSendNetBufferListsComplete((*ctx.cast::<RawModule>()).handle, nbls, flags) }
}
unsafe extern "system" fn raw_pass_receive(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    n: ULONG,
    flags: ULONG,
) {
    let m = unsafe { &*ctx.cast::<RawModule>() };
    let before = m.word.fetch_add(1, core::sync::atomic::Ordering::AcqRel);
    if before < RAW_PAUSED {
        unsafe { NdisFIndicateReceiveNetBufferLists(m.handle, nbls, port, n, flags) };
        m.leave();
    } else {
        m.leave();
        unsafe { raw_refuse_receive(m, nbls, flags) }
    }
}
#[cold]
#[inline(never)]
unsafe fn raw_refuse_receive(m: &RawModule, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    if flags & NDIS_RECEIVE_FLAGS_RESOURCES == 0 {
        unsafe { NdisFReturnNetBufferLists(m.handle, nbls, flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL) }
    }
}
unsafe extern "system" fn raw_pass_return(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    unsafe { NdisFReturnNetBufferLists((*ctx.cast::<RawModule>()).handle, nbls, flags) }
}

/// Registers the raw pass-through filter; its `NdisFilterDriverHandle`.
fn raw_pass_register() -> NDIS_HANDLE {
    let mut c: NDIS_FILTER_DRIVER_CHARACTERISTICS = unsafe { core::mem::zeroed() };
    c.Header = NDIS_OBJECT_HEADER {
        Type: NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS,
        Revision: NDIS_FILTER_CHARACTERISTICS_REVISION_2 as u8,
        Size: NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_2,
    };
    c.MajorNdisVersion = 6;
    c.MinorNdisVersion = 30;
    c.AttachHandler = Some(raw_pass_attach);
    c.DetachHandler = Some(raw_pass_detach);
    c.RestartHandler = Some(raw_pass_restart);
    c.PauseHandler = Some(raw_pass_pause);
    c.SendNetBufferListsHandler = Some(raw_pass_send);
    c.SendNetBufferListsCompleteHandler = Some(raw_pass_send_complete);
    c.ReceiveNetBufferListsHandler = Some(raw_pass_receive);
    c.ReturnNetBufferListsHandler = Some(raw_pass_return);
    let mut driver = core::ptr::null_mut();
    let status =
        unsafe { NdisFRegisterFilterDriver(core::ptr::null_mut(), core::ptr::null_mut(), &mut c, &mut driver) };
    assert_eq!(status, NDIS_STATUS_SUCCESS);
    driver
}

/// The traffic both pass-through roots drive: per iteration a send chain
/// down and its completion up, a receive chain up and its return down.
#[inline(always)]
fn filter_pass_traffic(stack: &ndis_sim::lwf::Stack, frames: &[&[u8]], n: u32) {
    for _ in 0..n {
        stack.send(frames);
        stack.complete_sends();
        stack.receive(frames, false);
        stack.return_receives();
    }
}

/// Pass-through through the typed filter (`stack` holds one module of it).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_filter_pass_safe(stack: &ndis_sim::lwf::Stack, frames: &[&[u8]], n: u32) {
    // The roots' code would be the same: a distinct constant keeps the
    // linker from folding one into the other (the same instructions each).
    black_box(0u8);
    filter_pass_traffic(stack, frames, n)
}

/// Pass-through through the raw filter (`stack` holds one module of it).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn ndis_rs_filter_pass_raw(stack: &ndis_sim::lwf::Stack, frames: &[&[u8]], n: u32) {
    black_box(1u8);
    filter_pass_traffic(stack, frames, n)
}

fn run_filter_pass(variant: usize, n: u32) {
    let frame = [0u8; 64];
    let frames: [&[u8]; 4] = [&frame; 4];
    let typed = match variant {
        0 => Some(
            unsafe {
                ndis_safe::filter::FilterDriver::<PassFilter>::register(core::ptr::null_mut(), &PASS_REGISTRATION)
            }
            .unwrap(),
        ),
        _ => None,
    };
    let driver = typed.as_ref().map_or_else(raw_pass_register, |d| d.as_raw());
    let stack = ndis_sim::lwf::Stack::new(&[driver]);
    stack.attach().unwrap();
    assert!(stack.restart());
    match variant {
        0 => ndis_rs_filter_pass_safe(&stack, &frames, n),
        _ => ndis_rs_filter_pass_raw(&stack, &frames, n),
    }
    assert_eq!(stack.sent().len(), 4 * n as usize);
    assert_eq!(stack.received().len(), 4 * n as usize);
    assert!(stack.pause());
    stack.detach();
    drop(stack);
    if typed.is_none() {
        unsafe { NdisFDeregisterFilterDriver(driver) };
    }
}
