//! Helpers shared by the simulator's tests: pools and buffers made through
//! the raw -sys functions, as a driver makes them.
#![allow(dead_code, reason = "each test file uses some")]
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    reason = "test helpers over raw DDIs"
)]

pub use fwps_sys::*;
pub use ndis_sys::*;

pub const TAG: u32 = u32::from_le_bytes(*b"Test");

pub fn nbl_pool_params(allocate_nb: bool, context: u16, data: u32) -> NET_BUFFER_LIST_POOL_PARAMETERS {
    NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        },
        ProtocolId: NDIS_PROTOCOL_ID_DEFAULT,
        fAllocateNetBuffer: u8::from(allocate_nb),
        ContextSize: context,
        PoolTag: TAG,
        DataSize: data,
    }
}

pub fn nb_pool_params(data: u32) -> NET_BUFFER_POOL_PARAMETERS {
    NET_BUFFER_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
        },
        PoolTag: TAG,
        DataSize: data,
    }
}

pub fn nbl_pool(allocate_nb: bool, context: u16, data: u32) -> NDIS_HANDLE {
    let p = nbl_pool_params(allocate_nb, context, data);
    let pool = unsafe { NdisAllocateNetBufferListPool(core::ptr::null_mut(), &p) };
    assert!(!pool.is_null());
    pool
}

pub fn nb_pool(data: u32) -> NDIS_HANDLE {
    let p = nb_pool_params(data);
    let pool = unsafe { NdisAllocateNetBufferPool(core::ptr::null_mut(), &p) };
    assert!(!pool.is_null());
    pool
}

/// A buffer and an MDL over it, freed on drop. The buffer is held as a raw
/// pointer: NDIS (the MDL) has it, so no Box may claim it uniquely.
pub struct Buffer {
    raw: *mut [u8],
    pub mdl: *mut MDL,
}

impl Buffer {
    pub fn new(bytes: &[u8]) -> Buffer {
        let raw = Box::into_raw(Box::<[u8]>::from(bytes));
        let mdl = unsafe { NdisAllocateMdl(core::ptr::null_mut(), raw.cast(), raw.len() as u32) };
        assert!(!mdl.is_null());
        Buffer { raw, mdl }
    }

    /// The buffer's bytes as they are now.
    pub fn bytes(&self) -> Vec<u8> {
        unsafe { (*self.raw).to_vec() }
    }

    /// The buffer's start.
    pub fn as_ptr(&self) -> *mut u8 {
        self.raw.cast()
    }

    /// Links `next`'s MDL after this one's.
    pub fn link(&self, next: &Buffer) {
        unsafe { *NDIS_MDL_LINKAGE(self.mdl) = next.mdl };
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        unsafe {
            *NDIS_MDL_LINKAGE(self.mdl) = core::ptr::null_mut();
            NdisFreeMdl(self.mdl);
            drop(Box::from_raw(self.raw));
        }
    }
}

pub fn first_nb(nbl: *mut NET_BUFFER_LIST) -> *mut NET_BUFFER {
    unsafe { *NET_BUFFER_LIST_FIRST_NB(nbl) }
}

/// (DataOffset, DataLength, CurrentMdl, CurrentMdlOffset)
pub fn offsets(nb: *mut NET_BUFFER) -> (u32, u32, *mut MDL, u32) {
    unsafe {
        (
            *NET_BUFFER_DATA_OFFSET(nb),
            *NET_BUFFER_DATA_LENGTH(nb),
            *NET_BUFFER_CURRENT_MDL(nb),
            *NET_BUFFER_CURRENT_MDL_OFFSET(nb),
        )
    }
}

/// The NB's data bytes, read through NdisGetDataBuffer with storage.
pub fn read(nb: *mut NET_BUFFER) -> Vec<u8> {
    let len = unsafe { *NET_BUFFER_DATA_LENGTH(nb) };
    let mut storage = vec![0u8; len as usize];
    if len == 0 {
        return storage;
    }
    let p = unsafe { NdisGetDataBuffer(nb, len, storage.as_mut_ptr().cast(), 1, 0) };
    assert!(!p.is_null());
    unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len as usize) }.to_vec()
}

pub mod lwf;
