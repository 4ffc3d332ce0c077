//! The FWPM_* keys (declared with DEFINE_GUID in fwpmk.h) are constants with
//! the values the WFP documentation gives for them.
#![allow(missing_docs, reason = "test")]

use fwps_sys::*;

/// `GUID` from its registry form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
fn guid(text: &str) -> GUID {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let byte = |i: usize| u8::from_str_radix(&hex[16 + 2 * i..18 + 2 * i], 16).unwrap();
    GUID {
        Data1: u32::from_str_radix(&hex[..8], 16).unwrap(),
        Data2: u16::from_str_radix(&hex[8..12], 16).unwrap(),
        Data3: u16::from_str_radix(&hex[12..16], 16).unwrap(),
        Data4: core::array::from_fn(byte),
    }
}

fn same(a: GUID, b: GUID) -> bool {
    (a.Data1, a.Data2, a.Data3, a.Data4) == (b.Data1, b.Data2, b.Data3, b.Data4)
}

#[test]
fn layer_sublayer_and_condition_keys_have_their_documented_values() {
    assert!(same(FWPM_LAYER_ALE_AUTH_CONNECT_V4, guid("c38d57d1-05a7-4c33-904f-7fbceee60e82")));
    assert!(same(FWPM_LAYER_INBOUND_TRANSPORT_V4, guid("5926dfc8-e3cf-4426-a283-dc393f5d0f9d")));
    assert!(same(FWPM_SUBLAYER_UNIVERSAL, guid("eebecc03-ced4-4380-819a-2734397b2b74")));
    assert!(same(FWPM_CONDITION_IP_REMOTE_PORT, guid("c35a604d-d22b-4e1a-91b4-68f674ee674b")));
    assert!(!same(FWPM_LAYER_ALE_AUTH_CONNECT_V4, FWPM_LAYER_ALE_AUTH_CONNECT_V6));
}

/// Type-checked, never instantiated, so never linked (as in declared.rs).
#[allow(dead_code, clippy::extra_unused_type_parameters, reason = "type-checked, never instantiated, so never linked")]
fn declared<T>() {
    let _: unsafe extern "system" fn(*mut core::ffi::c_void, *const FWPS_CALLOUT3, *mut UINT32) -> NTSTATUS =
        FwpsCalloutRegister3;
    let _: unsafe extern "system" fn(HANDLE) -> NTSTATUS = FwpmTransactionCommit0;
    let _ = (FwpmEngineOpen0, FwpmFilterAdd0, FwpmSubLayerAdd0, FwpmCalloutAdd0, FwpmProviderAdd0);
    let _ = (FwpsInjectTransportSendAsync1, FwpsConstructIpHeaderForTransportPacket0, FwpsStreamInjectAsync0);
    let _ = (FwpsPendClassify0, FwpsCompleteClassify0, FwpsFlowAssociateContext0, FwpsAcquireClassifyHandle0);
    let _: (FWPS_TRANSPORT_SEND_PARAMS1, FWPS_STREAM_CALLOUT_IO_PACKET0, FWPS_INCOMING_METADATA_VALUES0);
    let _: UINT32 = FWPS_METADATA_FIELD_COMPARTMENT_ID;
}
