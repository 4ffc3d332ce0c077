//! Finding a Windows Driver Kit's `Include/<version>/{km,shared}` folders.
//!
//! Order: `--wdk DIR`, then `WDK_ROOT`, then `WDKContentRoot`, then the default
//! install path on Windows. `DIR` may be a "Windows Kits/10" root (it has
//! `Include/<version>/km`), an unpacked `Microsoft.Windows.WDK.<arch>` NuGet
//! package (it has `c/Include/<version>/km`; its `shared` headers come from a
//! `Microsoft.Windows.SDK.CPP` package unpacked beside it, when it has none of
//! its own), or an `Include` folder itself.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The include folders of one kit version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kit {
    /// The version folder's name, e.g. `10.0.26100.0`.
    pub version: String,
    /// `Include/<version>/km`.
    pub km: PathBuf,
    /// `Include/<version>/shared`.
    pub shared: PathBuf,
}

/// A kit version number, compared numerically (`10.0.9.0` < `10.0.10.0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Version(Vec<u32>);

impl Version {
    fn parse(s: &str) -> Option<Self> {
        let parts: Option<Vec<u32>> = s.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| p.len() >= 3).map(Version)
    }
}

/// Where the kit root came from, for error messages.
#[derive(Debug, Clone)]
pub enum Source {
    /// `--wdk DIR`.
    Flag,
    /// An environment variable.
    Env(&'static str),
    /// The default install path.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--wdk"),
            Source::Env(name) => write!(f, "${name}"),
            Source::Default => f.write_str("the default install path"),
        }
    }
}

const HOW_TO_GET: &str = "Point `--wdk` (or WDK_ROOT) at a \"Windows Kits/10\" folder or an unpacked \
Microsoft.Windows.WDK NuGet package; on Linux or macOS, lay out the kit headers as \
DIR/Include/<version>/{km,shared} (README: \"Regenerating the bindings\").";

/// Picks the kit root from the flag, the environment, or the default path.
pub fn root(flag: Option<&Path>) -> Result<(PathBuf, Source), Error> {
    if let Some(dir) = flag {
        return Ok((dir.to_path_buf(), Source::Flag));
    }
    for var in ["WDK_ROOT", "WDKContentRoot"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Ok((PathBuf::from(value), Source::Env(var)));
        }
    }
    let default = PathBuf::from(r"C:\Program Files (x86)\Windows Kits\10");
    if cfg!(windows) && default.is_dir() {
        return Ok((default, Source::Default));
    }
    Err(Error::new(format!("no Windows Driver Kit given. {HOW_TO_GET}")))
}

/// The `Include` folders a root may hold, in the layouts this module knows.
fn include_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("Include"), root.join("c").join("Include")];
    if root.file_name().is_some_and(|n| n.eq_ignore_ascii_case("Include")) {
        dirs.push(root.to_path_buf());
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

/// `shared` headers of a NuGet SDK package unpacked beside a WDK package.
fn nuget_shared(root: &Path, version: &str) -> Option<PathBuf> {
    let parent = root.parent()?;
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.to_ascii_lowercase().starts_with("microsoft.windows.sdk.cpp"))
        })
        .map(|p| p.join("c").join("Include").join(version).join("shared"))
        .filter(|p| p.is_dir())
        .collect();
    candidates.sort();
    candidates.pop()
}

/// Finds the kit version to use under `root`: `want`, or the newest that has
/// both `km/ndis.h` and a `shared` folder.
pub fn find(root: &Path, source: &Source, want: Option<&str>) -> Result<Kit, Error> {
    if !root.is_dir() {
        return Err(Error::new(format!(
            "the Windows Driver Kit folder {} (from {source}) does not exist. {HOW_TO_GET}",
            root.display()
        )));
    }
    let mut kits = Vec::new();
    for include in include_dirs(root) {
        let Ok(entries) = std::fs::read_dir(&include) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some(version) = Version::parse(&name) else {
                continue;
            };
            let km = entry.path().join("km");
            if !km.join("ndis.h").is_file() {
                continue;
            }
            let shared = Some(entry.path().join("shared")).filter(|s| s.is_dir()).or_else(|| nuget_shared(root, &name));
            if let Some(shared) = shared {
                kits.push((version, Kit { version: name, km, shared }));
            }
        }
    }
    kits.sort_by(|a, b| a.0.cmp(&b.0));
    let found: Vec<String> = kits.iter().map(|(_, k)| k.version.clone()).collect();
    if kits.is_empty() {
        return Err(Error::new(format!(
            "no kit version with km/ndis.h and shared/ headers under {} (from {source}): \
             expected Include/<version>/km/ndis.h there. {HOW_TO_GET}",
            root.display()
        )));
    }
    match want {
        None => Ok(kits.pop().map(|(_, k)| k).expect("checked non-empty above")),
        Some(want) => kits.into_iter().map(|(_, k)| k).find(|k| k.version == want).ok_or_else(|| {
            Error::new(format!(
                "kit version {want} is not under {} (from {source}); it has: {}. \
                 Pass one of those to --wdk-version, or leave it out for the newest.",
                root.display(),
                found.join(", ")
            ))
        }),
    }
}
