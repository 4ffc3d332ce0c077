//! The -sys crates compile for both Windows targets: their bindgen layout
//! assertions are compile-time, so this proves the generated layouts equal
//! the C compiler's on x86_64 and aarch64 Windows, and that every declared
//! name exists there (the `declared` tests are type-checked too).

/// The NDIS version features of ndis-sys (`ndisNNN`): every one selects a
/// version of its own (the regen tests check that the generated files name
/// each).
fn ndis_features(root: &std::path::Path) -> Vec<String> {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("ndis-sys/Cargo.toml")).unwrap()).unwrap();
    let generated = std::fs::read_to_string(root.join("ndis-sys/src/generated/x86_64.rs")).unwrap();
    let features: Vec<String> = manifest["features"]
        .as_table()
        .unwrap()
        .keys()
        .filter(|name| name.starts_with("ndis6"))
        .filter(|name| *name == "ndis630" || generated.contains(&format!("feature = \"{name}\"")))
        .cloned()
        .collect();
    assert!(features.len() >= 2, "ndis-sys has NDIS version features: {features:?}");
    features
}

/// Checks both -sys crates (with their tests) for `target`, once per NDIS
/// version feature: every version's layouts are asserted.
fn check(target: &str) {
    if let Some(missing) = xtask::missing_target(target) {
        xtask::skip(&missing);
        return;
    }
    let root = xtask::workspace_root();
    for feature in ndis_features(&root) {
        let out = xtask::cargo()
            .current_dir(&root)
            .args(["check", "--quiet", "-p", "ndis-sys", "-p", "fwps-sys", "--tests"])
            .args(["--features", &format!("fwps-sys/link,ndis-sys/{feature}")])
            .args(["--target", target])
            .env("CARGO_TARGET_DIR", xtask::target_dir(&root).join("cross-check"))
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "{target}, {feature}:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn bindings_compile_for_x86_64_windows() {
    check("x86_64-pc-windows-msvc");
}

#[test]
fn bindings_compile_for_aarch64_windows() {
    check("aarch64-pc-windows-msvc");
}

#[test]
fn the_workspace_is_found_at_run_time_from_the_current_folder() {
    let here = std::env::current_dir().unwrap();
    let root = xtask::find_workspace(&here).expect("tests run inside the workspace");
    assert!(std::fs::read_to_string(root.join("Cargo.toml")).unwrap().contains("[workspace]"));
    // Another checkout is found from inside it, not this one.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(other.path().join("a/b")).unwrap();
    assert_eq!(xtask::find_workspace(&other.path().join("a/b")).unwrap(), other.path());
}
