//! The metadata macro ports, on a record laid out in memory by hand.
#![allow(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    reason = "test of raw accessors"
)]

use fwps_sys::*;

#[test]
fn metadata_presence_needs_every_bit_of_the_field_as_the_macro_does() {
    // (((metadataValues)->currentMetadataValues & (metadataField)) == (metadataField))
    // SAFETY: an all-zero record is valid (no fields present, null pointers).
    let mut values: FWPS_INCOMING_METADATA_VALUES0 = unsafe { core::mem::zeroed() };
    values.currentMetadataValues = FWPS_METADATA_FIELD_IP_HEADER_SIZE | FWPS_METADATA_FIELD_COMPARTMENT_ID;
    values.currentL2MetadataValues = FWPS_L2_METADATA_FIELD_VSWITCH_SOURCE_PORT_ID;
    let v = &raw const values;
    unsafe {
        assert!(FWPS_IS_METADATA_FIELD_PRESENT(v, FWPS_METADATA_FIELD_IP_HEADER_SIZE));
        assert!(FWPS_IS_METADATA_FIELD_PRESENT(v, FWPS_METADATA_FIELD_COMPARTMENT_ID));
        assert!(!FWPS_IS_METADATA_FIELD_PRESENT(v, FWPS_METADATA_FIELD_FLOW_HANDLE));
        assert!(!FWPS_IS_METADATA_FIELD_PRESENT(
            v,
            FWPS_METADATA_FIELD_IP_HEADER_SIZE | FWPS_METADATA_FIELD_FLOW_HANDLE
        ));
        assert!(FWPS_IS_L2_METADATA_FIELD_PRESENT(v, FWPS_L2_METADATA_FIELD_VSWITCH_SOURCE_PORT_ID));
        assert!(!FWPS_IS_L2_METADATA_FIELD_PRESENT(v, FWPS_L2_METADATA_FIELD_VSWITCH_DESTINATION_PORT_ID));
    }
    // The flag values are the kit's (fwpsk.h).
    assert_eq!(FWPS_METADATA_FIELD_COMPARTMENT_ID, 0x0000_0800);
}
