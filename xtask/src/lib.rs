//! The ndis-rs workspace's development commands, as a library so that their
//! tests can drive them. The binary (`cargo xtask …`) is a thin shell over it.

pub mod bench;
pub mod census;
pub mod driver;
pub mod kit;
pub mod overlay;
pub mod regen;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A failure with one message that says what to do about it.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The workspace's root folder, found at run time: the nearest folder, from
/// the current one up, whose `Cargo.toml` has a `[workspace]` table (cargo
/// runs `cargo xtask` and the tests inside the checkout they belong to). A
/// path baked in at build time would let a stale binary write into another
/// checkout. Falls back to the current folder.
pub fn workspace_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    find_workspace(&cwd).unwrap_or(cwd)
}

/// The nearest folder from `start` up whose `Cargo.toml` declares a workspace.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        text.lines().any(|l| l.trim() == "[workspace]").then(|| dir.to_path_buf())
    })
}

/// Where cargo puts build output: `$CARGO_TARGET_DIR` (relative to the
/// current folder, as cargo reads it) when set, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { std::env::current_dir().map_or(dir.clone(), |cwd| cwd.join(&dir)) }
        }
        None => root.join("target"),
    }
}

/// A `cargo` command: the cargo running this one (`$CARGO`), else `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A `rustc` command: the toolchain's (`$RUSTC`), else `rustc`.
pub fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

/// Runs `cmd` to completion; returns its stdout, or an error naming `what`
/// with everything it printed.
pub fn run(cmd: &mut Command, what: &str) -> Result<String, Error> {
    let out = cmd.output().map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Why `target`'s standard library cannot be used, with how to install it;
/// `None` when it is installed.
pub fn missing_target(target: &str) -> Option<String> {
    let sysroot = rustc().args(["--print", "sysroot"]).output().ok()?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    (!Path::new(&sysroot).join("lib/rustlib").join(target).join("lib").is_dir())
        .then(|| format!("the {target} standard library is not installed (rustup target add {target})"))
}

/// The crates with generated bindings, in generation order (fwps-sys
/// reuses ndis-sys; the sample driver's kernel bindings reuse both).
pub fn sys_crates(root: &Path) -> Vec<regen::CrateSpec> {
    [("ndis-sys", "ndis-sys"), ("fwps-sys", "fwps-sys"), ("wfp-inspect", "samples/wfp-inspect")]
        .into_iter()
        .map(|(name, dir)| regen::CrateSpec { name: name.to_owned(), dir: root.join(dir) })
        .collect()
}

/// The version of a package as the workspace's Cargo.lock pins it.
pub fn locked_version(root: &Path, package: &str) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let needle = format!("name = \"{package}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|at| {
            let rest = &lock[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Options of `cargo xtask regen`.
#[derive(Debug, Clone, Default)]
pub struct RegenArgs {
    /// `--wdk DIR`
    pub wdk: Option<PathBuf>,
    /// `--wdk-version V`
    pub wdk_version: Option<String>,
    /// `--ndis NNN` (default 630)
    pub ndis: Option<String>,
    /// `--check`
    pub check: bool,
    /// `--every-version`: run bindgen for every NDIS version a crate ships,
    /// none assembled (slow; proves the assembled ones exact: with
    /// `--check`, the checked-in files must come out the same).
    pub every_version: bool,
}

impl RegenArgs {
    /// The command named in the generated files' preamble: the options that
    /// change what is generated (the kit's version is named on its own line).
    pub fn command(&self) -> String {
        let mut cmd = String::from("cargo xtask regen");
        if let Some(n) = self.ndis.as_deref().filter(|n| *n != DEFAULT_NDIS) {
            cmd.push_str(&format!(" --ndis {n}"));
        }
        cmd
    }
}

/// The NDIS contract version the checked-in bindings are generated for.
pub const DEFAULT_NDIS: &str = "630";

/// Runs a regen (or a check) of `crates` from the kit the arguments select.
/// Returns what was done, for printing.
pub fn regen(args: &RegenArgs, crates: &[regen::CrateSpec], lock_root: &Path) -> Result<String, Error> {
    regen_with_census(args, crates, lock_root).map(|(_, done)| done)
}

/// [`regen()`], also returning the census table (what each crate binds of the
/// headers it binds whole, and what it excludes by which rule).
pub fn regen_with_census(
    args: &RegenArgs,
    crates: &[regen::CrateSpec],
    lock_root: &Path,
) -> Result<(String, String), Error> {
    let ndis = args.ndis.clone().unwrap_or_else(|| DEFAULT_NDIS.to_owned());
    if ndis.is_empty() || !ndis.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::new(format!(
            "--ndis takes the digits of an NDIS version macro, e.g. 630 for NDIS630 or 684 for NDIS684, not `{ndis}`"
        )));
    }
    let (root, source) = kit::root(args.wdk.as_deref())?;
    let kit = kit::find(&root, &source, args.wdk_version.as_deref())?;
    let settings = regen::Settings {
        ndis,
        command: args.command(),
        bindgen_version: locked_version(lock_root, "bindgen"),
        every_version: args.every_version,
    };
    let (outputs, censuses) = regen::generate(&kit, crates, &settings)?;
    let table = regen::census_table(&censuses);
    let unaccounted = regen::unaccounted(&censuses);
    if args.check {
        let stale = regen::check(&outputs);
        if stale.is_empty() && unaccounted == 0 {
            return Ok((table, format!("bindings are up to date with kit {} ({} files)", kit.version, outputs.len())));
        }
        let mut msg = table.clone();
        if unaccounted > 0 {
            msg.push_str(&format!(
                "kit {} declares {unaccounted} items neither bound nor excluded (listed above): bind them or \
                 add an exclusion rule to the crate's bindings.toml.\n",
                kit.version
            ));
        }
        if !stale.is_empty() {
            msg.push_str(&format!(
                "checked-in bindings differ from kit {}:\n  {}\nRun `{} --wdk {} --wdk-version {}` and commit the result.",
                kit.version,
                stale.join("\n  "),
                settings.command,
                root.display(),
                kit.version
            ));
        }
        return Err(Error::new(msg.trim_end()));
    }
    regen::write(&outputs)?;
    Ok((table, format!("wrote {} files from kit {} ({})", outputs.len(), kit.version, kit.km.display())))
}

/// Reports a test that could not run for want of an installable tool
/// (libclang, a rustup target, lld), where it is seen: straight to the
/// terminal, past the test harness' capture. Where everything installable
/// must run (`NDIS_RS_REQUIRE_ALL=1`, as `.ci/run` sets after installing
/// them), it panics instead, so a missing install step fails loudly.
pub fn skip(why: &str) {
    if std::env::var_os("NDIS_RS_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("NDIS_RS_REQUIRE_ALL=1 but a test would be skipped: {why}");
    }
    note_skipped(why);
}

/// Reports a test that could not run for want of something no install step
/// can provide (a Windows Driver Kit, which is not redistributable): always
/// a loud `skipped:` line, never a failure.
pub fn note_skipped(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}
