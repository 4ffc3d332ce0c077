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
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["bench", "--no-run", "--message-format=json", "-p", package, "--bench", bench])
        .output()
        .map_err(|e| Error::new(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "building {package}'s {bench} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
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
    let exe = build_bench(root, "ndis-safe", "zero_cost")?;
    let n = "20000";
    let safe = callgrind(&exe, "ndis_rs_workload_safe", &["safe", n])?;
    let raw = callgrind(&exe, "ndis_rs_workload_raw", &["raw", n])?;
    let ratio = safe as f64 / raw as f64;
    let _ = writeln!(
        report,
        "## ndis-safe / raw -sys, instructions (callgrind)\n\n\
         Allocate an NBL with a context from a pool, clone it (FWPS), retreat the clone past its \
         unused space (NDIS chains an MDL), undo, free the clone, free the NBL; {n} iterations on ndis-sim.\n\n\
         | path | instructions | per iteration |\n|---|---:|---:|\n\
         | ndis-safe | {safe} | {:.0} |\n| raw ndis-sys / fwps-sys | {raw} | {:.0} |\n\n\
         **Ratio: {ratio:.4}** (target ≤ 1.01)\n",
        safe as f64 / 20000.0,
        raw as f64 / 20000.0
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
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {} {}; {rustc}", std::env::consts::OS, std::env::consts::ARCH)
}
