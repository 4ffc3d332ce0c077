//! Every DDI and type fwps-sys promises is declared, with the signature
//! drivers call, taking ndis-sys' own records. Type-checked for every target
//! (`cargo check --tests --target …`); never instantiated, so nothing here
//! needs the DDIs at link time.
#![allow(missing_docs, reason = "test")]

use fwps_sys::*;
use ndis_sys::{BOOLEAN, MDL, NDIS_HANDLE, NET_BUFFER_LIST, NTSTATUS, PVOID, SIZE_T, ULONG};

#[allow(dead_code, clippy::extra_unused_type_parameters, reason = "type-checked, never instantiated, so never linked")]
fn declared<T>() {
    let _: unsafe extern "system" fn(
        NDIS_HANDLE,
        u16,
        u16,
        *mut MDL,
        ULONG,
        SIZE_T,
        *mut *mut NET_BUFFER_LIST,
    ) -> NTSTATUS = FwpsAllocateNetBufferAndNetBufferList0;
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST) = FwpsFreeNetBufferList0;
    let _: unsafe extern "system" fn(
        *mut NET_BUFFER_LIST,
        NDIS_HANDLE,
        NDIS_HANDLE,
        ULONG,
        *mut *mut NET_BUFFER_LIST,
    ) -> NTSTATUS = FwpsAllocateCloneNetBufferList0;
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST, ULONG) = FwpsFreeCloneNetBufferList0;
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST, BOOLEAN) = FwpsReferenceNetBufferList0;
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST, BOOLEAN) = FwpsDereferenceNetBufferList0;
    let _: unsafe extern "system" fn(ADDRESS_FAMILY, UINT32, *mut HANDLE) -> NTSTATUS = FwpsInjectionHandleCreate0;
    let _: unsafe extern "system" fn(HANDLE) -> NTSTATUS = FwpsInjectionHandleDestroy0;
    let _: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        UINT64,
        UINT32,
        *mut FWPS_TRANSPORT_SEND_PARAMS0,
        ADDRESS_FAMILY,
        COMPARTMENT_ID,
        *mut NET_BUFFER_LIST,
        FWPS_INJECT_COMPLETE0,
        HANDLE,
    ) -> NTSTATUS = FwpsInjectTransportSendAsync0;
    let _: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        PVOID,
        UINT32,
        ADDRESS_FAMILY,
        COMPARTMENT_ID,
        IF_INDEX,
        IF_INDEX,
        *mut NET_BUFFER_LIST,
        FWPS_INJECT_COMPLETE0,
        HANDLE,
    ) -> NTSTATUS = FwpsInjectTransportReceiveAsync0;
    let _: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        UINT32,
        COMPARTMENT_ID,
        *mut NET_BUFFER_LIST,
        FWPS_INJECT_COMPLETE0,
        HANDLE,
    ) -> NTSTATUS = FwpsInjectNetworkSendAsync0;
    let _: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        UINT32,
        COMPARTMENT_ID,
        IF_INDEX,
        IF_INDEX,
        *mut NET_BUFFER_LIST,
        FWPS_INJECT_COMPLETE0,
        HANDLE,
    ) -> NTSTATUS = FwpsInjectNetworkReceiveAsync0;
    let _: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        UINT32,
        ADDRESS_FAMILY,
        COMPARTMENT_ID,
        IF_INDEX,
        *mut NET_BUFFER_LIST,
        FWPS_INJECT_COMPLETE0,
        HANDLE,
    ) -> NTSTATUS = FwpsInjectForwardAsync0;
    let _: unsafe extern "system" fn(HANDLE, *const NET_BUFFER_LIST, *mut HANDLE) -> FWPS_PACKET_INJECTION_STATE =
        FwpsQueryPacketInjectionState0;
    let _: FWPS_PACKET_INJECTION_STATE = FWPS_PACKET_INJECTED_BY_SELF;
    let _: UINT32 = FWPS_INJECTION_TYPE_TRANSPORT;
    let _: (FWPS_TRANSPORT_SEND_PARAMS0, SCOPE_ID, FWP_DIRECTION);
    let _: FWPS_INJECT_COMPLETE0 =
        None::<unsafe extern "system" fn(*mut core::ffi::c_void, *mut NET_BUFFER_LIST, BOOLEAN)>;
}
