//! Reading and copying the data NBs describe.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::Kind;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::records::{copy_in, copy_out, mdl_len, mdl_va, nb_data};
use crate::verifier::irql::at_most;
use crate::verifier::{self, data, objects};

/// A pointer to `BytesNeeded` contiguous bytes at the NB's data start:
/// straight into the current MDL when they are contiguous there and the
/// address is `AlignOffset` past a multiple of `AlignMultiple`; otherwise a
/// copy into `Storage`, or NULL when `Storage` is NULL. NULL also when the
/// data is shorter than `BytesNeeded` (or it is 0).
///
/// # Safety
///
/// `NetBuffer` is a live NB; `Storage`, if not NULL, is writable for
/// `BytesNeeded` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisGetDataBuffer(
    NetBuffer: *mut NET_BUFFER,
    BytesNeeded: ULONG,
    Storage: PVOID,
    AlignMultiple: ULONG,
    AlignOffset: ULONG,
) -> PVOID {
    at_most(DISPATCH_LEVEL, "NdisGetDataBuffer");
    const DDI: &str = "NdisGetDataBuffer";
    verifier::with(|st, found| {
        if !objects::live(st, NetBuffer as usize, Kind::Nb, DDI, found)
            // SAFETY: the NB is live.
            || !unsafe { data::consistent(st, NetBuffer, DDI, found) }
        {
            return core::ptr::null_mut();
        }
        // SAFETY: as above.
        let d = unsafe { nb_data(NetBuffer) };
        if BytesNeeded == 0 || BytesNeeded > d.data_length {
            return core::ptr::null_mut();
        }
        // SAFETY: the NB is consistent, so CurrentMdl is live and on its chain.
        let (avail, here) = unsafe {
            (mdl_len(d.current_mdl) - d.current_mdl_offset, mdl_va(d.current_mdl).add(d.current_mdl_offset as usize))
        };
        let align = AlignMultiple.max(1) as usize;
        let aligned = (here as usize).wrapping_sub(AlignOffset as usize) % align == 0;
        if avail >= BytesNeeded && aligned {
            return here.cast();
        }
        if Storage.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: the range is inside the data; `Storage` holds BytesNeeded.
        unsafe { copy_out(NetBuffer, 0, Storage.cast(), BytesNeeded) };
        Storage
    })
}

/// Copies up to `BytesToCopy` bytes from `Source`'s data (from
/// `SourceOffset`) into `Destination`'s data (at `DestinationOffset`),
/// stopping at the end of either; `*BytesCopied` says how many. Returns
/// `NDIS_STATUS_SUCCESS` when all were copied, `NDIS_STATUS_FAILURE` when
/// fewer were.
///
/// # Safety
///
/// Both NBs are live; `BytesCopied` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisCopyFromNetBufferToNetBuffer(
    Destination: *mut NET_BUFFER,
    DestinationOffset: ULONG,
    BytesToCopy: ULONG,
    Source: *const NET_BUFFER,
    SourceOffset: ULONG,
    BytesCopied: *mut ULONG,
) -> NDIS_STATUS {
    at_most(DISPATCH_LEVEL, "NdisCopyFromNetBufferToNetBuffer");
    const DDI: &str = "NdisCopyFromNetBufferToNetBuffer";
    verifier::with(|st, found| {
        let src = Source.cast_mut();
        if !objects::live(st, Destination as usize, Kind::Nb, DDI, found)
            || !objects::live(st, src as usize, Kind::Nb, DDI, found)
        {
            return NDIS_STATUS_INVALID_PARAMETER;
        }
        for nb in [Destination, src] {
            // SAFETY: both NBs are live.
            if !unsafe { data::consistent(st, nb, DDI, found) } {
                return NDIS_STATUS_INVALID_PARAMETER;
            }
        }
        // SAFETY: both NBs are live.
        let (dl, sl) = unsafe { (*NET_BUFFER_DATA_LENGTH(Destination), *NET_BUFFER_DATA_LENGTH(src)) };
        let n = BytesToCopy.min(dl.saturating_sub(DestinationOffset)).min(sl.saturating_sub(SourceOffset));
        let mut tmp = vec![0u8; n as usize];
        // SAFETY: the ranges are inside both NBs' data; `tmp` holds n bytes,
        // and `BytesCopied` is writable (the caller's guarantee).
        unsafe {
            copy_out(src, SourceOffset, tmp.as_mut_ptr(), n);
            copy_in(Destination, DestinationOffset, tmp.as_ptr(), n);
            if !BytesCopied.is_null() {
                *BytesCopied = n;
            }
        }
        if n == BytesToCopy { NDIS_STATUS_SUCCESS } else { NDIS_STATUS_FAILURE }
    })
}
