//! Every DDI, record and constant ndis-sys promises is declared, with the
//! signature drivers call. Type-checked for every target (`cargo check
//! --tests --target …`); the checks sit in a generic function that is never
//! instantiated, so nothing here needs the DDIs at link time.
#![allow(missing_docs, reason = "test")]

use ndis_sys::*;

#[allow(dead_code, clippy::extra_unused_type_parameters, reason = "type-checked, never instantiated, so never linked")]
fn declared<T>() {
    let _: unsafe extern "system" fn(NDIS_HANDLE, *const NET_BUFFER_LIST_POOL_PARAMETERS) -> NDIS_HANDLE =
        NdisAllocateNetBufferListPool;
    let _: unsafe extern "system" fn(NDIS_HANDLE) = NdisFreeNetBufferListPool;
    let _: unsafe extern "system" fn(NDIS_HANDLE, *const NET_BUFFER_POOL_PARAMETERS) -> NDIS_HANDLE =
        NdisAllocateNetBufferPool;
    let _: unsafe extern "system" fn(NDIS_HANDLE) = NdisFreeNetBufferPool;
    let _: unsafe extern "system" fn(NDIS_HANDLE, USHORT, USHORT) -> PNET_BUFFER_LIST = NdisAllocateNetBufferList;
    let _: unsafe extern "system" fn(NDIS_HANDLE, PMDL, ULONG, SIZE_T) -> PNET_BUFFER = NdisAllocateNetBuffer;
    let _: unsafe extern "system" fn(NDIS_HANDLE, USHORT, USHORT, PMDL, ULONG, SIZE_T) -> PNET_BUFFER_LIST =
        NdisAllocateNetBufferAndNetBufferList;
    let _: unsafe extern "system" fn(NDIS_HANDLE) -> PNET_BUFFER = NdisAllocateNetBufferMdlAndData;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST) = NdisFreeNetBufferList;
    let _: unsafe extern "system" fn(PNET_BUFFER) = NdisFreeNetBuffer;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST, NDIS_HANDLE, NDIS_HANDLE, ULONG) -> PNET_BUFFER_LIST =
        NdisAllocateCloneNetBufferList;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST, ULONG) = NdisFreeCloneNetBufferList;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST, USHORT, USHORT, ULONG) -> NDIS_STATUS =
        NdisAllocateNetBufferListContext;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST, USHORT) = NdisFreeNetBufferListContext;
    let _: unsafe extern "system" fn(PNET_BUFFER, ULONG, ULONG, NET_BUFFER_ALLOCATE_MDL_HANDLER) -> NDIS_STATUS =
        NdisRetreatNetBufferDataStart;
    let _: unsafe extern "system" fn(PNET_BUFFER, ULONG, BOOLEAN, NET_BUFFER_FREE_MDL_HANDLER) =
        NdisAdvanceNetBufferDataStart;
    let _: unsafe extern "system" fn(
        PNET_BUFFER_LIST,
        ULONG,
        ULONG,
        NET_BUFFER_ALLOCATE_MDL_HANDLER,
        NET_BUFFER_FREE_MDL_HANDLER,
    ) -> NDIS_STATUS = NdisRetreatNetBufferListDataStart;
    let _: unsafe extern "system" fn(PNET_BUFFER_LIST, ULONG, BOOLEAN, NET_BUFFER_FREE_MDL_HANDLER) =
        NdisAdvanceNetBufferListDataStart;
    let _: unsafe extern "system" fn(PNET_BUFFER, ULONG, PVOID, ULONG, ULONG) -> PVOID = NdisGetDataBuffer;
    let _: unsafe extern "system" fn(*const NET_BUFFER_LIST) -> NDIS_HANDLE = NdisGetPoolFromNetBufferList;
    let _: unsafe extern "system" fn(*const NET_BUFFER) -> NDIS_HANDLE = NdisGetPoolFromNetBuffer;
    let _: unsafe extern "system" fn(NDIS_HANDLE, PVOID, ULONG) -> PMDL = NdisAllocateMdl;
    let _: unsafe extern "system" fn(PMDL) = NdisFreeMdl;
    let _: unsafe extern "system" fn(PNET_BUFFER, ULONG, ULONG, *const NET_BUFFER, ULONG, *mut ULONG) -> NDIS_STATUS =
        NdisCopyFromNetBufferToNetBuffer;
    // Macros in older kits, exported functions since: copy the send (or
    // receive) out-of-band information from one NBL to another.
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST, *const NET_BUFFER_LIST) = NdisCopySendNetBufferListInfo;
    let _: unsafe extern "system" fn(*mut NET_BUFFER_LIST, *const NET_BUFFER_LIST) = NdisCopyReceiveNetBufferListInfo;
    let _: unsafe extern "system" fn(PMDL, KPROCESSOR_MODE, MEMORY_CACHING_TYPE, PVOID, ULONG, ULONG) -> PVOID =
        MmMapLockedPagesSpecifyCache;

    let _: (NET_BUFFER_LIST, NET_BUFFER, NET_BUFFER_LIST_CONTEXT, NDIS_OBJECT_HEADER, MDL);
    let _: (NET_BUFFER_LIST_POOL_PARAMETERS, NET_BUFFER_POOL_PARAMETERS);
    let _: (NTSTATUS, NDIS_STATUS, NDIS_HANDLE) = (STATUS_SUCCESS, NDIS_STATUS_SUCCESS, core::ptr::null_mut());
    let _: [NDIS_STATUS; 10] = [
        NDIS_STATUS_SUCCESS,
        NDIS_STATUS_PENDING,
        NDIS_STATUS_FAILURE,
        NDIS_STATUS_RESOURCES,
        NDIS_STATUS_INVALID_PARAMETER,
        NDIS_STATUS_INVALID_LENGTH,
        NDIS_STATUS_BUFFER_TOO_SHORT,
        NDIS_STATUS_NOT_SUPPORTED,
        NDIS_STATUS_INVALID_DATA,
        NDIS_STATUS_BUFFER_OVERFLOW,
    ];
    let _: usize = MEMORY_ALLOCATION_ALIGNMENT;
    let _: [UCHAR; 3] =
        [NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NET_BUFFER_POOL_PARAMETERS_REVISION_1];
    let _: [USHORT; 2] =
        [NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1];
    let _: [ULONG; 4] =
        [NDIS_NBL_FLAGS_IS_IPV4, NBL_FLAGS_PROTOCOL_RESERVED, NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS, NBL_FLAGS_SCRATCH];
    let _: UCHAR = NDIS_PROTOCOL_ID_DEFAULT;

    // The filter surface, with the C signatures.
    let _: unsafe extern "system" fn(
        PDRIVER_OBJECT,
        NDIS_HANDLE,
        PNDIS_FILTER_DRIVER_CHARACTERISTICS,
        PNDIS_HANDLE,
    ) -> NDIS_STATUS = NdisFRegisterFilterDriver;
    let _: unsafe extern "system" fn(NDIS_HANDLE) = NdisFDeregisterFilterDriver;
    let _: unsafe extern "system" fn(NDIS_HANDLE, PNET_BUFFER_LIST, NDIS_PORT_NUMBER, ULONG) = NdisFSendNetBufferLists;
    let _: unsafe extern "system" fn(NDIS_HANDLE, PNET_BUFFER_LIST, NDIS_PORT_NUMBER, ULONG, ULONG) =
        NdisFIndicateReceiveNetBufferLists;
    let _: unsafe extern "system" fn(NDIS_HANDLE, PNDIS_OID_REQUEST) -> NDIS_STATUS = NdisFOidRequest;
    let _: unsafe extern "system" fn(NDIS_HANDLE, UINT, ULONG, EX_POOL_PRIORITY) -> PVOID =
        NdisAllocateMemoryWithTagPriority;
    let _ = (NdisFSendNetBufferListsComplete, NdisFReturnNetBufferLists, NdisFCancelSendNetBufferLists);
    let _ = (NdisFOidRequestComplete, NdisAllocateCloneOidRequest, NdisFreeCloneOidRequest, NdisFIndicateStatus);
    let _ = (NdisFPauseComplete, NdisFRestartComplete, NdisFSetAttributes, NdisFRestartFilter, NdisFNetPnPEvent);
    let _ = (NdisFreeMemory, NdisAllocateGenericObject, NdisAllocateRWLock, NdisAllocateTimerObject);
    let _ = (NdisAllocateIoWorkItem, NdisQueueIoWorkItem, NdisFreeIoWorkItem);
    let _: (NDIS_FILTER_DRIVER_CHARACTERISTICS, NDIS_OID_REQUEST, NDIS_STATUS_INDICATION);
    let _: (FILTER_ATTACH, FILTER_SEND_NET_BUFFER_LISTS, FILTER_RECEIVE_NET_BUFFER_LISTS, FILTER_OID_REQUEST);
    let _: (NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO, NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO);
    let _: (NDIS_RSC_NBL_INFO, NDIS_NET_BUFFER_LIST_8021Q_INFO);
    // USO comes with NDIS 6.83.
    #[cfg(feature = "ndis683")]
    let _: NDIS_UDP_SEGMENTATION_OFFLOAD_NET_BUFFER_LIST_INFO;
    let _: [ULONG; 4] = [
        NDIS_SEND_FLAGS_DISPATCH_LEVEL,
        NDIS_RECEIVE_FLAGS_RESOURCES,
        NDIS_RETURN_FLAGS_DISPATCH_LEVEL,
        NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL,
    ];
}
