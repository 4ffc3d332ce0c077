//! `cargo xtask <command>`: see `cargo xtask help`.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{Error, RegenArgs};

const HELP: &str = "\
cargo xtask <command>

commands:
  regen [--wdk DIR] [--wdk-version V] [--ndis NNN] [--check] [--every-version]
        Generate ndis-sys and fwps-sys from a Windows Driver Kit's headers.
        DIR: a \"Windows Kits/10\" folder or an unpacked WDK NuGet package
        (default: $WDK_ROOT, $WDKContentRoot, then the Windows install path).
        V: the kit version folder, e.g. 10.0.26100.0 (default: the newest).
        NNN: the default NDIS version macro, e.g. 630 for NDIS630 (default:
        630; the others a crate ships are its bindings.toml's ndis_versions).
        Prints the census: per bound header, what the kit declares, what is
        bound and what each exclusion rule leaves out.
        --check: generate in memory and fail if a checked-in file differs or
        the kit declares an item neither bound nor excluded by a rule.
        --every-version: run bindgen for every NDIS version a crate ships
        instead of assembling those between its ndis_generate versions from
        them (slow); with --check it proves the assembled files exact.
        NDIS_RS_REGEN_TIMES=1 prints each job's time.
  bless Rewrite the ui-tests' .stderr files from what the compiler says now
        (TRYBUILD=overwrite), and record the toolchain they belong to.
  driver
        Link the sample callout drivers and the sample filter into
        target/x86_64-pc-windows-msvc/release/{wfp_inspect,wfp_firewall,ndis_filter}.sys
        (lld-link, import libraries from .def files made with llvm-dlltool)
        and list their subsystems and imports.
  fuzz [--seconds N]
        Drive the whole ndis-safe API on ndis-sim with random operations
        (the model-based test, release build, a fresh seed) for half of N
        seconds (default 600); report operations, verifier reports and
        leaks. Its leak rounds mem::forget every guard and owned type at
        random (and unwind through the library's scopes): only leaks may
        follow. The other half is shared by the samples: the filter on the
        simulated filter stack (random traffic, pauses, restarts), the
        inspect callouts on the simulated filter engine (malformed packets:
        truncated and lying headers, IPv4 options, IPv6 extension headers,
        split across many MDLs) and the firewall (random connections, rules,
        ticks and unloads).
  bench [--driver-side]
        Run the benchmarks (callgrind instruction ratios, throughput) and
        write BENCHMARKS.md (keeping its hand-written analysis at the end).
        With --driver-side, only the driver-side instruction table and its
        calibration, printed (seconds once the bench is built; nothing
        written).
  help  Print this.
";

const BENCHMARKS_HEAD: &str = "\
# Benchmarks

Written by `cargo xtask bench` (needs valgrind); every figure below comes from one run of it.
Instruction counts (callgrind) are repeatable for the same binaries and inputs; wall-clock
figures depend on the machine named below.
";

fn parse_regen(mut args: impl Iterator<Item = String>) -> Result<RegenArgs, Error> {
    let mut out = RegenArgs::default();
    while let Some(arg) = args.next() {
        let mut value =
            |name: &str| args.next().ok_or_else(|| Error::new(format!("{name} needs a value; see `cargo xtask help`")));
        match arg.as_str() {
            "--wdk" => out.wdk = Some(PathBuf::from(value("--wdk")?)),
            "--wdk-version" => out.wdk_version = Some(value("--wdk-version")?),
            "--ndis" => out.ndis = Some(value("--ndis")?),
            "--check" => out.check = true,
            "--every-version" => out.every_version = true,
            other => {
                return Err(Error::new(format!("unknown argument `{other}`; see `cargo xtask help`")));
            }
        }
    }
    Ok(out)
}

fn run() -> Result<String, Error> {
    let mut args = std::env::args().skip(1);
    // The regen's libclang jobs run in processes of this binary.
    if let Ok(exe) = std::env::current_exe() {
        xtask::regen::use_job_exe(exe);
    }
    match args.next().as_deref() {
        // One libclang job of a regen (internal: not in the help).
        Some("regen-job") => {
            let spec = args.next().ok_or_else(|| Error::new("regen-job takes a job file"))?;
            xtask::regen::run_job(std::path::Path::new(&spec)).map(|()| String::new())
        }
        Some("regen") => {
            let regen = parse_regen(args)?;
            let root = xtask::workspace_root();
            let (census, done) = xtask::regen_with_census(&regen, &xtask::sys_crates(&root), &root)?;
            Ok(format!("{census}{done}"))
        }
        Some("bless") => bless(),
        Some("fuzz") => {
            let seconds: u64 = match (args.next().as_deref(), args.next()) {
                (Some("--seconds"), Some(n)) => n.parse().map_err(|_| Error::new("--seconds takes a number"))?,
                (None, _) => 600,
                _ => return Err(Error::new("usage: cargo xtask fuzz [--seconds N]")),
            };
            fuzz(seconds)
        }
        Some("driver") => {
            let root = xtask::workspace_root();
            let mut out = String::new();
            for sample in [xtask::driver::WFP_INSPECT, xtask::driver::WFP_FIREWALL, xtask::driver::NDIS_FILTER] {
                let sys = xtask::driver::build_sample(&root, &xtask::target_dir(&root), sample, &[])?;
                let image = xtask::driver::inspect(&sys)?;
                out.push_str(&format!("{}\n  subsystem: {}\n", sys.display(), image.subsystem));
                for (module, functions) in image.imports {
                    out.push_str(&format!("  imports from {module}: {}\n", functions.join(", ")));
                }
            }
            Ok(out.trim_end().to_owned())
        }
        Some("bench") => {
            let root = xtask::workspace_root();
            match args.next().as_deref() {
                None => {}
                Some("--driver-side") => return Ok(xtask::bench::driver_side(&root)?.report),
                Some(other) => return Err(Error::new(format!("unknown argument `{other}`; see `cargo xtask help`"))),
            }
            let report = xtask::bench::run(&root)?;
            let path = root.join("BENCHMARKS.md");
            // The analysis at the end of the file is written by hand; keep it.
            let kept = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.find(xtask::bench::KEPT_SECTION).map(|i| format!("\n{}", &t[i..])))
                .unwrap_or_default();
            let text = format!("{}\n\n{report}{kept}", BENCHMARKS_HEAD.trim_end());
            std::fs::write(&path, text).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
            Ok(format!("{report}\nwritten to {}", path.display()))
        }
        None | Some("help" | "--help" | "-h") => Ok(HELP.trim_end().to_owned()),
        Some(other) => Err(Error::new(format!("unknown command `{other}`; see `cargo xtask help`"))),
    }
}

/// `cargo xtask bless`: the only way the ui .stderr files are written.
fn bless() -> Result<String, Error> {
    let root = xtask::workspace_root();
    let version = xtask::run(xtask::rustc().arg("--version"), "rustc --version")?;
    let version = version.split_whitespace().nth(1).unwrap_or("").to_owned();
    let pin = root.join("ui-tests/tests/ui/TOOLCHAIN");
    std::fs::write(&pin, format!("{version}\n"))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", pin.display())))?;
    let status = xtask::cargo()
        .current_dir(&root)
        .args(["test", "-p", "ui-tests"])
        .env("TRYBUILD", "overwrite")
        .status()
        .map_err(|e| Error::new(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(format!("ui .stderr files blessed with rustc {version}; review them with git diff"))
    } else {
        Err(Error::new("the ui tests failed; see above"))
    }
}

/// `cargo xtask fuzz`: the model-based test of the whole API for half the
/// time, then the sample filter under random traffic on the simulated
/// filter stack and the two WFP samples under malformed packets and random
/// connections on the simulated filter engine, a sixth each, with a fresh
/// seed.
fn fuzz(seconds: u64) -> Result<String, Error> {
    let root = xtask::workspace_root();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let mut reports = Vec::new();
    // Half for the model-based test of the whole API, the other half shared
    // by the three samples' fuzzes (the filter on the simulated filter
    // stack, the two WFP callout drivers on the simulated filter engine).
    let sample = seconds / 6;
    for (package, test, var, time, prefix) in [
        ("ndis-safe", "model", "NDIS_RS_MODEL", seconds - 3 * sample, "model:"),
        ("ndis-filter", "fuzz", "NDIS_RS_FILTER_FUZZ", sample, "filter fuzz:"),
        ("wfp-inspect", "fuzz", "NDIS_RS_INSPECT_FUZZ", sample, "inspect fuzz:"),
        ("wfp-firewall", "fuzz", "NDIS_RS_FIREWALL_FUZZ", sample, "firewall fuzz:"),
    ] {
        let out = xtask::cargo()
            .current_dir(&root)
            .args(["test", "--release", "-p", package, "--test", test, "--", "--nocapture"])
            .env(format!("{var}_SECONDS"), time.to_string())
            .env(format!("{var}_SEED"), seed.to_string())
            .output()
            .map_err(|e| Error::new(format!("cannot run cargo: {e}")))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(Error::new(format!(
                "the fuzz run of {package} --test {test} failed (seed {seed}; rerun with {var}_SEED={seed}):\n{stderr}"
            )));
        }
        let report = stderr.lines().find(|l| l.starts_with(prefix)).unwrap_or("no report").to_owned();
        reports.push(format!("{time} s: {}", report.trim_start_matches("model: ")));
    }
    Ok(format!("fuzz, {seconds} s: {}", reports.join("; ")))
}

fn main() -> ExitCode {
    match run() {
        Ok(msg) if msg.is_empty() => ExitCode::SUCCESS,
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
