//! `cargo xtask bench`: the measurements BENCHMARKS.md reports, each one
//! reproducible with this command alone.
//!
//! Instruction counts come from callgrind (repeatable for the same binary
//! and input); wall times are reported where they are the figure asked for,
//! with the machine they were taken on. The driver-side counts — the
//! instructions the driver's own code executes, without the DDIs' — are
//! computed by [`mod@callgrind`] from the workloads `ndis-safe/benches/zero_cost.rs`
//! lists.

pub mod callgrind;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// Builds the benchmark targets in release mode and returns the executable
/// of `bench` in `package`.
pub fn build_bench(root: &Path, package: &str, bench: &str) -> Result<PathBuf, Error> {
    let stdout = crate::run(
        crate::cargo()
            .current_dir(root)
            // Line tables, for the per-line attribution: the same machine
            // code (checked: the counts are those of a build without them).
            .env("CARGO_PROFILE_BENCH_DEBUG", "line-tables-only")
            .args(["bench", "--no-run", "--message-format=json-render-diagnostics", "-p", package, "--bench", bench]),
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

    // (a) ndis-safe against the raw DDIs: driver-side instructions.
    let table = driver_side(root)?;
    let _ = writeln!(report, "{}", table.report);

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
    let args = crate::RegenArgs {
        wdk: Some(PathBuf::from(kit)),
        wdk_version: None,
        ndis: None,
        check: true,
        every_version: false,
    };
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

/// The heading of BENCHMARKS.md's hand-written analysis, which
/// `cargo xtask bench` keeps, with everything after it, when it rewrites the
/// file.
pub const KEPT_SECTION: &str = "## Where the safe layer's instructions go";

/// Iterations of each workload under callgrind.
pub const ITERATIONS: u32 = 2_000;

/// The driver instructions by which a calibration pair differs, an
/// iteration (`NOPS` in the bench).
const NOPS: u64 = 100;

/// The most driver-side instructions an iteration of a loop that only
/// calls a DDI may count: the loop's own and the call's.
const CALL_ONLY_MAX: u64 = 10;

/// The crates whose code is the driver's (the rest of the bench binary is
/// the simulator's or neutral).
const DRIVER_CRATES: [&str; 3] = ["ndis_safe", "zero_cost", "wfp_inspect"];

/// A workload as the bench binary lists it.
#[derive(Debug)]
struct Workload {
    /// `path` (variants safe, raw) or `check` (variants nops, plain).
    kind: String,
    name: String,
    roots: [String; 2],
    about: String,
}

impl Workload {
    fn variants(&self) -> [&'static str; 2] {
        if self.kind == "check" { ["nops", "plain"] } else { ["safe", "raw"] }
    }
}

/// One workload's two variants, measured.
#[derive(Debug)]
pub struct Measured {
    /// The workload's name.
    pub name: String,
    /// `path` or `check`.
    pub kind: String,
    /// What it does.
    pub about: String,
    /// Its variants (safe, raw / nops, plain).
    pub variants: [&'static str; 2],
    /// Each variant's split.
    pub splits: [callgrind::Split; 2],
}

/// The driver-side table and its validation: every workload of the
/// zero-cost bench, both variants, under callgrind.
pub struct DriverSide {
    /// The report (Markdown).
    pub report: String,
    /// The figures.
    pub measured: Vec<Measured>,
}

/// Measures every workload `ndis-safe/benches/zero_cost.rs` lists, checks
/// the method against the calibration workloads and reports.
pub fn driver_side(root: &Path) -> Result<DriverSide, Error> {
    let exe = build_bench(root, "ndis-safe", "zero_cost")?;
    let list = crate::run(Command::new(&exe).arg("list"), "zero_cost list")?;
    let workloads: Vec<Workload> = list
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            match f[..] {
                [kind, name, a, b, about] => Ok(Workload {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    roots: [a.to_owned(), b.to_owned()],
                    about: about.to_owned(),
                }),
                _ => Err(Error::new(format!("zero_cost list: cannot read `{line}`"))),
            }
        })
        .collect::<Result<_, _>>()?;
    let roots: Vec<&str> = workloads.iter().flat_map(|w| w.roots.iter().map(String::as_str)).collect();
    let sides = callgrind::Sides::for_workspace(root, &DRIVER_CRATES, &roots)?;
    let n = ITERATIONS.to_string();
    let mut measured = Vec::new();
    for w in &workloads {
        let variants = w.variants();
        let mut splits = Vec::new();
        for (root_fn, variant) in w.roots.iter().zip(variants) {
            let split = callgrind::profile(&exe, root_fn, &["run", &w.name, variant, &n])?.split(&sides);
            let what = format!("{} {variant} ({root_fn})", w.name);
            if split.total == 0 {
                return Err(Error::new(format!("{what}: callgrind collected nothing; is the root's name right?")));
            }
            if split.unknown != 0 {
                return Err(Error::new(format!(
                    "{what}: {} instructions on call chains that name neither the driver nor the simulator",
                    split.unknown
                )));
            }
            if split.by_call_graph != Some(split.driver) {
                return Err(Error::new(format!(
                    "{what}: the call graph gives {:?} driver instructions, the call chains {}",
                    split.by_call_graph, split.driver
                )));
            }
            splits.push(split);
        }
        let [a, b]: [callgrind::Split; 2] = splits.try_into().map_err(|_| Error::new("two variants"))?;
        measured.push(Measured {
            name: w.name.clone(),
            kind: w.kind.clone(),
            about: w.about.clone(),
            variants,
            splits: [a, b],
        });
    }
    // The calibration: each pair differs by exactly NOPS driver
    // instructions an iteration, wherever they run; a loop that only calls
    // a DDI counts only the loop and the call.
    for m in measured.iter().filter(|m| m.kind == "check") {
        let [nops, plain] = [&m.splits[0], &m.splits[1]];
        let difference = nops.driver.checked_sub(plain.driver);
        if difference != Some(NOPS * u64::from(ITERATIONS)) {
            return Err(Error::new(format!(
                "calibration {}: the nops variant counts {} driver instructions, the plain one {}: \
                 a difference of {:?}, not {NOPS} × {ITERATIONS}",
                m.name, nops.driver, plain.driver, difference
            )));
        }
        if m.name == "check-ddi" && plain.driver > CALL_ONLY_MAX * u64::from(ITERATIONS) {
            return Err(Error::new(format!(
                "calibration check-ddi: a loop of DDI calls counts {} driver instructions in {ITERATIONS} \
                 iterations, more than {CALL_ONLY_MAX} an iteration",
                plain.driver
            )));
        }
    }
    let report = driver_side_report(root, &measured);
    Ok(DriverSide { report, measured })
}

/// A count per iteration.
fn per(count: u64) -> f64 {
    count as f64 / f64::from(ITERATIONS)
}

/// `file` relative to the workspace or the standard library.
fn short_file(root: &Path, file: &str) -> String {
    let root = format!("{}/", root.display());
    if let Some(rest) = file.strip_prefix(&root) {
        return rest.to_owned();
    }
    if let Some((_, rest)) = file.split_once("/library/") {
        return rest.to_owned();
    }
    if let Some((_, rest)) = file.split_once("/.cargo/registry/src/") {
        return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
    }
    file.to_owned()
}

/// The text of `file`'s line `line`, when the file is in the workspace.
fn source_line(root: &Path, file: &str, line: u64) -> Option<String> {
    let text = std::fs::read_to_string(root.join(file)).ok()?;
    let text = text.lines().nth(usize::try_from(line).ok()?.checked_sub(1)?)?.trim();
    let text: String = text.chars().take(70).collect();
    Some(text.replace('|', "\\|"))
}

fn driver_side_report(root: &Path, measured: &[Measured]) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "## ndis-safe / raw -sys: the driver's own instructions (callgrind)\n\n\
         Instructions per iteration that the driver's code executes — everything outside the DDIs and the \
         simulator, completion routines the simulator calls back included — through ndis-safe and through \
         the raw calls, {ITERATIONS} iterations each on ndis-sim; computed as \"Method\" below describes. \
         **Whole program** is everything executed inside the workload's root function, the simulator's DDIs \
         included: the figure earlier versions of this file reported, about 99% simulator.\n\n\
         | path | raw, driver-side | ndis-safe, driver-side | **ratio** | raw, whole program | ndis-safe, whole program | ratio, whole program |\n\
         |---|---:|---:|---:|---:|---:|---:|"
    );
    for m in measured.iter().filter(|m| m.kind == "path") {
        let [safe, raw] = &m.splits;
        let _ = writeln!(
            r,
            "| {} | {:.1} | {:.1} | **{:.2}** | {:.0} | {:.0} | {:.4} |",
            m.name,
            per(raw.driver),
            per(safe.driver),
            safe.driver as f64 / raw.driver as f64,
            per(raw.total),
            per(safe.total),
            safe.total as f64 / raw.total as f64
        );
    }
    let _ = writeln!(r, "\nTarget: ratio ≤ 1.10 on every path.\n");
    for m in measured.iter().filter(|m| m.kind == "path") {
        let _ = writeln!(r, "### {}\n\n{}.\n", m.name, m.about);
        for (split, variant) in m.splits.iter().zip(m.variants) {
            let mut by_file: BTreeMap<String, u64> = BTreeMap::new();
            for ((file, _), cost) in &split.by_line {
                *by_file.entry(short_file(root, file)).or_default() += cost;
            }
            let mut by_file: Vec<_> = by_file.into_iter().collect();
            by_file.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let files: Vec<String> = by_file.iter().map(|(f, c)| format!("`{f}` {:.1}", per(*c))).collect();
            let _ = writeln!(
                r,
                "{variant}, driver-side instructions per iteration by source file: {}.\n",
                files.join(", ")
            );
            let mut functions: Vec<_> = split.by_function.iter().collect();
            functions.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let functions: Vec<String> = functions.iter().map(|(f, c)| format!("`{f}` {:.1}", per(**c))).collect();
            let _ =
                writeln!(r, "{variant}, by function as compiled (what was not inlined): {}.\n", functions.join(", "));
        }
        let [safe, _] = &m.splits;
        let mut lines: Vec<_> = safe.by_line.iter().collect();
        lines.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(
            r,
            "The ndis-safe variant's driver-side instructions by source line (inlined code at its own line), the lines \
             with {:.0} or more an iteration:\n\n| line | per iteration | source |\n|---|---:|---|",
            1.0
        );
        for ((file, line), cost) in lines.into_iter().filter(|(_, c)| per(**c) >= 1.0) {
            let file = short_file(root, file);
            let text = source_line(root, &file, *line).map_or(String::new(), |t| format!("`{t}`"));
            let _ = writeln!(r, "| `{file}:{line}` | {:.1} | {text} |", per(*cost));
        }
        let _ = writeln!(r);
    }
    let _ = writeln!(r, "{}", METHOD.trim());
    let _ = writeln!(
        r,
        "\n### Validation\n\n\
         Each calibration pair differs by exactly {NOPS} `nop` instructions of driver code an iteration; \
         `cargo xtask bench` fails unless the driver-side counts differ by exactly {NOPS} × {ITERATIONS}, \
         unless a loop that only calls a DDI counts at most {CALL_ONLY_MAX} driver instructions an \
         iteration, unless every collected instruction is on a call chain that names the driver or the \
         simulator, and unless the call-graph figure equals the call-chain figure for every run.\n\n\
         | check | what | nops, driver-side | plain, driver-side | difference (expected {NOPS}) | plain, whole program |\n\
         |---|---|---:|---:|---:|---:|"
    );
    for m in measured.iter().filter(|m| m.kind == "check") {
        let [nops, plain] = &m.splits;
        let _ = writeln!(
            r,
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
            m.name,
            m.about,
            per(nops.driver),
            per(plain.driver),
            per(nops.driver) - per(plain.driver),
            per(plain.total)
        );
    }
    r
}

/// How the driver-side figures are computed (BENCHMARKS.md's "Method").
const METHOD: &str = "
### Method

Each workload is a pair of `#[no_mangle]` root functions in `ndis-safe/benches/zero_cost.rs`, the
ndis-safe one and its raw twin, listed in its `WORKLOADS` table with the setup that calls them
(`zero_cost list` prints the table; measuring one more path, such as the typed classify or the filter
pass-through, is one more row). `cargo xtask bench` builds the bench with line tables (the same machine
code) and runs each root under callgrind with collection on only inside the root
(`--toggle-collect=ROOT --collect-atstart=no`) and every function's cost kept apart by the whole chain
of its callers (`--separate-callers=200 --separate-recs=1`). It then reads the `callgrind.out` file
itself (`xtask/src/bench/callgrind.rs`) and classifies every function by the crate that defines it:

* **the simulator**: every function of `ndis_sim` — its internals, its verifier, its test API
  (`ndis_sim::set_injection_mode`, …) — and every DDI entry point it exports under its Windows name
  (each `#[no_mangle]` function in `ndis-sim/src`, read from the source: `Ndis*`, `Fwps*`, …);
* **the driver**: every function of `ndis_safe`, of the bench (`zero_cost`) and of the sample
  (`wfp_inspect`), and the roots;
* **neutral**: everything else — `core`, `alloc`, `std`, the -sys crates' accessors, libc's `memcpy`
  and `malloc`, drop glue — which runs on behalf of whoever calls it.

An instruction is the driver's when the nearest classified function on its call chain (the function
itself, then its caller, and so on) is driver code. So a DDI's whole body is excluded, with the
allocation, hashing and formatting the simulator does inside it; a completion routine (or any
callback) the simulator calls from inside a DDI is driver code again, and the DDIs it calls are
excluded again; a `memcpy` counts for the side that called it.

The same profile gives the figure a second way, from the call graph alone: the root's inclusive cost,
minus the inclusive cost of every call from driver code into a simulator function, plus the inclusive
cost of every call from the simulator back into driver code. The two must agree to the instruction.

What stays on the driver's side of a call is what a driver pays on Windows too: the argument set-up,
the `call` itself, and whatever the driver does with the result; the DDI's own instructions (its
`ret` included) are not counted. The driver-side count is therefore the same whatever the simulator
does inside a DDI — its verifier, its names, its allocator — which the calibration below checks.
";
