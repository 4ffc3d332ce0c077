//! A clang virtual file system overlay that lets the kit's headers be parsed
//! on a case-sensitive file system, by a standard C preprocessor, without
//! anyone editing them.
//!
//! Two fixes, both made at regen time in a scratch folder:
//!
//! - **Wrongly-cased includes.** The kit says `#include <DriverSpecs.h>` where
//!   the file is `driverspecs.h` (about twenty such names in kit 10.0.26100).
//!   For every `#include` in every kit header whose exact path does not exist
//!   in an include folder but whose case-insensitive match does, the overlay
//!   gets one `file` entry under the spelling the kit uses, pointing at the
//!   real file. (A `directory-remap` root with `case-sensitive: false` does
//!   not work for this; per-file entries do.) On a case-insensitive file
//!   system no entry is needed and none is made.
//! - **MSVC-only token pasting.** Kits up to 10.0.22621 define
//!   `NDIS_API_VERSION_AVAILABLE(major,minor)` with `0x ## major`, and call it
//!   with macro arguments: only MSVC's traditional preprocessor expands those
//!   before pasting. A header holding such a one-level pasting macro is
//!   presented, through the overlay, as a corrected copy in which the macro
//!   forwards to a second one that pastes, so that the arguments are expanded
//!   first — what MSVC does and what newer kits spell out themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::kit::Kit;

/// What the overlay maps, before it is written.
#[derive(Debug, Default)]
pub struct Overlay {
    /// virtual path -> real path
    pub files: BTreeMap<PathBuf, PathBuf>,
    /// headers replaced by a corrected copy (real path -> copy's contents)
    pub corrected: BTreeMap<PathBuf, String>,
    /// object-like macros the headers define (name -> first header)
    pub defines: BTreeMap<String, PathBuf>,
}

/// The names of the object-like macros a header's text defines.
fn object_like_defines(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start().strip_prefix("define")?;
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let rest = rest.trim_start();
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let name = &rest[..end];
        (!name.is_empty() && !rest[end..].starts_with('(')).then_some(name)
    })
}

/// The include folders searched, in the order clang searches them.
pub fn search_dirs(kit: &Kit) -> Vec<PathBuf> {
    let mut dirs = vec![kit.km.clone()];
    let crt = kit.km.join("crt");
    if crt.is_dir() {
        dirs.push(crt);
    }
    dirs.push(kit.shared.clone());
    dirs
}

/// The names in `#include <name>` / `#include "name"` lines.
fn includes(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start().strip_prefix("include")?;
        let rest = rest.trim_start();
        let close = match rest.chars().next()? {
            '<' => '>',
            '"' => '"',
            _ => return None,
        };
        let name = &rest[1..];
        let end = name.find(close)?;
        Some(name[..end].replace('\\', "/"))
    })
}

/// Resolves `rel` under `dir` component by component, ignoring case.
/// `None` when some component has no match.
fn resolve_ignoring_case(dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut here = dir.to_path_buf();
    for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            here.pop();
            continue;
        }
        let exact = here.join(part);
        if exact.exists() {
            here = exact;
            continue;
        }
        let found = std::fs::read_dir(&here)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_str().is_some_and(|n| n.eq_ignore_ascii_case(part)))?;
        here = found.path();
    }
    Some(here)
}

/// Rewrites one-level `0x ## param` pasting macros into two-level ones.
/// Returns `None` when the text has none.
fn correct_pasting(text: &str) -> Option<String> {
    // Function-like macros whose body pastes `0x` to a parameter.
    let mut pasting = Vec::new();
    for line in text.lines() {
        let Some(def) = define(line) else { continue };
        let pastes = def.params.iter().any(|p| {
            let compact: String = def.body.split_whitespace().collect();
            compact.contains(&format!("0x##{p}"))
        });
        if pastes {
            pasting.push(def.name.to_owned());
        }
    }
    // Keep only those no other macro forwards to (those are already two-level).
    pasting.retain(|name| {
        !text.lines().filter_map(define).any(|d| d.name != name && d.body.contains(&format!("{name}(")))
    });
    if pasting.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        match define(line).filter(|d| pasting.iter().any(|p| p == d.name)) {
            Some(d) => {
                let params = d.params.join(", ");
                let inner = format!("NDIS_RS_PASTE_{}", d.name);
                out.push_str(&format!("#define {inner}({params}) {}\n", d.body));
                out.push_str(&format!("#define {}({params}) {inner}({params})\n", d.name));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Some(out)
}

struct Define<'a> {
    name: &'a str,
    params: Vec<&'a str>,
    body: &'a str,
}

/// Parses a one-line function-like `#define NAME(a,b) body`.
fn define(line: &str) -> Option<Define<'_>> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start().strip_prefix("define")?;
    let rest = rest.trim_start();
    let open = rest.find('(')?;
    let name = &rest[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let close = rest[open..].find(')')? + open;
    let params = rest[open + 1..close].split(',').map(str::trim).collect();
    let body = rest[close + 1..].trim();
    if body.ends_with('\\') {
        return None;
    }
    Some(Define { name, params, body })
}

/// Works out the overlay's entries for the headers `roots` include, and
/// everything they include in turn (only those headers are read).
pub fn plan(kit: &Kit, roots: &[&str]) -> Result<Overlay, Error> {
    let dirs = search_dirs(kit);
    let mut overlay = Overlay::default();
    let mut seen = BTreeSet::new();
    let mut read = BTreeSet::new();
    // The root headers, found as clang finds them (case-insensitively here).
    let mut queue: Vec<PathBuf> = Vec::new();
    for root in roots {
        if let Some(found) = dirs.iter().find_map(|d| resolve_ignoring_case(d, root).filter(|p| p.is_file())) {
            queue.push(found);
        }
    }
    while let Some(header) = queue.pop() {
        if !read.insert(header.clone()) {
            continue;
        }
        let bytes = std::fs::read(&header)
            .map_err(|e| Error::new(format!("cannot read kit header {}: {e}", header.display())))?;
        let text = String::from_utf8_lossy(&bytes);
        if let Some(corrected) = correct_pasting(&text) {
            overlay.corrected.insert(header.clone(), corrected);
        }
        for name in object_like_defines(&text) {
            overlay.defines.entry(name.to_owned()).or_insert_with(|| header.clone());
        }
        let local = header.parent().map(Path::to_path_buf);
        for name in includes(&text) {
            // Every folder the include may be found in: an entry where only
            // a differently-cased file exists, and the first match followed.
            let mut followed = false;
            for dir in local.iter().chain(dirs.iter()) {
                let wanted = dir.join(&name);
                let real = if wanted.is_file() {
                    Some(wanted.clone())
                } else {
                    let real = resolve_ignoring_case(dir, &name).filter(|p| p.is_file());
                    if let Some(real) = &real
                        && seen.insert(wanted.clone())
                    {
                        overlay.files.insert(wanted, real.clone());
                    }
                    real
                };
                if let Some(real) = real
                    && !followed
                {
                    followed = true;
                    queue.push(real);
                }
            }
        }
    }
    Ok(overlay)
}

/// JSON string literal (the overlay file is YAML, of which JSON is a subset).
fn json(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Writes the corrected copies and the overlay file into `scratch`, and
/// returns the overlay file's path.
pub fn write(overlay: &Overlay, scratch: &Path) -> Result<PathBuf, Error> {
    let io = |what: &Path, e: std::io::Error| {
        Error::new(format!("cannot write {} (scratch space for regen): {e}", what.display()))
    };
    let mut files = overlay.files.clone();
    for (real, text) in &overlay.corrected {
        // Under the same kit-relative path (`corrected/km/ndis.h`): clang
        // names the copy as the file its declarations come from, and the
        // bind rules and the census match headers by that path.
        let relative = crate::census::kit_relative(&real.to_string_lossy());
        let copy = scratch.join("corrected").join(&relative);
        if let Some(dir) = copy.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        std::fs::write(&copy, text).map_err(|e| io(&copy, e))?;
        files.insert(real.clone(), copy);
    }
    // Group by parent folder: one root per folder, one file entry per name.
    let mut roots: BTreeMap<PathBuf, Vec<(String, PathBuf)>> = BTreeMap::new();
    for (virt, real) in files {
        let (Some(parent), Some(name)) = (virt.parent(), virt.file_name()) else {
            continue;
        };
        roots.entry(parent.to_path_buf()).or_default().push((name.to_string_lossy().into_owned(), real));
    }
    let mut yaml = String::from("{\n  \"version\": 0,\n  \"roots\": [\n");
    let n = roots.len();
    for (i, (dir, entries)) in roots.into_iter().enumerate() {
        yaml.push_str(&format!(
            "    {{ \"type\": \"directory\", \"name\": {}, \"contents\": [\n",
            json(&dir.to_string_lossy())
        ));
        let m = entries.len();
        for (j, (name, real)) in entries.into_iter().enumerate() {
            yaml.push_str(&format!(
                "      {{ \"type\": \"file\", \"name\": {}, \"external-contents\": {} }}{}\n",
                json(&name),
                json(&real.to_string_lossy()),
                if j + 1 < m { "," } else { "" }
            ));
        }
        yaml.push_str(&format!("    ] }}{}\n", if i + 1 < n { "," } else { "" }));
    }
    yaml.push_str("  ]\n}\n");
    let path = scratch.join("case-overlay.yaml");
    std::fs::write(&path, yaml).map_err(|e| io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_level_pasting_macro_is_made_two_level() {
        let text = "#define NDIS_MIN_API 0x400\n\
                    #define AVAIL(major,minor) ((((0x ## major) << 8) + (0x ## minor)) >= NDIS_MIN_API)\n\
                    #if !AVAIL(MAJ, MIN)\n#endif\n";
        let out = correct_pasting(text).expect("needs correcting");
        assert!(out.contains("#define NDIS_RS_PASTE_AVAIL(major, minor) ((((0x ## major)"));
        assert!(out.contains("#define AVAIL(major, minor) NDIS_RS_PASTE_AVAIL(major, minor)"));
        assert!(out.contains("#if !AVAIL(MAJ, MIN)"));
    }

    #[test]
    fn two_level_pasting_macro_is_left_alone() {
        let text = "#define DETAIL_(major,minor) ((0x ## major) + (0x ## minor))\n\
                    #define AVAIL(major,minor) DETAIL_(major, minor)\n";
        assert!(correct_pasting(text).is_none());
    }

    #[test]
    fn object_like_defines_are_told_from_function_like_ones() {
        let text = "#define A 1\n#  define B\t(2)\n#define F(x) x\n#define G (3)\n#define _H_\n#undef A\n";
        let names: Vec<&str> = object_like_defines(text).collect();
        assert_eq!(names, ["A", "B", "G", "_H_"]);
    }

    #[test]
    fn include_names_are_read_from_both_forms() {
        let text = "#include <DriverSpecs.h>\n  #  include \"ndis\\nbl.h\"\n#define X <a.h>\n";
        let names: Vec<String> = includes(text).collect();
        assert_eq!(names, ["DriverSpecs.h", "ndis/nbl.h"]);
    }
}
