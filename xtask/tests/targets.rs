//! The -sys crates compile for both Windows targets: their bindgen layout
//! assertions are compile-time, so this proves the generated layouts equal
//! the C compiler's on x86_64 and aarch64 Windows, and that every declared
//! name exists there (the `declared` tests are type-checked too).

fn check(target: &str) {
    if let Some(missing) = xtask::missing_target(target) {
        xtask::skip(&missing);
        return;
    }
    let root = xtask::workspace_root();
    let out = xtask::cargo()
        .current_dir(&root)
        .args(["check", "--quiet", "-p", "ndis-sys", "-p", "fwps-sys", "--tests", "--features", "fwps-sys/link"])
        .args(["--target", target])
        .env("CARGO_TARGET_DIR", root.join("target").join("cross-check"))
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "{target}:\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bindings_compile_for_x86_64_windows() {
    check("x86_64-pc-windows-msvc");
}

#[test]
fn bindings_compile_for_aarch64_windows() {
    check("aarch64-pc-windows-msvc");
}
