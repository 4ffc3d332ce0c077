//! The sample driver links into a `.sys` whose image checks out: native
//! subsystem, imports only from the kernel modules it needs, and every DDI
//! it calls imported by name. Skipped loudly without lld-link, llvm-dlltool,
//! llvm-readobj or the x86_64-pc-windows-msvc target (`.ci/run` installs them).

use std::collections::BTreeSet;

/// The functions a `.def` file of the inspect sample exports.
fn def_exports(name: &str) -> BTreeSet<String> {
    sample_def_exports("samples/wfp-inspect", name)
}

/// The functions a `.def` file of the sample in `dir` exports.
fn sample_def_exports(dir: &str, name: &str) -> BTreeSet<String> {
    let path = xtask::workspace_root().join(dir).join("def").join(format!("{name}.def"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip_while(|l| l.trim() != "EXPORTS")
        .skip(1)
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .collect()
}

/// The functions a generated bindings file declares.
fn declared(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(xtask::workspace_root().join(file)).unwrap();
    let mut out = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("unsafe extern \"system\" {") {
        let block = &rest[at..];
        let end = block.find("\n}").unwrap_or(block.len());
        out.extend(block[..end].split("pub fn ").skip(1).map(|s| s.split('(').next().unwrap().trim().to_owned()));
        rest = &block[end..];
    }
    out
}

#[test]
fn the_import_definitions_cover_every_declared_ddi() {
    let ndis = def_exports("ndis");
    let missing: Vec<_> =
        declared("ndis-sys/src/generated/x86_64.rs").into_iter().filter(|f| !ndis.contains(f)).collect();
    assert!(missing.is_empty(), "ndis.def lacks {missing:?}");
    let fwps = def_exports("fwpkclnt");
    let missing: Vec<_> =
        declared("fwps-sys/src/generated/x86_64.rs").into_iter().filter(|f| !fwps.contains(f)).collect();
    assert!(missing.is_empty(), "fwpkclnt.def lacks {missing:?}");
    let kernel = def_exports("ntoskrnl");
    for f in declared("samples/wfp-inspect/src/generated/x86_64.rs") {
        assert!(ndis.contains(&f) || kernel.contains(&f), "no .def exports {f}");
    }
}

#[test]
fn the_firewall_import_definitions_cover_every_declared_ddi() {
    let (ndis, fwps) =
        (sample_def_exports("samples/wfp-firewall", "ndis"), sample_def_exports("samples/wfp-firewall", "fwpkclnt"));
    let missing: Vec<_> =
        declared("ndis-sys/src/generated/x86_64.rs").into_iter().filter(|f| !ndis.contains(f)).collect();
    assert!(missing.is_empty(), "the firewall's ndis.def lacks {missing:?}");
    let missing: Vec<_> =
        declared("fwps-sys/src/generated/x86_64.rs").into_iter().filter(|f| !fwps.contains(f)).collect();
    assert!(missing.is_empty(), "the firewall's fwpkclnt.def lacks {missing:?}");
    let kernel = sample_def_exports("samples/wfp-firewall", "ntoskrnl");
    for f in ["IoCreateDevice", "IoDeleteDevice", "KeBugCheckEx", "KeFlushQueuedDpcs"] {
        assert!(kernel.contains(f), "the firewall's ntoskrnl.def lacks {f}");
    }
}

#[test]
fn the_sample_links_into_a_native_driver_importing_only_kernel_modules() {
    if let Some(missing) = xtask::driver::missing_tool() {
        xtask::skip(&format!("the sample driver was not linked: {missing}"));
        return;
    }
    let root = xtask::workspace_root();
    let sys = xtask::driver::build(&root, &xtask::target_dir(&root).join("driver-test")).unwrap();
    let image = xtask::driver::inspect(&sys).unwrap();
    assert!(image.subsystem.starts_with("IMAGE_SUBSYSTEM_NATIVE"), "{image:?}");
    let allowed = ["NDIS.SYS", "FWPKCLNT.SYS", "ntoskrnl.exe"];
    for (module, _) in &image.imports {
        assert!(allowed.contains(&module.as_str()), "imports from {module}: {image:?}");
    }
    let imported: BTreeSet<&str> = image.imports.iter().flat_map(|(_, f)| f.iter().map(String::as_str)).collect();
    for ddi in [
        "IoCreateDevice",
        "IoDeleteDevice",
        "KeBugCheckEx",
        "NdisAllocateGenericObject",
        "NdisFreeGenericObject",
        "NdisAllocateNetBufferListPool",
        "NdisFreeNetBufferListPool",
        "NdisRetreatNetBufferListDataStart",
        "NdisAdvanceNetBufferListDataStart",
        "NdisAllocateNetBufferListContext",
        "NdisFreeNetBufferListContext",
        "FwpsCalloutRegister1",
        "FwpsCalloutUnregisterById0",
        "FwpsInjectionHandleCreate0",
        "FwpsInjectionHandleDestroy0",
        "FwpsQueryPacketInjectionState0",
        "FwpsReferenceNetBufferList0",
        "FwpsDereferenceNetBufferList0",
        "FwpsAllocateCloneNetBufferList0",
        "FwpsFreeCloneNetBufferList0",
        "FwpsInjectTransportSendAsync1",
        "FwpsInjectTransportReceiveAsync0",
    ] {
        assert!(imported.contains(ddi), "{ddi} is not imported: {image:?}");
    }
}

#[test]
fn the_sample_filter_links_into_a_native_driver_importing_only_ndis_and_the_kernel() {
    if let Some(missing) = xtask::driver::missing_tool() {
        xtask::skip(&format!("the sample filter was not linked: {missing}"));
        return;
    }
    let root = xtask::workspace_root();
    let sys = xtask::driver::build_sample(
        &root,
        &xtask::target_dir(&root).join("driver-test"),
        xtask::driver::NDIS_FILTER,
        &[],
    )
    .unwrap();
    let image = xtask::driver::inspect(&sys).unwrap();
    assert!(image.subsystem.starts_with("IMAGE_SUBSYSTEM_NATIVE"), "{image:?}");
    for (module, _) in &image.imports {
        assert!(["NDIS.SYS", "ntoskrnl.exe"].contains(&module.as_str()), "imports from {module}: {image:?}");
    }
    // A filter builds ndis-safe without its `wfp` feature, and links no
    // FWPKCLNT.SYS import library: nothing of WFP reaches the image.
    assert!(!image.imports.iter().any(|(m, _)| m.eq_ignore_ascii_case("FWPKCLNT.SYS")), "{image:?}");
    let imported: BTreeSet<&str> = image.imports.iter().flat_map(|(_, f)| f.iter().map(String::as_str)).collect();
    for ddi in [
        "NdisFRegisterFilterDriver",
        "NdisFDeregisterFilterDriver",
        "NdisFSetAttributes",
        "NdisFSendNetBufferLists",
        "NdisFSendNetBufferListsComplete",
        "NdisFIndicateReceiveNetBufferLists",
        "NdisFReturnNetBufferLists",
        "NdisFPauseComplete",
        "NdisFCancelSendNetBufferLists",
        // OID requests passed through (cloned, completed back), cancelled.
        "NdisFOidRequest",
        "NdisFOidRequestComplete",
        "NdisAllocateCloneOidRequest",
        "NdisFreeCloneOidRequest",
        "NdisFCancelOidRequest",
        // Status and PnP indications passed on.
        "NdisFIndicateStatus",
        "NdisFNetPnPEvent",
        "NdisFDevicePnPEventNotify",
        // The heartbeat's pool.
        "NdisAllocateNetBufferListPool",
        "NdisFreeNetBufferListPool",
        "NdisAllocateMemoryWithTagPriority",
        "NdisFreeMemoryWithTagPriority",
        "KeBugCheckEx",
    ] {
        assert!(imported.contains(ddi), "{ddi} is not imported: {image:?}");
    }
    let inf = std::fs::read_to_string(root.join("samples/ndis-filter/ndis_filter.inf")).unwrap();
    assert!(inf.contains("ndis_filter.sys") && inf.contains("{9d6b8c4e-3f1a-4b2c-8e5d-7a0f1c2b3d4e}"));
}

#[test]
fn the_firewall_links_into_a_native_driver_importing_only_kernel_modules() {
    if let Some(missing) = xtask::driver::missing_tool() {
        xtask::skip(&format!("the firewall driver was not linked: {missing}"));
        return;
    }
    let root = xtask::workspace_root();
    let sys = xtask::driver::build_sample(
        &root,
        &xtask::target_dir(&root).join("driver-test"),
        xtask::driver::WFP_FIREWALL,
        &[],
    )
    .unwrap();
    let image = xtask::driver::inspect(&sys).unwrap();
    assert!(image.subsystem.starts_with("IMAGE_SUBSYSTEM_NATIVE"), "{image:?}");
    for (module, _) in &image.imports {
        assert!(
            ["NDIS.SYS", "FWPKCLNT.SYS", "ntoskrnl.exe"].contains(&module.as_str()),
            "imports from {module}: {image:?}"
        );
    }
    let imported: BTreeSet<&str> = image.imports.iter().flat_map(|(_, f)| f.iter().map(String::as_str)).collect();
    for ddi in [
        "IoCreateDevice",
        "IoDeleteDevice",
        "KeFlushQueuedDpcs",
        "KeBugCheckEx",
        "NdisAllocateGenericObject",
        "NdisFreeGenericObject",
        "NdisAllocateTimerObject",
        "NdisSetTimerObject",
        "NdisCancelTimerObject",
        "NdisFreeTimerObject",
        "FwpsCalloutRegister1",
        "FwpsCalloutUnregisterById0",
        "FwpsAcquireClassifyHandle0",
        "FwpsPendClassify0",
        "FwpsCompleteClassify0",
        "FwpsReleaseClassifyHandle0",
        "FwpsAcquireWritableLayerDataPointer0",
        "FwpsApplyModifiedLayerData0",
        "FwpsRedirectHandleCreate0",
        "FwpsRedirectHandleDestroy0",
        "FwpsQueryConnectionRedirectState0",
    ] {
        assert!(imported.contains(ddi), "{ddi} is not imported: {image:?}");
    }
}
