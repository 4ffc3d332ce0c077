//! The -sys crates compile for both Windows targets: their bindgen layout
//! assertions are compile-time, so this proves the generated layouts equal
//! the C compiler's on x86_64 and aarch64 Windows, and that every declared
//! name exists there (the `declared` tests are type-checked too).

use std::path::Path;
use std::process::Command;

fn installed(target: &str) -> bool {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Path::new(&sysroot).join("lib/rustlib").join(target).join("lib").is_dir()
}

fn check(target: &str) {
    if !installed(target) {
        xtask::skip(&format!("the {target} standard library is not installed (rustup target add {target})"));
        return;
    }
    let root = xtask::workspace_root();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
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
