//! MDLs the caller allocates.
#![allow(non_snake_case, reason = "the DDIs' names and parameter names")]

use ndis_sys::*;

use crate::model::irql::DISPATCH_LEVEL;
use crate::model::mdl::{drop_mdl, new_mdl};
use crate::verifier::irql::at_most;
use crate::verifier::{self, objects as rules};

/// Allocates an MDL describing `Length` bytes of the caller's nonpaged
/// memory at `VirtualAddress`.
///
/// # Safety
///
/// The memory is valid for `Length` bytes for as long as the MDL is used.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisAllocateMdl(
    _NdisHandle: NDIS_HANDLE,
    VirtualAddress: PVOID,
    Length: ULONG,
) -> *mut MDL {
    at_most(DISPATCH_LEVEL, "NdisAllocateMdl");
    verifier::with(|st, _| new_mdl(st, VirtualAddress.cast(), Length, true, None))
}

/// Frees an MDL `NdisAllocateMdl` allocated (and only such an MDL).
///
/// # Safety
///
/// `Mdl` is an MDL `NdisAllocateMdl` returned, no longer on any chain.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NdisFreeMdl(Mdl: *mut MDL) {
    at_most(DISPATCH_LEVEL, "NdisFreeMdl");
    const DDI: &str = "NdisFreeMdl";
    verifier::with(|st, found| {
        if rules::may_free_mdl(st, Mdl as usize, DDI, found) {
            drop_mdl(st, Mdl as usize, DDI);
        }
    });
}
