//! `cargo xtask driver`: links the sample drivers into `.sys` files on
//! any host — import libraries made from the sample's `.def` files with
//! `llvm-dlltool`, the crate built as a cdylib for `x86_64-pc-windows-msvc`
//! and linked by `lld-link` as a native-subsystem driver — and reads its
//! image back with `llvm-readobj`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, run};

/// The target the sample is linked for.
pub const TARGET: &str = "x86_64-pc-windows-msvc";

/// The import libraries, by `.def` file stem.
pub const LIBRARIES: [&str; 3] = ["ndis", "fwpkclnt", "ntoskrnl"];

/// A sample driver `cargo xtask driver` links: its package, folder (whose
/// `def/` has a `.def` file per import library) and import libraries.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The cargo package.
    pub package: &'static str,
    /// Its folder under the workspace root.
    pub dir: &'static str,
    /// The import libraries it links, by `.def` file stem.
    pub libraries: &'static [&'static str],
}

/// The WFP callout sample.
pub const WFP_INSPECT: Sample = Sample { package: "wfp-inspect", dir: "samples/wfp-inspect", libraries: &LIBRARIES };
/// The WFP firewall sample.
pub const WFP_FIREWALL: Sample = Sample { package: "wfp-firewall", dir: "samples/wfp-firewall", libraries: &LIBRARIES };
/// The NDIS filter sample.
pub const NDIS_FILTER: Sample =
    Sample { package: "ndis-filter", dir: "samples/ndis-filter", libraries: &["ndis", "ntoskrnl"] };

/// A tool the driver build needs that is missing, with how to get it.
pub fn missing_tool() -> Option<String> {
    for (tool, package) in [("lld-link", "lld"), ("llvm-dlltool", "llvm"), ("llvm-readobj", "llvm")] {
        // Spawning is the test: llvm-dlltool has no --version.
        let found = Command::new(tool).arg("-h").output().is_ok();
        if !found {
            return Some(format!("{tool} is not installed (Debian: apt-get install {package})"));
        }
    }
    crate::missing_target(TARGET)
}

/// Builds `wfp_inspect.sys`; returns its path. `target_dir` is the cargo
/// target directory to build in.
pub fn build(root: &Path, target_dir: &Path) -> Result<PathBuf, Error> {
    build_with(root, target_dir, &[])
}

/// As [`build`], with the sample's `features` (e.g. `raw`).
///
/// On Windows with a WDK, `NDIS_RS_KM_LIB` may name the kit's kernel import
/// libraries (`Lib/<version>/km/x64`) and `NDIS_RS_LINKER` the linker
/// (`link.exe`): then no `.def` file is used.
pub fn build_with(root: &Path, target_dir: &Path, features: &[&str]) -> Result<PathBuf, Error> {
    build_sample(root, target_dir, WFP_INSPECT, features)
}

/// As [`build_with`], for any [`Sample`]; returns the `.sys` path.
pub fn build_sample(root: &Path, target_dir: &Path, sample: Sample, features: &[&str]) -> Result<PathBuf, Error> {
    let kit_libs = std::env::var_os("NDIS_RS_KM_LIB").map(PathBuf::from);
    let linker = std::env::var("NDIS_RS_LINKER").unwrap_or_else(|_| "lld-link".into());
    if kit_libs.is_none()
        && let Some(missing) = missing_tool()
    {
        return Err(Error::new(format!("cannot link the driver: {missing}")));
    }
    // One folder per sample: their `.def` files differ, and two samples may
    // be linked at once (the tests run in parallel).
    let libs = kit_libs.unwrap_or_else(|| target_dir.join("driver-libs").join(sample.package));
    std::fs::create_dir_all(&libs).map_err(|e| Error::new(format!("cannot create {}: {e}", libs.display())))?;
    for lib in sample.libraries.iter().filter(|_| std::env::var_os("NDIS_RS_KM_LIB").is_none()) {
        let def = root.join(sample.dir).join("def").join(format!("{lib}.def"));
        run(
            Command::new("llvm-dlltool")
                .args(["-m", "i386:x86-64", "-d"])
                .arg(&def)
                .arg("-l")
                .arg(libs.join(format!("{lib}.lib"))),
            "llvm-dlltool",
        )?;
    }
    let mut cmd = crate::cargo();
    cmd.current_dir(root).env("CARGO_TARGET_DIR", target_dir).args([
        "rustc",
        "--quiet",
        "-p",
        sample.package,
        "--release",
        "--lib",
        "--crate-type",
        "cdylib",
        "--target",
        TARGET,
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    cmd.args(["--", "-C", &format!("linker={linker}"), "-C", "panic=abort"]);
    for arg in ["/DRIVER", "/SUBSYSTEM:NATIVE", "/ENTRY:DriverEntry", "/NODEFAULTLIB", "/OPT:REF"] {
        cmd.args(["-C", &format!("link-arg={arg}")]);
    }
    cmd.args(["-C", &format!("link-arg=/LIBPATH:{}", libs.display())]);
    for lib in sample.libraries {
        cmd.args(["-C", &format!("link-arg={lib}.lib")]);
    }
    run(&mut cmd, "cargo rustc (the driver)")?;
    let dll = target_dir.join(TARGET).join("release").join(format!("{}.dll", sample.package.replace('-', "_")));
    let sys = dll.with_extension("sys");
    std::fs::copy(&dll, &sys).map_err(|e| Error::new(format!("cannot write {}: {e}", sys.display())))?;
    Ok(sys)
}

/// What the image says of itself.
#[derive(Debug, Default)]
pub struct Image {
    /// The subsystem line of the optional header.
    pub subsystem: String,
    /// Imported modules, each with the functions imported from it.
    pub imports: Vec<(String, Vec<String>)>,
}

/// Reads a `.sys` with `llvm-readobj`.
pub fn inspect(sys: &Path) -> Result<Image, Error> {
    let text = run(Command::new("llvm-readobj").args(["--file-headers", "--coff-imports"]).arg(sys), "llvm-readobj")?;
    let mut image = Image::default();
    for line in text.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix("Subsystem:") {
            image.subsystem = s.trim().to_owned();
        } else if let Some(name) = line.strip_prefix("Name:") {
            image.imports.push((name.trim().to_owned(), Vec::new()));
        } else if let Some(sym) = line.strip_prefix("Symbol:")
            && let Some((_, syms)) = image.imports.last_mut()
        {
            // "Symbol: IoCreateDevice (123)"
            syms.push(sym.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    Ok(image)
}

/// The size of an image's `.text` section (its virtual size).
pub fn text_size(sys: &Path) -> Result<u64, Error> {
    let text = run(Command::new("llvm-readobj").arg("--sections").arg(sys), "llvm-readobj")?;
    let mut in_text = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("Name:") {
            in_text = name.trim().starts_with(".text");
        } else if in_text && let Some(size) = line.strip_prefix("VirtualSize:") {
            let size = size.trim().trim_start_matches("0x");
            return u64::from_str_radix(size, 16).map_err(|e| Error::new(format!("bad .text size {size}: {e}")));
        }
    }
    Err(Error::new(format!("{} has no .text section", sys.display())))
}
