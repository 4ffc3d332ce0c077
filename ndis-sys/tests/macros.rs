//! The accessor-macro ports, on records laid out in memory by hand.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw accessors"
)]

use core::mem::{MaybeUninit, align_of, offset_of, size_of};
use ndis_sys::*;

fn zeroed<T>() -> T {
    // SAFETY: used only for the C records here, for which all-zero bytes are
    // valid (null pointers, zero counts).
    unsafe { MaybeUninit::zeroed().assume_init() }
}

#[test]
fn net_buffer_list_fields_are_where_the_c_compiler_puts_them() {
    // The offsets a 64-bit Windows C compiler gives NET_BUFFER_LIST (the
    // reserved arrays are DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT)).
    if size_of::<usize>() == 8 {
        assert_eq!(offset_of!(NET_BUFFER_LIST, Context), 16);
        assert_eq!(offset_of!(NET_BUFFER_LIST, NdisPoolHandle), 32);
        assert_eq!(offset_of!(NET_BUFFER_LIST, NdisReserved), 48);
        assert_eq!(offset_of!(NET_BUFFER_LIST, ProtocolReserved), 64);
        assert_eq!(offset_of!(NET_BUFFER_LIST, MiniportReserved), 96);
        assert_eq!(offset_of!(NET_BUFFER_LIST, NblFlags), 128);
        assert_eq!(offset_of!(NET_BUFFER_LIST, ChildRefCount), 132);
        assert_eq!(offset_of!(NET_BUFFER_LIST, __bindgen_anon_2), 140, "Status");
        assert_eq!(offset_of!(NET_BUFFER_LIST, NetBufferListInfo), 144);
        // NDIS 6.50 and 6.80 add NetBufferListInfo slots (every feature
        // from ndis650, or ndis680, on enables that one).
        let nbl_size = if cfg!(feature = "ndis680") {
            368
        } else if cfg!(feature = "ndis650") {
            352
        } else {
            336
        };
        assert_eq!(size_of::<NET_BUFFER_LIST>(), nbl_size);
        assert_eq!(offset_of!(NET_BUFFER, NdisReserved), 64);
        assert_eq!(size_of::<NET_BUFFER>(), 176);
        assert_eq!(size_of::<NET_BUFFER_LIST_CONTEXT>(), 16);
        assert_eq!(MEMORY_ALLOCATION_ALIGNMENT, 16);
    }
    assert_eq!(align_of::<NET_BUFFER_LIST>(), MEMORY_ALLOCATION_ALIGNMENT);
    // NDIS 6.87 adds a field (revision 2).
    #[cfg(not(feature = "ndis687"))]
    let pool_parameters = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
    #[cfg(feature = "ndis687")]
    let pool_parameters = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2;
    assert_eq!(size_of::<NET_BUFFER_LIST_POOL_PARAMETERS>(), usize::from(pool_parameters));
    #[cfg(not(feature = "ndis687"))]
    let pool_parameters = NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1;
    #[cfg(feature = "ndis687")]
    let pool_parameters = NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_2;
    assert_eq!(size_of::<NET_BUFFER_POOL_PARAMETERS>(), usize::from(pool_parameters));
    assert_eq!(size_of::<NDIS_OBJECT_HEADER>(), 4);
}

#[test]
fn nbl_accessors_read_and_write_the_fields() {
    let mut nb: NET_BUFFER = zeroed();
    let mut next: NET_BUFFER_LIST = zeroed();
    let mut nbl: NET_BUFFER_LIST = zeroed();
    let (nb, next, nbl) = (&raw mut nb, &raw mut next, &raw mut nbl);
    unsafe {
        *NET_BUFFER_LIST_FIRST_NB(nbl) = nb;
        *NET_BUFFER_LIST_NEXT_NBL(nbl) = next;
        *NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_PENDING;
        *NET_BUFFER_LIST_NBL_FLAGS(nbl) = NDIS_NBL_FLAGS_IS_IPV4;
        *NET_BUFFER_LIST_PARENT(nbl) = next;
        *NET_BUFFER_LIST_CHILD_REF_COUNT(next) = 1;
        assert_eq!((*nbl).__bindgen_anon_1.__bindgen_anon_1.FirstNetBuffer, nb);
        assert_eq!((*nbl).__bindgen_anon_1.__bindgen_anon_1.Next, next);
        assert_eq!((*nbl).__bindgen_anon_2.Status, NDIS_STATUS_PENDING);
        assert_eq!((*nbl).NblFlags, NDIS_NBL_FLAGS_IS_IPV4);
        assert_eq!((*nbl).ParentNetBufferList, next);
        assert_eq!((*next).ChildRefCount, 1);

        (*NET_BUFFER_LIST_PROTOCOL_RESERVED(nbl))[3] = nb.cast();
        assert_eq!((*nbl).ProtocolReserved[3], nb.cast());
        (*NET_BUFFER_LIST_MINIPORT_RESERVED(nbl))[1] = nbl.cast();
        assert_eq!((*nbl).MiniportReserved[1], nbl.cast());

        *NET_BUFFER_LIST_INFO(nbl, WfpNetBufferListInfo) = nbl.cast();
        assert_eq!((*nbl).NetBufferListInfo[WfpNetBufferListInfo as usize], nbl.cast());
        *NET_BUFFER_LIST_INFO(nbl, MaxNetBufferListInfo - 1) = next.cast();
        // The last info type; the array has 24 slots up to NDIS 6.40, 26
        // from 6.50, 27 from 6.80.
        let last = (MaxNetBufferListInfo - 1) as usize;
        assert_eq!((*nbl).NetBufferListInfo[last], next.cast());
        let slots = if cfg!(feature = "ndis680") {
            27
        } else if cfg!(feature = "ndis650") {
            26
        } else {
            24
        };
        assert_eq!((*nbl).NetBufferListInfo.len(), slots);
    }
}

#[test]
fn nbl_flag_macros_set_test_and_clear() {
    let mut nbl: NET_BUFFER_LIST = zeroed();
    let nbl = &raw mut nbl;
    unsafe {
        assert!(!NBL_TEST_FLAG(nbl, 0x10));
        NBL_SET_FLAG(nbl, 0x10 | 0x20);
        assert!(NBL_TEST_FLAG(nbl, 0x10));
        assert_eq!(*NET_BUFFER_LIST_FLAGS(nbl), 0x30);
        NBL_CLEAR_FLAG(nbl, 0x10);
        assert_eq!((*nbl).Flags, 0x20);
        // Only protocol-reserved bits are touched by the RSVD variants.
        NBL_SET_PROTOCOL_RSVD_FLAG(nbl, 0x0010_0000 | 0x0000_1000);
        assert_eq!((*nbl).Flags, 0x20 | 0x0010_0000);
        assert!(NBL_TEST_PROTOCOL_RSVD_FLAG(nbl, 0x0010_0000));
        assert!(!NBL_TEST_PROTOCOL_RSVD_FLAG(nbl, 0x20));
        NBL_CLEAR_PROTOCOL_RSVD_FLAG(nbl, 0x0010_0000 | 0x20);
        assert_eq!((*nbl).Flags, 0x20);
    }
}

#[test]
fn context_data_start_is_after_the_header_plus_offset() {
    // A context header followed by 64 bytes of context data, 16-aligned.
    #[repr(C, align(16))]
    struct Block {
        header: NET_BUFFER_LIST_CONTEXT,
        data: [u8; 64],
    }
    let mut block = Block { header: zeroed(), data: [0; 64] };
    let mut nbl: NET_BUFFER_LIST = zeroed();
    let (block, nbl) = (&raw mut block, &raw mut nbl);
    unsafe {
        (*block).header.Size = 32;
        (*block).header.Offset = 32;
        (*nbl).Context = &raw mut (*block).header;
        assert_eq!(NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl), 32);
        let start = NET_BUFFER_LIST_CONTEXT_DATA_START(nbl);
        assert_eq!(start, (&raw mut (*block).data).cast::<u8>().add(32));
        assert_eq!(start as usize % MEMORY_ALLOCATION_ALIGNMENT, 0);
    }
}

#[test]
fn nb_and_mdl_accessors_read_and_write_the_fields() {
    let mut buf = [0u8; 100];
    let mut mdl2: MDL = zeroed();
    let mut mdl: MDL = zeroed();
    let mut nb: NET_BUFFER = zeroed();
    let (mdl2, mdl, nb) = (&raw mut mdl2, &raw mut mdl, &raw mut nb);
    unsafe {
        (*mdl).StartVa = buf.as_mut_ptr().cast();
        (*mdl).ByteOffset = 10;
        (*mdl).ByteCount = 90;
        *NDIS_MDL_LINKAGE(mdl) = mdl2;
        *MDL_FLAGS(mdl) = MDL_SOURCE_IS_NONPAGED_POOL;
        assert_eq!((*mdl).Next, mdl2);
        assert_eq!((*mdl).MdlFlags, MDL_SOURCE_IS_NONPAGED_POOL);
        assert_eq!(MmGetMdlByteCount(mdl), 90);
        assert_eq!(MmGetMdlByteOffset(mdl), 10);
        assert_eq!(MmGetMdlVirtualAddress(mdl), buf.as_mut_ptr().add(10).cast());

        *NET_BUFFER_FIRST_MDL(nb) = mdl;
        *NET_BUFFER_CURRENT_MDL(nb) = mdl2;
        *NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 4;
        *NET_BUFFER_DATA_OFFSET(nb) = 94;
        *NET_BUFFER_DATA_LENGTH(nb) = 6;
        *NET_BUFFER_NEXT_NB(nb) = nb;
        *NET_BUFFER_CHECKSUM_BIAS(nb) = 20;
        let d = &(*nb).__bindgen_anon_1.__bindgen_anon_1;
        assert_eq!((d.MdlChain, d.CurrentMdl, d.CurrentMdlOffset, d.DataOffset), (mdl, mdl2, 4, 94));
        assert_eq!(d.__bindgen_anon_1.DataLength, 6);
        assert_eq!(d.Next, nb);
        assert_eq!((*nb).ChecksumBias, 20);
        (*NET_BUFFER_PROTOCOL_RESERVED(nb))[5] = mdl.cast();
        assert_eq!((*nb).ProtocolReserved[5], mdl.cast());
        (*NET_BUFFER_MINIPORT_RESERVED(nb))[3] = mdl.cast();
        assert_eq!((*nb).MiniportReserved[3], mdl.cast());
        (*NET_BUFFER_DATA_PHYSICAL_ADDRESS(nb)).QuadPart = 0x1000;
        assert_eq!((*nb).DataPhysicalAddress.QuadPart, 0x1000);
    }
}

#[test]
fn nt_success_follows_the_sign_bit() {
    assert!(NT_SUCCESS(STATUS_SUCCESS));
    assert!(NT_SUCCESS(STATUS_PENDING));
    assert!(!NT_SUCCESS(STATUS_INSUFFICIENT_RESOURCES));
    assert!(!NT_SUCCESS(NDIS_STATUS_FAILURE));
    assert_eq!(NDIS_STATUS_RESOURCES, STATUS_INSUFFICIENT_RESOURCES);
}

#[test]
fn flag_helpers_test_every_bit_of_the_mask_as_the_macros_do() {
    // (((_Flags) & (_Fl)) == (_Fl)): all of the mask's bits, not any.
    for (test, set) in [
        (NDIS_TEST_SEND_FLAG as fn(ULONG, ULONG) -> bool, NDIS_SET_SEND_FLAG as fn(&mut ULONG, ULONG)),
        (NDIS_TEST_SEND_COMPLETE_FLAG, NDIS_SET_SEND_COMPLETE_FLAG),
        (NDIS_TEST_RECEIVE_FLAG, NDIS_SET_RECEIVE_FLAG),
        (NDIS_TEST_RETURN_FLAG, NDIS_SET_RETURN_FLAG),
    ] {
        let mut flags: ULONG = 0;
        assert!(test(flags, 0), "the empty mask is always present");
        assert!(!test(flags, 0b101));
        set(&mut flags, 0b001);
        assert!(test(flags, 0b001) && !test(flags, 0b101), "one bit of two is not enough");
        set(&mut flags, 0b100);
        assert!(test(flags, 0b101) && test(flags, 0b100));
        assert_eq!(flags, 0b101, "set ORs the bits in");
    }
    let mut flags = NDIS_SEND_FLAGS_DISPATCH_LEVEL | NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK;
    assert!(NDIS_TEST_SEND_AT_DISPATCH_LEVEL(flags));
    NDIS_CLEAR_SEND_FLAG(&mut flags, NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    assert_eq!(flags, NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK, "clear leaves the other bits");
    assert!(!NDIS_TEST_SEND_AT_DISPATCH_LEVEL(flags));
    assert!(NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL));
    assert!(NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(NDIS_RETURN_FLAGS_DISPATCH_LEVEL));
    assert!(!NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(NDIS_RETURN_FLAGS_SINGLE_QUEUE));
    // Receive: RESOURCES means the NBLs cannot be kept (pended).
    let resources = NDIS_RECEIVE_FLAGS_RESOURCES | NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL;
    assert!(NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(resources));
    assert!(NDIS_TEST_RECEIVE_CANNOT_PEND(resources) && !NDIS_TEST_RECEIVE_CAN_PEND(resources));
    assert!(!NDIS_TEST_RECEIVE_CANNOT_PEND(NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL));
    assert!(NDIS_TEST_RECEIVE_CAN_PEND(NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL));
    // The flag values the helpers test are the kit's.
    assert_eq!(
        (NDIS_SEND_FLAGS_DISPATCH_LEVEL, NDIS_RECEIVE_FLAGS_RESOURCES, NDIS_RETURN_FLAGS_DISPATCH_LEVEL),
        (1, 2, 1)
    );
}

/// What the MmMapLockedPagesSpecifyCache below was called with:
/// (MDL, access mode, cache type, requested address, bug-check flag, priority).
type MapCall = (usize, KPROCESSOR_MODE, MEMORY_CACHING_TYPE, usize, ULONG, ULONG);
static MAP_CALLS: std::sync::Mutex<Vec<MapCall>> = std::sync::Mutex::new(Vec::new());
/// The address the stand-in "maps" to.
static MAPPED: [u8; 16] = [0; 16];

/// The kernel's MmMapLockedPagesSpecifyCache, for this test binary: records
/// its arguments and returns `MAPPED`, or null for the MDL whose ByteCount
/// is 0xdead (a failed mapping).
#[unsafe(no_mangle)]
extern "system" fn MmMapLockedPagesSpecifyCache(
    mdl: PMDL,
    mode: KPROCESSOR_MODE,
    cache: MEMORY_CACHING_TYPE,
    requested: PVOID,
    bug_check: ULONG,
    priority: ULONG,
) -> PVOID {
    MAP_CALLS.lock().unwrap().push((mdl as usize, mode, cache, requested as usize, bug_check, priority));
    if unsafe { (*mdl).ByteCount } == 0xdead { core::ptr::null_mut() } else { MAPPED.as_ptr().cast_mut().cast() }
}

#[test]
fn system_address_of_an_mdl_is_its_mapping_or_a_new_one_as_the_inline_function_does() {
    let mut buf = [0u8; 32];
    let priority = NormalPagePriority as ULONG | MdlMappingNoExecute;
    let mut mdl: MDL = zeroed();
    let mdl = &raw mut mdl;
    unsafe {
        (*mdl).MappedSystemVa = buf.as_mut_ptr().cast();
        // Mapped already, or nonpaged pool (either flag, or both): the
        // MDL's own system address, with no call.
        for flags in [MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED]
        {
            (*mdl).MdlFlags = flags;
            assert_eq!(MmGetSystemAddressForMdlSafe(mdl, priority), buf.as_mut_ptr().cast());
        }
        assert!(MAP_CALLS.lock().unwrap().is_empty());
        // Locked pages not mapped: a kernel-mode, cached mapping at no
        // requested address that returns null on failure, with the priority
        // and flags as given.
        (*mdl).MdlFlags = MDL_PAGES_LOCKED;
        assert_eq!(MmGetSystemAddressForMdlSafe(mdl, priority), MAPPED.as_ptr().cast_mut().cast());
        (*mdl).ByteCount = 0xdead;
        assert!(MmGetSystemAddressForMdlSafe(mdl, HighPagePriority as ULONG).is_null());
    }
    let calls = MAP_CALLS.lock().unwrap();
    let expected = |priority| (mdl as usize, KernelMode as KPROCESSOR_MODE, MmCached, 0, 0, priority);
    assert_eq!(*calls, [expected(priority), expected(HighPagePriority as ULONG)]);
    // The values the kit gives these names (wdm.h).
    assert_eq!((KernelMode, MmCached, NormalPagePriority, HighPagePriority), (0, 1, 16, 32));
    assert_eq!((MdlMappingNoWrite, MdlMappingNoExecute), (0x8000_0000, 0x4000_0000));
    assert_eq!((MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL), (1, 4));
}
