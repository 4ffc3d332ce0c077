//! The simulator's exports and the -sys crates' declarations agree:
//!
//! - every function the simulator exports is declared by ndis-sys or
//!   fwps-sys with the same signature: each pair below must coerce to one
//!   function pointer type, and the test binary links the declaration
//!   against the simulator's export (taking its address needs the symbol);
//!   the list below is every `#[unsafe(no_mangle)]` export of `src/`;
//! - every declared function is either exported by the simulator or named in
//!   `tests/unsimulated.txt` (a host test calling one of those fails to
//!   link, naming the symbol), and that file names nothing else.
#![allow(missing_docs, reason = "test")]

use std::collections::BTreeSet;
use std::path::Path;

macro_rules! same {
    ($krate:ident :: $module:ident :: $name:ident / $($arg:tt)*) => {{
        let pair = [$krate::$name as unsafe extern "system" fn($($arg)*) -> _, ndis_sim::$module::$name];
        // Miri gives each function pointer its own identity; natively the
        // declaration resolves to the simulator's export.
        assert!(cfg!(miri) || pair[0] as usize == pair[1] as usize, "{} links to the simulator's export", stringify!($name));
        stringify!($name)
    }};
}

/// The generated bindings of both arches (read at compile time).
const GENERATED: [&str; 4] = [
    include_str!("../../ndis-sys/src/generated/x86_64.rs"),
    include_str!("../../fwps-sys/src/generated/x86_64.rs"),
    include_str!("../../ndis-sys/src/generated/aarch64.rs"),
    include_str!("../../fwps-sys/src/generated/aarch64.rs"),
];

/// Names of the functions a generated bindings file declares (in its
/// `extern` blocks; methods of records are not functions of the kit).
fn declared(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("unsafe extern \"system\" {") {
        let block = &rest[at..];
        let end = block.find("\n}").unwrap_or(block.len());
        out.extend(block[..end].split("pub fn ").skip(1).map(|s| s.split('(').next().unwrap().trim().to_owned()));
        rest = &block[end..];
    }
    out
}

/// The functions the simulator's sources export (`#[unsafe(no_mangle)]`).
fn exported_by_sources(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            exported_by_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("#[unsafe(no_mangle)]").skip(1) {
                let Some(at) = part.find("extern \"system\" fn ") else { continue };
                let name = &part[at + "extern \"system\" fn ".len()..];
                out.insert(name.split(['(', '<']).next().unwrap().trim().to_owned());
            }
        }
    }
}

/// The names `tests/unsimulated.txt` lists.
fn unsimulated() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/unsimulated.txt")).unwrap();
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the sources and the generated bindings from disk, which Miri's isolation forbids; the signatures are checked at compile time"
)]
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
        same!(ndis_sys::ndis::NdisFRegisterFilterDriver / _, _, _, _),
        same!(ndis_sys::ndis::NdisFDeregisterFilterDriver / _),
        same!(ndis_sys::ndis::NdisFSetAttributes / _, _, _),
        same!(ndis_sys::ndis::NdisFSendNetBufferLists / _, _, _, _),
        same!(ndis_sys::ndis::NdisFSendNetBufferListsComplete / _, _, _),
        same!(ndis_sys::ndis::NdisFIndicateReceiveNetBufferLists / _, _, _, _, _),
        same!(ndis_sys::ndis::NdisFOidRequest / _, _),
        same!(ndis_sys::ndis::NdisFOidRequestComplete / _, _, _),
        same!(ndis_sys::ndis::NdisAllocateCloneOidRequest / _, _, _, _),
        same!(ndis_sys::ndis::NdisFreeCloneOidRequest / _, _),
        same!(ndis_sys::ndis::NdisFCancelOidRequest / _, _),
        same!(ndis_sys::ndis::NdisFIndicateStatus / _, _),
        same!(ndis_sys::ndis::NdisFNetPnPEvent / _, _),
        same!(ndis_sys::ndis::NdisFDevicePnPEventNotify / _, _),
        same!(ndis_sys::ndis::NdisFReturnNetBufferLists / _, _, _),
        same!(ndis_sys::ndis::NdisFCancelSendNetBufferLists / _, _),
        same!(ndis_sys::ndis::NdisFPauseComplete / _),
        same!(ndis_sys::ndis::NdisFRestartComplete / _, _),
        same!(ndis_sys::ndis::NdisAllocateMemoryWithTagPriority / _, _, _, _),
        same!(ndis_sys::ndis::NdisFreeMemoryWithTagPriority / _, _, _),
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
        same!(fwps_sys::fwps::FwpsCalloutRegister1 / _, _, _),
        same!(fwps_sys::fwps::FwpsCalloutRegister2 / _, _, _),
        same!(fwps_sys::fwps::FwpsCalloutRegister3 / _, _, _),
        same!(fwps_sys::fwps::FwpsCalloutUnregisterByKey0 / _),
        same!(fwps_sys::fwps::FwpsAcquireClassifyHandle0 / _, _, _),
        same!(fwps_sys::fwps::FwpsPendClassify0 / _, _, _, _),
        same!(fwps_sys::fwps::FwpsCompleteClassify0 / _, _, _),
        same!(fwps_sys::fwps::FwpsReleaseClassifyHandle0 / _),
        same!(fwps_sys::fwps::FwpsFlowAssociateContext0 / _, _, _, _),
        same!(fwps_sys::fwps::FwpsFlowRemoveContext0 / _, _, _),
        same!(fwps_sys::fwps::FwpsPendOperation0 / _, _),
        same!(fwps_sys::fwps::FwpsInjectTransportSendAsync1 / _, _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsAcquireWritableLayerDataPointer0 / _, _, _, _, _),
        same!(fwps_sys::fwps::FwpsApplyModifiedLayerData0 / _, _, _),
        same!(fwps_sys::fwps::FwpsRedirectHandleCreate0 / _, _, _),
        same!(fwps_sys::fwps::FwpsRedirectHandleDestroy0 / _),
        same!(fwps_sys::fwps::FwpsCompleteOperation0 / _, _),
        same!(fwps_sys::fwps::FwpsQueryConnectionRedirectState0 / _, _, _),
        same!(fwps_sys::fwps::FwpsConstructIpHeaderForTransportPacket0 / _, _, _, _, _, _, _, _, _, _, _, _, _),
        same!(fwps_sys::fwps::FwpmEngineOpen0 / _, _, _, _, _),
        same!(fwps_sys::fwps::FwpmProviderAdd0 / _, _, _),
        same!(fwps_sys::fwps::FwpmProviderDeleteByKey0 / _, _),
        same!(fwps_sys::fwps::FwpmEngineClose0 / _),
        same!(fwps_sys::fwps::FwpmTransactionBegin0 / _, _),
        same!(fwps_sys::fwps::FwpmTransactionCommit0 / _),
        same!(fwps_sys::fwps::FwpmTransactionAbort0 / _),
        same!(fwps_sys::fwps::FwpmSubLayerAdd0 / _, _, _),
        same!(fwps_sys::fwps::FwpmSubLayerDeleteByKey0 / _, _),
        same!(fwps_sys::fwps::FwpmCalloutAdd0 / _, _, _, _),
        same!(fwps_sys::fwps::FwpmCalloutDeleteByKey0 / _, _),
        same!(fwps_sys::fwps::FwpmFilterAdd0 / _, _, _, _),
        same!(fwps_sys::fwps::FwpmFilterDeleteById0 / _, _),
    ];
    // The lists above are every export of the simulator's sources.
    let listed: BTreeSet<String> = ndis_names.iter().chain(&fwps_names).map(|s| s.to_string()).collect();
    let mut exported = BTreeSet::new();
    exported_by_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut exported);
    assert_eq!(exported, listed, "every export of src/ is checked above");

    // Each declared where the test says (ndis-sys or fwps-sys) for this arch.
    let here = if cfg!(target_arch = "aarch64") { 2 } else { 0 };
    let (ndis, fwps) = (declared(GENERATED[here]), declared(GENERATED[here + 1]));
    for name in ndis_names {
        assert!(ndis.contains(name), "{name} is not declared by ndis-sys");
    }
    for name in fwps_names {
        assert!(fwps.contains(name), "{name} is not declared by fwps-sys");
    }

    // Every declared DDI is exported or listed as not simulated, once.
    let unsimulated = unsimulated();
    let unsimulated_set: BTreeSet<String> = unsimulated.iter().cloned().collect();
    assert_eq!(unsimulated.len(), unsimulated_set.len(), "unsimulated.txt names a DDI twice");
    let mut all_arches = BTreeSet::new();
    for text in GENERATED {
        all_arches.extend(declared(text));
    }
    for name in ndis.iter().chain(&fwps) {
        assert!(
            listed.contains(name) || unsimulated_set.contains(name),
            "{name} is declared but neither exported by the simulator nor listed in tests/unsimulated.txt"
        );
    }
    for name in &unsimulated_set {
        assert!(!listed.contains(name), "{name} is exported by the simulator: remove it from tests/unsimulated.txt");
        assert!(all_arches.contains(name), "{name} in tests/unsimulated.txt is not declared by ndis-sys or fwps-sys");
    }
}
