//! Runs the ui cases with trybuild (see the crate docs).
#![allow(missing_docs, reason = "test")]

use std::process::Command;

fn toolchain() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    String::from_utf8(out.stdout).ok()?.split_whitespace().nth(1).map(str::to_owned)
}

#[test]
fn ui() {
    use std::io::Write as _;
    let pinned = include_str!("ui/TOOLCHAIN").trim();
    let current = toolchain().unwrap_or_default();
    if current != pinned {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the ui cases' .stderr files are rustc {pinned}'s; this is rustc {current}"
        );
        return;
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/pool/*.rs");
    t.compile_fail("tests/ui/nbl/*.rs");
    t.compile_fail("tests/ui/clone/*.rs");
    t.compile_fail("tests/ui/context/*.rs");
    t.compile_fail("tests/ui/args/*.rs");
    t.compile_fail("tests/ui/wfp/*.rs");
    t.compile_fail("tests/ui/filter/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
