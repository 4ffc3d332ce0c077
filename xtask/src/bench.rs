//! `cargo xtask bench`: the measurements BENCHMARKS.md reports, each one
//! reproducible with this command alone.
//!
//! Instruction counts come from callgrind (repeatable for the same binary
//! and input); wall times are reported where they are the figure asked for,
//! with the machine they were taken on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// Builds the benchmark targets in release mode and returns the executable
/// of `bench` in `package`.
pub fn build_bench(root: &Path, package: &str, bench: &str) -> Result<PathBuf, Error> {
    let stdout = crate::run(
        crate::cargo().current_dir(root).args([
            "bench",
            "--no-run",
            "--message-format=json",
            "-p",
            package,
            "--bench",
            bench,
        ]),
        &format!("building {package}'s {bench}"),
    )?;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["target"]["name"] == bench
            && let Some(exe) = msg["executable"].as_str()
        {
            return Ok(PathBuf::from(exe));
        }
    }
    Err(Error::new(format!("cargo did not report the {bench} executable")))
}

/// Instructions callgrind counts inside `function` (inclusive).
pub fn callgrind(exe: &Path, function: &str, args: &[&str]) -> Result<u64, Error> {
    let out_file = std::env::temp_dir().join(format!("ndis-rs-callgrind-{function}-{}.out", std::process::id()));
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", &format!("--toggle-collect={function}")])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(args)
        .output()
        .map_err(|e| Error::new(format!("cannot run valgrind ({e}); install it (Debian: apt-get install valgrind)")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_file(&out_file);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1).and_then(|n| n.trim().parse().ok()))
        .ok_or_else(|| Error::new(format!("callgrind reported no count for {function}:\n{stderr}")))
}

/// Runs every benchmark; returns the report (Markdown).
pub fn run(root: &Path) -> Result<String, Error> {
    let mut report = String::new();
    let machine = machine();
    let _ = writeln!(report, "Machine: {machine}\n");

    // (a) ndis-safe against the raw DDIs, same work, both on ndis-sim.
    let zero_cost = build_bench(root, "ndis-safe", "zero_cost")?;
    let n = 20_000;
    let safe = callgrind(&zero_cost, "ndis_rs_workload_safe", &["safe", &n.to_string()])?;
    let raw = callgrind(&zero_cost, "ndis_rs_workload_raw", &["raw", &n.to_string()])?;
    let ratio = safe as f64 / raw as f64;
    let _ = writeln!(
        report,
        "## ndis-safe / raw -sys, instructions (callgrind)\n\n\
         Allocate an NBL with a context from a pool, clone it (FWPS), retreat the clone past its \
         unused space (NDIS chains an MDL), undo, free the clone, free the NBL; {n} iterations on ndis-sim.\n\n\
         | path | instructions | per iteration |\n|---|---:|---:|\n\
         | ndis-safe | {safe} | {:.0} |\n| raw ndis-sys / fwps-sys | {raw} | {:.0} |\n\n\
         **Ratio: {ratio:.4}** (target ≤ 1.01)\n",
        safe as f64 / f64::from(n),
        raw as f64 / f64::from(n)
    );

    // (b) the sample driver's code size, with ndis-safe and with raw calls.
    match crate::driver::missing_tool() {
        Some(missing) => {
            let _ = writeln!(report, "## Sample driver .text size\n\nnot measured: {missing}\n");
        }
        None => {
            let dir = root.join("target").join("bench-driver");
            let safe = crate::driver::build_with(root, &dir.join("safe"), &[])?;
            let safe = crate::driver::text_size(&safe)?;
            let raw = crate::driver::build_with(root, &dir.join("raw"), &["raw"])?;
            let raw = crate::driver::text_size(&raw)?;
            let _ = writeln!(
                report,
                "## Sample driver .text size (release, x86_64-pc-windows-msvc, lld-link)\n\n\
                 The same callout — reference, retreat, clone, advance, inject, completion that frees and \
                 dereferences — in `samples/wfp-inspect`, built with ndis-safe and with raw calls \
                 (the `raw` feature).\n\n| driver | .text bytes |\n|---|---:|\n\
                 | ndis-safe | {safe} |\n| raw ndis-sys / fwps-sys | {raw} |\n\n**Ratio: {:.4}** (target ≤ 1.02)\n",
                safe as f64 / raw as f64
            );
        }
    }

    // (c) clean build time of the -sys crates against windows-sys.
    let _ = writeln!(report, "{}", build_times(root)?);

    // (d) regen wall time, when a kit is at hand.
    let _ = writeln!(report, "{}", regen_time(root));

    // (a, continued) the inspect path, with injection.
    let n = 5_000;
    let safe = callgrind(&zero_cost, "ndis_rs_inspect_safe", &["inspect-safe", &n.to_string()])?;
    let raw = callgrind(&zero_cost, "ndis_rs_inspect_raw", &["inspect-raw", &n.to_string()])?;
    let _ = writeln!(
        report,
        "## ndis-safe / raw -sys, the inspect path with injection (callgrind)\n\n\
         For each of {n} packets the stack lends: query the injection state, reference, retreat over the \
         IP header, clone (FWPS, with a context), advance back, inject (transport receive; the simulator \
         completes it at once), and in the completion free the clone and release the reference.\n\n\
         | path | instructions | per packet |\n|---|---:|---:|\n\
         | ndis-safe | {safe} | {:.0} |\n| raw ndis-sys / fwps-sys | {raw} | {:.0} |\n\n**Ratio: {:.4}** (target ≤ 1.01)\n",
        safe as f64 / f64::from(n),
        raw as f64 / f64::from(n),
        safe as f64 / raw as f64
    );

    // (e) simulator throughput.
    let exe = build_bench(root, "ndis-sim", "alloc_free")?;
    let out = Command::new(&exe).env("PAIRS", "5000000").output().map_err(|e| Error::new(e.to_string()))?;
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let instructions = callgrind(&exe, "ndis_sim_bench_pairs", &["count", "200000"])
        .map(|i| format!("{:.0} instructions a pair (callgrind, 200000 pairs)", i as f64 / 200_000.0))
        .unwrap_or_else(|e| format!("(callgrind: {e})"));
    let _ = writeln!(report, "## ndis-sim NBL allocate + free, verifier on\n\n{line}\n\n{instructions}\n");
    Ok(report)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = crate::rustc()
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {} {}; {rustc}", std::env::consts::OS, std::env::consts::ARCH)
}

/// One clean `cargo build` of a scratch project, timed.
fn timed_build(dir: &Path) -> Result<f64, Error> {
    let target = dir.join("target");
    let _ = std::fs::remove_dir_all(&target);
    crate::run(
        crate::cargo().current_dir(dir).args(["fetch", "--quiet"]),
        &format!("cargo fetch in {}", dir.display()),
    )?;
    let start = std::time::Instant::now();
    crate::run(
        crate::cargo()
            .current_dir(dir)
            .args(["build", "--quiet", "--offline", "--target", crate::driver::TARGET])
            .env("CARGO_TARGET_DIR", &target),
        &format!("the build in {}", dir.display()),
    )?;
    Ok(start.elapsed().as_secs_f64())
}

/// (c): ndis-sys + fwps-sys against windows-sys with its NDIS and WFP
/// features, each a clean build of a scratch crate, best of three.
fn build_times(root: &Path) -> Result<String, Error> {
    let scratch = root.join("target").join("bench-build");
    let ours = scratch.join("ours");
    let theirs = scratch.join("windows-sys");
    for dir in [&ours, &theirs] {
        std::fs::create_dir_all(dir.join("src")).map_err(|e| Error::new(e.to_string()))?;
        std::fs::write(dir.join("src/lib.rs"), "#![no_std]\n").map_err(|e| Error::new(e.to_string()))?;
    }
    let manifest = |name: &str, deps: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\n{deps}\n\n[workspace]\n"
        )
    };
    let sys = |c: &str| root.join(c).display().to_string();
    std::fs::write(
        ours.join("Cargo.toml"),
        manifest(
            "bench-ours",
            &format!("ndis-sys = {{ path = {:?} }}\nfwps-sys = {{ path = {:?} }}", sys("ndis-sys"), sys("fwps-sys")),
        ),
    )
    .map_err(|e| Error::new(e.to_string()))?;
    std::fs::write(
        theirs.join("Cargo.toml"),
        manifest(
            "bench-windows-sys",
            "windows-sys = { version = \"0.61\", features = [\"Wdk_NetworkManagement_Ndis\", \"Wdk_NetworkManagement_WindowsFilteringPlatform\"] }",
        ),
    )
    .map_err(|e| Error::new(e.to_string()))?;
    let best = |dir: &Path| -> Result<f64, Error> {
        let mut best = f64::MAX;
        for _ in 0..3 {
            best = best.min(timed_build(dir)?);
        }
        Ok(best)
    };
    let (a, b) = (best(&ours)?, best(&theirs)?);
    Ok(format!(
        "## Clean build time, x86_64-pc-windows-msvc (best of 3, same machine, same run)\n\n\
         | crates | seconds |\n|---|---:|\n| ndis-sys + fwps-sys | {a:.2} |\n\
         | windows-sys 0.61, features Wdk_NetworkManagement_Ndis + Wdk_NetworkManagement_WindowsFilteringPlatform | {b:.2} |\n\n\
         **Ratio: {:.3}** (target ≤ 1.0)\n",
        a / b
    ))
}

/// (d): `cargo xtask regen --check` wall time against the kit in WDK_ROOT.
fn regen_time(root: &Path) -> String {
    let Some(kit) = std::env::var_os("WDK_ROOT").filter(|v| !v.is_empty()) else {
        return "## cargo xtask regen wall time\n\nnot measured: WDK_ROOT names no kit on this machine\n".to_owned();
    };
    let args = crate::RegenArgs { wdk: Some(PathBuf::from(kit)), wdk_version: None, ndis: None, check: true };
    let start = std::time::Instant::now();
    let result = crate::regen(&args, &crate::sys_crates(root), root);
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(what) => format!(
            "## cargo xtask regen wall time\n\n{secs:.1} s to generate ndis-sys, fwps-sys and the sample's kernel \
             bindings for x86_64 and aarch64 in memory and compare them with the checked-in files ({what}).\n"
        ),
        Err(e) => format!("## cargo xtask regen wall time\n\nfailed after {secs:.1} s: {e}\n"),
    }
}
