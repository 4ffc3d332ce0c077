//! Ports of fwpsk.h's metadata macros.
#![allow(non_snake_case, reason = "the ports keep the C macros' names")]

use crate::{FWPS_INCOMING_METADATA_VALUES0, UINT32};

/// `FWPS_IS_METADATA_FIELD_PRESENT(metadataValues, metadataField)`: every bit
/// of `field` (`FWPS_METADATA_FIELD_*`) is set in `currentMetadataValues`,
/// i.e. the classify's metadata carries those fields.
///
/// # Safety
///
/// `values` must point to a live `FWPS_INCOMING_METADATA_VALUES0` (the one a
/// classify function receives).
#[inline(always)]
#[must_use]
pub unsafe fn FWPS_IS_METADATA_FIELD_PRESENT(values: *const FWPS_INCOMING_METADATA_VALUES0, field: UINT32) -> bool {
    // SAFETY: the caller guarantees `values` is live.
    unsafe { (*values).currentMetadataValues & field == field }
}

/// `FWPS_IS_L2_METADATA_FIELD_PRESENT(metadataValues, l2MetadataField)`: every
/// bit of `field` (`FWPS_L2_METADATA_FIELD_*`) is set in
/// `currentL2MetadataValues`.
///
/// # Safety
///
/// `values` must point to a live `FWPS_INCOMING_METADATA_VALUES0`.
#[inline(always)]
#[must_use]
pub unsafe fn FWPS_IS_L2_METADATA_FIELD_PRESENT(values: *const FWPS_INCOMING_METADATA_VALUES0, field: UINT32) -> bool {
    // SAFETY: the caller guarantees `values` is live.
    unsafe { (*values).currentL2MetadataValues & field == field }
}
