//! The simulator exports every function ndis-sys and fwps-sys declare,
//! with the declared signature: each pair below must coerce to one function
//! pointer type, and the test binary links every declaration against the
//! simulator's export (taking its address needs the symbol).
#![allow(missing_docs, reason = "test")]

use std::collections::BTreeSet;

macro_rules! same {
    ($krate:ident :: $module:ident :: $name:ident / $($arg:tt)*) => {{
        let pair = [$krate::$name as unsafe extern "system" fn($($arg)*) -> _, ndis_sim::$module::$name];
        // Miri gives each function pointer its own identity; natively the
        // declaration resolves to the simulator's export.
        assert!(cfg!(miri) || pair[0] as usize == pair[1] as usize, "{} links to the simulator's export", stringify!($name));
        stringify!($name)
    }};
}

/// The generated bindings of this arch (read at compile time).
#[cfg(target_arch = "x86_64")]
const GENERATED: [&str; 2] =
    [include_str!("../../ndis-sys/src/generated/x86_64.rs"), include_str!("../../fwps-sys/src/generated/x86_64.rs")];
#[cfg(target_arch = "aarch64")]
const GENERATED: [&str; 2] =
    [include_str!("../../ndis-sys/src/generated/aarch64.rs"), include_str!("../../fwps-sys/src/generated/aarch64.rs")];

/// Names of the functions a generated bindings file declares.
fn declared(text: &str) -> BTreeSet<String> {
    let block = &text[text.find("unsafe extern \"system\" {").unwrap()..];
    block.split("pub fn ").skip(1).map(|s| s.split('(').next().unwrap().trim().to_owned()).collect()
}

#[test]
fn every_declared_ddi_is_exported_with_its_signature() {
    let _s = ndis_sim::Session::new();
    let ndis_names = [
        same!(ndis_sys::ndis::NdisAllocateNetBufferListPool / _, _),
        same!(ndis_sys::ndis::NdisFreeNetBufferListPool / _),
        same!(ndis_sys::ndis::NdisAllocateNetBufferPool / _, _),
        same!(ndis_sys::ndis::NdisFreeNetBufferPool / _),
        same!(ndis_sys::ndis::NdisGetPoolFromNetBufferList / _),
        same!(ndis_sys::ndis::NdisGetPoolFromNetBuffer / _),
        same!(ndis_sys::ndis::NdisAllocateNetBufferList / _, _, _),
        same!(ndis_sys::ndis::NdisAllocateNetBuffer / _, _, _, _),
        same!(ndis_sys::ndis::NdisAllocateNetBufferAndNetBufferList / _, _, _, _, _, _),
        same!(ndis_sys::ndis::NdisAllocateNetBufferMdlAndData / _),
        same!(ndis_sys::ndis::NdisFreeNetBufferList / _),
        same!(ndis_sys::ndis::NdisFreeNetBuffer / _),
        same!(ndis_sys::ndis::NdisAllocateCloneNetBufferList / _, _, _, _),
        same!(ndis_sys::ndis::NdisFreeCloneNetBufferList / _, _),
        same!(ndis_sys::ndis::NdisAllocateNetBufferListContext / _, _, _, _),
        same!(ndis_sys::ndis::NdisFreeNetBufferListContext / _, _),
        same!(ndis_sys::ndis::NdisRetreatNetBufferDataStart / _, _, _, _),
        same!(ndis_sys::ndis::NdisAdvanceNetBufferDataStart / _, _, _, _),
        same!(ndis_sys::ndis::NdisRetreatNetBufferListDataStart / _, _, _, _, _),
        same!(ndis_sys::ndis::NdisAdvanceNetBufferListDataStart / _, _, _, _),
        same!(ndis_sys::ndis::NdisGetDataBuffer / _, _, _, _, _),
        same!(ndis_sys::ndis::NdisCopyFromNetBufferToNetBuffer / _, _, _, _, _, _),
        same!(ndis_sys::ndis::NdisAllocateMdl / _, _, _),
        same!(ndis_sys::ndis::NdisFreeMdl / _),
    ];
    let fwps_names = [
        same!(fwps_sys::fwps::FwpsAllocateNetBufferAndNetBufferList0 / _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsFreeNetBufferList0 / _),
        same!(fwps_sys::fwps::FwpsAllocateCloneNetBufferList0 / _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsFreeCloneNetBufferList0 / _, _),
        same!(fwps_sys::fwps::FwpsReferenceNetBufferList0 / _, _),
        same!(fwps_sys::fwps::FwpsDereferenceNetBufferList0 / _, _),
        same!(fwps_sys::fwps::FwpsInjectionHandleCreate0 / _, _, _),
        same!(fwps_sys::fwps::FwpsInjectionHandleDestroy0 / _),
        same!(fwps_sys::fwps::FwpsInjectTransportSendAsync0 / _, _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsInjectTransportReceiveAsync0 / _, _, _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsInjectNetworkSendAsync0 / _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsInjectNetworkReceiveAsync0 / _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsInjectForwardAsync0 / _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsQueryPacketInjectionState0 / _, _, _),
        same!(fwps_sys::fwps::FwpsCalloutRegister0 / _, _, _),
        same!(fwps_sys::fwps::FwpsCalloutUnregisterById0 / _),
    ];
    // Nothing declared is missing from the lists above.
    let listed: BTreeSet<String> = ndis_names.iter().map(|s| s.to_string()).collect();
    assert_eq!(declared(GENERATED[0]), listed);
    let listed: BTreeSet<String> = fwps_names.iter().map(|s| s.to_string()).collect();
    assert_eq!(declared(GENERATED[1]), listed);
}
