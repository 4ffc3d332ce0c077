//! `cargo xtask regen`: bindgen over the kit's headers into the -sys crates.
//!
//! What each crate gets is declared in its `bindings.toml`. Every output is
//! generated in memory first; only when all of them succeeded is anything
//! written, each file through a temporary file and a rename, so that a failed
//! regen leaves every checked-in file as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bindgen::callbacks::ParseCallbacks;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::census::{self, Kind};
use crate::kit::Kit;
use crate::overlay;

mod assemble;
mod merge;

/// A Windows target the bindings are generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arch {
    /// `x86_64-pc-windows-msvc`
    X86_64,
    /// `aarch64-pc-windows-msvc`
    Aarch64,
}

impl Arch {
    /// Every arch, in output order.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// Rust's `target_arch` name, also the output file's stem.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-pc-windows-msvc",
            Arch::Aarch64 => "aarch64-pc-windows-msvc",
        }
    }

    /// The architecture macros the kit's headers test (what the WDK's
    /// MSBuild targets define).
    fn defines(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["_AMD64_", "AMD64", "_WIN64"],
            Arch::Aarch64 => &["_ARM64_", "ARM64", "_WIN64"],
        }
    }
}

/// The lists of a `bindings.toml` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Items {
    /// Function names or patterns.
    #[serde(default)]
    pub functions: Vec<String>,
    /// Type names or patterns.
    #[serde(default)]
    pub types: Vec<String>,
    /// Constant and variable names or patterns.
    #[serde(default)]
    pub vars: Vec<String>,
}

/// The `[bind]` section of a `bindings.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bind {
    /// Kit headers, relative to the kit's version folder, `*` matching
    /// within one path component: `km/ndis.h`, `km/ndis/*.h`.
    #[serde(default)]
    pub files: Vec<String>,
    /// Emit the `DEFINE_GUID` keys of these headers as `GUID` constants.
    #[serde(default)]
    pub guids: bool,
}

/// An exclusion rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule's name, as the census prints it.
    pub rule: String,
    /// Why these items are not bound.
    pub reason: String,
    /// Function names or patterns.
    #[serde(default)]
    pub functions: Vec<String>,
    /// Type names or patterns.
    #[serde(default)]
    pub types: Vec<String>,
    /// Constant names or patterns.
    #[serde(default)]
    pub vars: Vec<String>,
    /// The rule also covers every function a header defines inline (those
    /// are not exports: nothing to link to).
    #[serde(default)]
    pub inline_functions: bool,
}

/// A `bind.files` pattern as an anchored regular expression on a header's
/// full path.
pub fn file_regex(glob: &str) -> String {
    let mut re = String::from("(.*[/\\\\])?");
    for c in glob.chars() {
        match c {
            '*' => re.push_str("[^/\\\\]*"),
            '/' => re.push_str("[/\\\\]"),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => re.push(c),
            c => {
                re.push('\\');
                re.push(c);
            }
        }
    }
    re
}

/// A crate's `bindings.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Kit headers included, in order, after the target's macros.
    pub headers: Vec<String>,
    /// The import library a Windows driver links for these DDIs, emitted as
    /// `#[cfg_attr(feature = "link", link(name = …))]`; none when absent
    /// (the driver's link names its libraries).
    #[serde(default)]
    pub link: Option<String>,
    /// Crates, generated before this one, whose items this crate imports
    /// instead of generating them again.
    #[serde(default)]
    pub reuse: Vec<String>,
    /// Whole headers bound: every function, record, type and integer
    /// constant they declare (with everything those need).
    #[serde(default)]
    pub bind: Bind,
    /// Single items bound besides the headers of `bind` (with everything
    /// they need).
    #[serde(default)]
    pub allowlist: Items,
    /// What is not bound of the headers of `bind`, by rule: each rule names
    /// the items it excludes and says why.
    #[serde(default)]
    pub exclude: Vec<Rule>,
    /// NDIS versions shipped besides the default one (`--ndis`), each
    /// selected by a cargo feature `ndisNNN`: the items that differ between
    /// versions are emitted once per variant under `#[cfg(feature = …)]`.
    #[serde(default)]
    pub ndis_versions: Vec<String>,
    /// The versions of `ndis_versions` bindgen runs for (absent: all), besides
    /// the default and the newest the kit defines. Every other one is
    /// assembled from them and from its own census scan: each
    /// declaration it has is taken from a generated version that declares
    /// it the same way (by the scan's fingerprints), its constants from its
    /// scan; a version with a declaration no generated version has is an
    /// error that names it.
    #[serde(default)]
    pub ndis_generate: Option<Vec<String>>,
    /// Re-export (`pub use`) the reused crates' items this crate's own
    /// items name, so that a user of this crate alone reaches every type its
    /// declarations take.
    #[serde(default)]
    pub reexport_reused: bool,
    /// Items generated for the crate's own declarations but not exported
    /// (`pub(crate)`), for names another crate owns.
    #[serde(default)]
    pub private: Vec<String>,
    /// Records generated as correctly sized and aligned blobs, for records
    /// whose fields bindgen cannot lay out (rust-bindgen#3177).
    #[serde(default)]
    pub opaque: Items,
    /// Never generated.
    #[serde(default)]
    pub blocklist: Items,
    /// A kit header that `headers` include first, and that no NDIS version
    /// changes (`wdm.h`): parsed once per arch into a precompiled header
    /// every bindgen run and census scan starts from. Used when every crate
    /// of the regen names the same one.
    #[serde(default)]
    pub precompiled: Option<String>,
    /// The Rust type of integer constants, by name prefix (the longest
    /// matching prefix wins): `"NDIS_STATUS_" = "NDIS_STATUS"`. A constant no
    /// prefix matches gets bindgen's choice (`u32` or `i32` by its value).
    #[serde(default)]
    pub constant_types: BTreeMap<String, String>,
}

/// One -sys crate to generate.
#[derive(Debug, Clone)]
pub struct CrateSpec {
    /// Package name, e.g. `ndis-sys`.
    pub name: String,
    /// The crate's folder (holds `bindings.toml` and `src/generated/`).
    pub dir: PathBuf,
}

impl CrateSpec {
    fn config_path(&self) -> PathBuf {
        self.dir.join("bindings.toml")
    }

    /// Where the generated file for `arch` lives.
    pub fn output(&self, arch: Arch) -> PathBuf {
        self.dir.join("src").join("generated").join(format!("{}.rs", arch.name()))
    }
}

/// Everything a regen needs besides the kit.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The NDIS version macro the headers see, e.g. `630` for `NDIS630`.
    pub ndis: String,
    /// The command line named in the preamble and in `--check` failures.
    pub command: String,
    /// bindgen's version, for the preamble.
    pub bindgen_version: String,
    /// Run bindgen for every version shipped, none assembled.
    pub every_version: bool,
}

/// A generated file, not yet written.
#[derive(Debug)]
pub struct Output {
    /// Where it belongs.
    pub path: PathBuf,
    /// Its contents.
    pub text: String,
}

/// Marks the first line after the preamble.
const PREAMBLE_END: &str = "// ---- generated below: do not edit ----";
/// The preamble line that names tool versions; `--check` ignores it, so that
/// a different libclang patch release producing the same bindings passes.
const TOOLS_LINE: &str = "// Tools: ";
/// The preamble line that says which versions are assembled; `--check`
/// ignores it, so that `--every-version --check` compares the bindings.
const ASSEMBLED_LINE: &str = "// Versions: ";

fn read_config(spec: &CrateSpec) -> Result<Config, Error> {
    let path = spec.config_path();
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Error::new(format!("{} is not valid: {e}", path.display())))
}

/// Makes sure libclang can be loaded, with a message that says what to do.
pub fn load_libclang() -> Result<String, Error> {
    if !clang_sys::is_loaded() {
        clang_sys::load().map_err(|e| {
            Error::new(format!(
                "libclang could not be loaded ({e}). Install clang 16 or newer \
                 (Debian: `apt-get install libclang-19-dev`) and point LIBCLANG_PATH at the \
                 folder holding libclang (e.g. LIBCLANG_PATH=/usr/lib/llvm-19/lib)."
            ))
        })?;
    }
    Ok(bindgen::clang_version().full)
}

/// The name of the record a bindgen layout-assertion block (`const _: () =
/// { ["Size of X"][…]; … }`) is about.
fn asserted_record(item: &syn::ItemConst) -> Option<String> {
    use quote::ToTokens as _;
    let text = item.expr.to_token_stream().to_string();
    let start = text.find("\"Size of ").map(|i| i + 9).or_else(|| text.find("\"Alignment of ").map(|i| i + 14))?;
    let rest = &text[start..];
    rest.find('"').map(|end| rest[..end].trim().to_owned())
}

/// The name a `pub use self::X as Y;` (bindgen's enum typedefs) introduces.
fn use_rename(item: &syn::ItemUse) -> Option<&syn::Ident> {
    let mut tree = &item.tree;
    loop {
        match tree {
            syn::UseTree::Path(p) => tree = &p.tree,
            syn::UseTree::Rename(r) => return Some(&r.rename),
            syn::UseTree::Name(n) => return Some(&n.ident),
            _ => return None,
        }
    }
}

/// Removes the items named `names` (and their impls and layout assertions)
/// from generated bindings.
fn remove_items(file: &mut syn::File, names: &BTreeSet<String>) {
    if names.is_empty() {
        return;
    }
    let keep = |name: &syn::Ident| !names.contains(&name.to_string());
    file.items.retain_mut(|item| match item {
        syn::Item::Struct(i) => keep(&i.ident),
        syn::Item::Union(i) => keep(&i.ident),
        syn::Item::Enum(i) => keep(&i.ident),
        syn::Item::Type(i) => keep(&i.ident),
        syn::Item::Static(i) => keep(&i.ident),
        syn::Item::Fn(i) => keep(&i.sig.ident),
        syn::Item::Use(u) => use_rename(u).is_none_or(keep),
        syn::Item::Const(i) if i.ident == "_" => asserted_record(i).is_none_or(|r| !names.contains(&r)),
        syn::Item::Const(i) => keep(&i.ident),
        syn::Item::Impl(i) => match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last().is_none_or(|s| keep(&s.ident)),
            _ => true,
        },
        syn::Item::ForeignMod(m) => {
            m.items.retain(|f| match f {
                syn::ForeignItem::Fn(f) => keep(&f.sig.ident),
                syn::ForeignItem::Static(s) => keep(&s.ident),
                _ => true,
            });
            !m.items.is_empty()
        }
        _ => true,
    });
}

/// Parses generated Rust.
fn parse(text: &str) -> Result<syn::File, Error> {
    syn::parse_file(text).map_err(|e| Error::new(format!("generated bindings do not parse as Rust: {e}")))
}

/// The name an item declares, if any (types, functions, constants).
fn declared_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Const(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Use(u) => use_rename(u)?,
        _ => return None,
    };
    (ident != "_").then(|| ident.to_string())
}

/// The item names (types, functions, constants) of a version's elements.
fn item_names(arena: &merge::Arena<'_>, elems: &[merge::Elem]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for e in elems {
        match e {
            merge::Elem::Item(id) => names.extend(declared_name(arena.get(*id))),
            merge::Elem::Block(_, fns) => {
                names.extend(fns.iter().filter_map(|f| assemble::foreign_name(arena.function_item(*f))))
            }
        }
    }
    names
}

/// Anchored regular expressions over names; matches nothing when empty.
#[derive(Debug)]
struct Names(Option<regex::Regex>);

impl Names {
    fn new(patterns: &[String]) -> Result<Self, Error> {
        if patterns.is_empty() {
            return Ok(Names(None));
        }
        let re = format!("^(?:{})$", patterns.join("|"));
        regex::Regex::new(&re).map(|r| Names(Some(r))).map_err(|e| Error::new(format!("bad name pattern: {e}")))
    }

    fn matches(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|r| r.is_match(name))
    }
}

/// A config's rules, compiled.
#[derive(Debug)]
struct Rules {
    files: Names,
    vars: Names,
    exclude: Vec<(String, Names, Names, Names, bool)>,
}

impl Rules {
    fn new(config: &Config) -> Result<Self, Error> {
        let files: Vec<String> = config.bind.files.iter().map(|f| file_regex(f)).collect();
        let mut exclude = Vec::new();
        for r in &config.exclude {
            exclude.push((
                r.rule.clone(),
                Names::new(&r.functions)?,
                Names::new(&r.types)?,
                Names::new(&r.vars)?,
                r.inline_functions,
            ));
        }
        Ok(Rules { files: Names::new(&files)?, vars: Names::new(&config.allowlist.vars)?, exclude })
    }

    /// Whether a header (kit-relative) is bound whole.
    fn covers(&self, file: &str) -> bool {
        self.files.matches(file)
    }

    /// The rule that excludes an item, if one does.
    fn excluded(&self, name: &str, kind: Kind) -> Option<&str> {
        self.exclude
            .iter()
            .find(|(_, f, t, v, inline)| match kind {
                Kind::Function => f.matches(name),
                Kind::InlineFunction => *inline || f.matches(name),
                Kind::Record => t.matches(name),
                Kind::Constant => v.matches(name),
            })
            .map(|(rule, ..)| rule.as_str())
    }

    /// Whether an integer macro defined in `file` is bound.
    fn binds_constant(&self, name: &str, file: &str) -> bool {
        (self.covers(file) || self.vars.matches(name)) && self.excluded(name, Kind::Constant).is_none()
    }
}

/// What every crate's and arch's generation shares.
struct Run<'a> {
    kit: &'a Kit,
    settings: &'a Settings,
    overlay_file: &'a Path,
    scratch: &'a Path,
    libclang: &'a str,
    /// The header every parse starts from precompiled (`precompiled` in
    /// the crates' `bindings.toml`), if any.
    precompiled: Option<&'a str>,
}

impl Run<'_> {
    /// The compiler arguments the kit's headers are parsed with.
    /// `precompiled`: start from the precompiled header, when there is one.
    /// Not for bindgen: it orders the anonymous members of a record by
    /// their source location, which a precompiled header's declarations
    /// compare differently by (the bindings come out with those members
    /// moved).
    fn clang_args(&self, arch: Arch, ndis: &str, precompiled: bool) -> Vec<String> {
        let mut args = self.base_args(arch);
        args.push(format!("-DNDIS{ndis}=1"));
        if precompiled && self.precompiled.is_some() {
            args.push("-include-pch".into());
            args.push(self.pch(arch).to_string_lossy().into_owned());
        }
        args
    }

    /// The arguments of every parse for `arch`, whatever the NDIS version:
    /// those the precompiled header is made with.
    fn base_args(&self, arch: Arch) -> Vec<String> {
        let mut args = vec![
            format!("--target={}", arch.triple()),
            "-fms-compatibility".into(),
            "-fms-extensions".into(),
            "-fms-compatibility-version=19.40".into(),
            "-ivfsoverlay".into(),
            self.overlay_file.to_string_lossy().into_owned(),
            "-D_KERNEL_MODE=1".into(),
        ];
        args.extend(arch.defines().iter().map(|d| format!("-D{d}")));
        for dir in overlay::search_dirs(self.kit) {
            args.push("-isystem".into());
            args.push(dir.to_string_lossy().into_owned());
        }
        args
    }

    /// Where the precompiled header for `arch` is.
    fn pch(&self, arch: Arch) -> PathBuf {
        self.scratch.join(format!("precompiled-{}.pch", arch.name()))
    }

    /// A wrapper including `headers`, written to the scratch folder.
    fn wrapper(&self, stem: &str, headers: &[&str]) -> Result<(PathBuf, String), Error> {
        let mut wrapper = String::new();
        let _ = writeln!(wrapper, "/* {stem} */");
        for header in headers {
            let _ = writeln!(wrapper, "#include <{header}>");
        }
        let path = self.scratch.join(format!("{stem}.h"));
        std::fs::write(&path, &wrapper).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
        Ok((path, wrapper))
    }
}

/// Ignores every macro: the integer constants are evaluated by clang itself,
/// all in one batch (see [`census::scan`]), which knows the casts and
/// `sizeof`s bindgen's own evaluator does not.
#[derive(Debug)]
struct NoMacros;

impl ParseCallbacks for NoMacros {
    fn will_parse_macro(&self, _name: &str) -> bindgen::callbacks::MacroParsingBehavior {
        bindgen::callbacks::MacroParsingBehavior::Ignore
    }
}

/// Runs bindgen for one crate and arch: the bindings before post-processing.
fn bindgen_one(
    run: &Run<'_>,
    spec: &CrateSpec,
    config: &Config,
    arch: Arch,
    ndis: &str,
    reused: &[&Config],
) -> Result<String, Error> {
    let headers: Vec<&str> = config.headers.iter().map(String::as_str).collect();
    let (wrapper_path, _) = run.wrapper(&format!("{}-{}-{ndis}", spec.name, arch.name()), &headers)?;
    let args = run.clang_args(arch, ndis, false);
    let mut builder = bindgen::Builder::default()
        .header(wrapper_path.to_string_lossy())
        .clang_args(&args)
        .use_core()
        .ctypes_prefix("crate::ctypes")
        .rust_target(bindgen::RustTarget::stable(85, 0).map_err(|e| Error::new(e.to_string()))?)
        .rust_edition(bindgen::RustEdition::Edition2024)
        .layout_tests(true)
        .derive_default(true)
        .derive_debug(false)
        .size_t_is_usize(true)
        .wrap_unsafe_ops(true)
        // bindgen's own `merge_extern_blocks` and `sort_semantically` parse
        // its output with syn and print it again: done instead by
        // `bindgen_passes`, on the parse `finish` makes anyway.
        .override_abi(bindgen::Abi::System, ".*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .translate_enum_integer_types(true)
        .generate_comments(false)
        // The kit's folders are given; the host's include paths (what
        // bindgen would ask a clang binary for, in a process per run) have
        // no place in a kernel-mode parse.
        .detect_include_paths(false)
        // Formatted once, after post-processing.
        .formatter(bindgen::Formatter::None)
        .parse_callbacks(Box::new(NoMacros));
    for f in &config.bind.files {
        builder = builder.allowlist_file(file_regex(f));
    }
    for f in &config.allowlist.functions {
        builder = builder.allowlist_function(f);
    }
    for t in &config.allowlist.types {
        builder = builder.allowlist_type(t);
    }
    for v in &config.allowlist.vars {
        builder = builder.allowlist_var(v);
    }
    for t in &config.opaque.types {
        builder = builder.opaque_type(t);
    }
    for t in &config.blocklist.types {
        builder = builder.blocklist_type(t);
    }
    for f in &config.blocklist.functions {
        builder = builder.blocklist_function(f);
    }
    for v in &config.blocklist.vars {
        builder = builder.blocklist_var(v);
    }
    for rule in &config.exclude {
        for f in &rule.functions {
            builder = builder.blocklist_function(f);
        }
        for t in &rule.types {
            builder = builder.blocklist_type(t);
        }
        for v in &rule.vars {
            builder = builder.blocklist_var(v);
        }
    }
    // Lay out shared records exactly as the reused crates do.
    for config in reused {
        for t in &config.opaque.types {
            builder = builder.opaque_type(t);
        }
        for t in &config.blocklist.types {
            builder = builder.blocklist_type(t);
        }
    }
    let bindings = builder.generate().map_err(|e| {
        Error::new(format!(
            "the kit's headers failed to parse for {} ({} from {}; libclang {}):\n{e}\n\
             Check that the kit is complete (km/ and shared/), and use libclang 16 or newer.",
            arch.triple(),
            spec.name,
            run.kit.version,
            run.libclang
        ))
    })?;
    Ok(bindings.to_string())
}

/// What the kit declares for one arch, and the values of its constants.
#[derive(Serialize, Deserialize)]
struct ArchScan {
    scan: census::Scan,
    values: BTreeMap<String, census::Value>,
}

/// Scans `headers` (those of every crate generated for this version) in
/// one translation unit and evaluates the object-like macros `names`.
fn scan_arch(
    run: &Run<'_>,
    headers: &[String],
    names: &BTreeSet<String>,
    arch: Arch,
    ndis: &str,
) -> Result<ArchScan, Error> {
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let stem = format!("census-{}-{ndis}", arch.name());
    let (_, wrapper) = run.wrapper(&stem, &headers)?;
    let args = run.clang_args(arch, ndis, true);
    let (scan, values) = census::scan(&wrapper, names, run.scratch, &stem, &args)?;
    Ok(ArchScan { scan, values })
}

/// The Rust type of an integer constant: by `constant_types`' longest
/// matching prefix, else bindgen's choice by value.
fn constant_type<'a>(config: &'a Config, name: &str, value: census::Value) -> &'a str {
    let by_prefix = config
        .constant_types
        .iter()
        .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, ty)| ty.as_str());
    by_prefix.unwrap_or(match value {
        census::Value::Signed(v) if v < 0 => {
            if v < i64::from(i32::MIN) {
                "i64"
            } else {
                "i32"
            }
        }
        census::Value::Signed(v) if v > i64::from(u32::MAX) => "u64",
        census::Value::Unsigned(v) if v > u64::from(u32::MAX) => "u64",
        _ => "u32",
    })
}

/// The value as a Rust literal of a type that holds it.
fn literal(value: census::Value) -> String {
    match value {
        census::Value::Signed(v) => v.to_string(),
        census::Value::Unsigned(v) => v.to_string(),
    }
}

/// The integer constants and GUID keys a crate binds, as Rust items.
fn constants(run: &Run<'_>, config: &Config, rules: &Rules, arch_scan: &ArchScan) -> Result<String, Error> {
    let mut out = String::new();
    for (name, file) in &arch_scan.scan.macros {
        if !rules.binds_constant(name, file) {
            continue;
        }
        let Some(&value) = arch_scan.values.get(name) else { continue };
        let _ = writeln!(out, "pub const {name}: {} = {};", constant_type(config, name, value), literal(value));
    }
    if config.bind.guids {
        let mut texts: BTreeMap<&str, BTreeMap<String, [u64; 11]>> = BTreeMap::new();
        for (name, file) in &arch_scan.scan.guids {
            if !rules.covers(file) || rules.excluded(name, Kind::Constant).is_some() {
                continue;
            }
            if !texts.contains_key(file.as_str()) {
                let path = run
                    .kit
                    .km
                    .parent()
                    .map(|p| p.join(file))
                    .filter(|p| p.is_file())
                    .unwrap_or_else(|| run.kit.shared.join(file.strip_prefix("shared/").unwrap_or(file)));
                let text = std::fs::read(&path)
                    .map_err(|e| Error::new(format!("cannot read kit header {}: {e}", path.display())))?;
                texts.insert(file, census::define_guids(&String::from_utf8_lossy(&text)));
            }
            let Some(g) = texts[file.as_str()].get(name) else { continue };
            let _ = writeln!(
                out,
                "pub const {name}: GUID = GUID {{ Data1: {:#010x}, Data2: {:#06x}, Data3: {:#06x}, Data4: [{}] }};",
                g[0],
                g[1],
                g[2],
                g[3..].iter().map(|b| format!("{b:#04x}")).collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(out)
}

/// bindgen's output for one crate and version, post-processed: what of the
/// checked-in file comes from bindgen (not the constants, not the imports),
/// with the config's fixes.
fn bindgen_items(
    config: &Config,
    rules: &Rules,
    body: &str,
    arch_scan: &ArchScan,
    reused_names: &BTreeSet<String>,
) -> Result<syn::File, Error> {
    // The GUID keys are declared `extern const GUID` without INITGUID:
    // replaced by constants with the values of their DEFINE_GUID.
    let mut remove: BTreeSet<String> = reused_names.clone();
    if config.bind.guids {
        remove.extend(arch_scan.scan.guids.keys().cloned());
    }
    let mut file = parse(body)?;
    bindgen_passes(&mut file);
    remove_items(&mut file, &remove);
    inline_default_impls(&mut file);
    add_doc_links(&mut file, rules, arch_scan);
    config_fixes(config, &mut file);
    Ok(file)
}

/// What the config changes in every item of the crate: the private names
/// `pub(crate)`, the DDIs' `extern` blocks linking the crate's library.
fn config_fixes(config: &Config, file: &mut syn::File) {
    for item in &mut file.items {
        let (vis, ident) = match item {
            syn::Item::Type(i) => (&mut i.vis, &i.ident),
            syn::Item::Struct(i) => (&mut i.vis, &i.ident),
            syn::Item::Union(i) => (&mut i.vis, &i.ident),
            syn::Item::Const(i) => (&mut i.vis, &i.ident),
            _ => continue,
        };
        if config.private.iter().any(|p| ident == p) {
            *vis = syn::parse_quote!(pub(crate));
        }
    }
    if let Some(lib) = &config.link {
        let attr: syn::Attribute = syn::parse_quote!(#[cfg_attr(feature = "link", link(name = #lib))]);
        for item in &mut file.items {
            if let syn::Item::ForeignMod(m) = item
                && m.abi.name.as_ref().is_some_and(|n| n.value() == "system")
            {
                m.attrs.insert(0, attr.clone());
            }
        }
    }
}

/// The integer constants and keys of one version's scan, as items. Each
/// is one line of [`constants`]' text; `parsed` keeps those parsed for the
/// versions before (most constants are the same in every version).
fn constant_items(
    run: &Run<'_>,
    config: &Config,
    rules: &Rules,
    arch_scan: &ArchScan,
    reused_names: &BTreeSet<String>,
    parsed: &mut std::collections::HashMap<String, syn::Item>,
) -> Result<syn::File, Error> {
    let text = constants(run, config, rules, arch_scan)?;
    let new: Vec<&str> = text.lines().filter(|l| !parsed.contains_key(*l)).collect();
    let items = parse(&new.join("\n"))?.items;
    if items.len() != new.len() {
        return Err(Error::new("a generated constant is not one item of one line"));
    }
    for (line, item) in new.into_iter().zip(items) {
        parsed.insert(line.to_owned(), item);
    }
    let items = text.lines().filter_map(|l| parsed.get(l).cloned()).collect();
    let mut consts = syn::File { shebang: None, attrs: Vec::new(), items };
    remove_items(&mut consts, reused_names);
    config_fixes(config, &mut consts);
    Ok(consts)
}

/// The imports of the reused crates, for a version whose items (bindgen's
/// and its constants) are `files`: with `reexport_reused`, every reused
/// name they name, or the crate's allowlist asks for, re-exported.
fn imports(config: &Config, reused: &[(String, BTreeSet<String>)], files: &[&syn::File]) -> Result<syn::File, Error> {
    use quote::ToTokens as _;
    let asked = allowlisted(config)?;
    let mut uses = String::new();
    let mut taken = BTreeSet::new();
    let tokens: String = if config.reexport_reused && !reused.is_empty() {
        files.iter().map(|f| f.to_token_stream().to_string()).collect::<Vec<_>>().join(" ")
    } else {
        String::new()
    };
    for (krate, names) in reused {
        let _ = writeln!(uses, "#[allow(unused_imports)]\nuse {}::*;", krate.replace('-', "_"));
        if config.reexport_reused {
            let named: BTreeSet<&str> = tokens
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| names.contains(*w))
                .chain(names.iter().map(String::as_str).filter(|n| asked.matches(n)))
                .filter(|n| taken.insert(n.to_string()))
                .collect();
            if !named.is_empty() {
                let list: Vec<&str> = named.into_iter().collect();
                let _ =
                    writeln!(uses, "#[doc(no_inline)]\npub use {}::{{{}}};", krate.replace('-', "_"), list.join(", "));
            }
        }
    }
    parse(&uses)
}

/// What bindgen's `merge_extern_blocks` and then `sort_semantically` do,
/// on a file already parsed: the functions of every `extern` block with the
/// same ABI and attributes in one block, after every other item; then the
/// items grouped by kind (a stable sort), in bindgen's order of kinds.
fn bindgen_passes(file: &mut syn::File) {
    use quote::ToTokens as _;
    let mut blocks: Vec<(String, syn::ItemForeignMod)> = Vec::new();
    let mut items = Vec::with_capacity(file.items.len());
    for item in std::mem::take(&mut file.items) {
        let syn::Item::ForeignMod(block) = item else {
            items.push(item);
            continue;
        };
        let mut head = block.abi.to_token_stream().to_string();
        for attr in &block.attrs {
            head.push_str(&attr.to_token_stream().to_string());
        }
        match blocks.iter_mut().find(|(h, _)| *h == head) {
            Some((_, merged)) => merged.items.extend(block.items),
            None => blocks.push((head, block)),
        }
    }
    items.extend(blocks.into_iter().map(|(_, b)| syn::Item::ForeignMod(b)));
    items.sort_by_key(kind_rank);
    file.items = items;
}

/// The order `sort_semantically` puts items of different kinds in.
fn kind_rank(item: &syn::Item) -> u8 {
    match item {
        syn::Item::Type(_) => 0,
        syn::Item::Struct(_) => 1,
        syn::Item::Const(_) => 2,
        syn::Item::Fn(_) => 3,
        syn::Item::Enum(_) => 4,
        syn::Item::Union(_) => 5,
        syn::Item::Static(_) => 6,
        syn::Item::Trait(_) => 7,
        syn::Item::TraitAlias(_) => 8,
        syn::Item::Impl(_) => 9,
        syn::Item::Mod(_) => 10,
        syn::Item::Use(_) => 11,
        syn::Item::Verbatim(_) => 12,
        syn::Item::ExternCrate(_) => 13,
        syn::Item::ForeignMod(_) => 14,
        syn::Item::Macro(_) => 15,
        _ => 18,
    }
}

/// Marks `#[inline]` the `Default::default` bindgen writes by hand for the
/// records it cannot derive `Default` for (unions, records holding one):
/// an inline function is compiled in the crate that calls it, so the
/// bindings crate itself no longer generates machine code for each of them
/// (about 500 in ndis-sys, a fifth of its clean build). The derived impls are
/// inline already.
fn inline_default_impls(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let is_default =
            imp.trait_.as_ref().is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Default"));
        if !is_default {
            continue;
        }
        for f in &mut imp.items {
            if let syn::ImplItem::Fn(f) = f
                && !f.attrs.iter().any(|a| a.path().is_ident("inline"))
            {
                f.attrs.insert(0, syn::parse_quote!(#[inline]));
            }
        }
    }
}

/// The reference page of a DDI, record or callback type on the vendor's
/// documentation: `…/ddi/<header>/<kind>-<header>-<lowercase name>`.
fn doc_link(kind: &str, header: &str, name: &str) -> syn::Attribute {
    let text = format!(
        " [`{name}`](https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/{header}/{kind}-{header}-{}) \
         on learn.microsoft.com.",
        name.to_ascii_lowercase()
    );
    syn::parse_quote!(#[doc = #text])
}

/// Links every function (`nf-`), struct or union (`ns-`) and callback type
/// (`nc-`) declared in a header bound whole to its reference page.
fn add_doc_links(file: &mut syn::File, rules: &Rules, arch_scan: &ArchScan) {
    let headers: BTreeMap<&str, &str> = arch_scan
        .scan
        .decls
        .iter()
        .filter(|d| matches!(d.kind, Kind::Function | Kind::Record) && rules.covers(&d.file))
        .map(|d| {
            let stem = d.file.rsplit('/').next().unwrap_or(&d.file);
            (d.name.as_str(), stem.strip_suffix(".h").unwrap_or(stem))
        })
        .collect();
    for item in &mut file.items {
        match item {
            syn::Item::ForeignMod(m) => {
                for f in &mut m.items {
                    if let syn::ForeignItem::Fn(f) = f
                        && let Some(h) = headers.get(f.sig.ident.to_string().as_str())
                    {
                        f.attrs.insert(0, doc_link("nf", h, &f.sig.ident.to_string()));
                    }
                }
            }
            syn::Item::Struct(syn::ItemStruct { ident, attrs, .. })
            | syn::Item::Union(syn::ItemUnion { ident, attrs, .. }) => {
                let name = ident.to_string();
                if let Some(h) = headers.get(name.as_str()) {
                    attrs.insert(0, doc_link("ns", h, name.trim_start_matches('_')));
                }
            }
            syn::Item::Type(t) => {
                let name = t.ident.to_string();
                let callback = matches!(&*t.ty, syn::Type::Path(p)
                    if p.path.segments.last().is_some_and(|s| s.ident == "Option"));
                if callback && let Some(h) = headers.get(name.as_str()) {
                    t.attrs.insert(0, doc_link("nc", h, &name));
                }
            }
            _ => {}
        }
    }
}

/// The preamble of a generated file: the command, the kit, the target, the
/// NDIS versions, the tools.
fn preamble(run: &Run<'_>, spec: &CrateSpec, arch: Arch, versions: &[String], made: &[&String]) -> String {
    let Run { kit, settings, libclang, .. } = *run;
    let mut text = String::new();
    let _ = writeln!(text, "// @generated by `{}`.", settings.command);
    let _ = writeln!(text, "// Do not edit: change {}/bindings.toml and regenerate.", spec.name);
    let ndis = match versions {
        [] | [_] => format!("NDIS{}", settings.ndis),
        [_, more @ ..] => format!(
            "NDIS{} (default), {} (features {})",
            settings.ndis,
            more.iter().map(|v| format!("NDIS{v}")).collect::<Vec<_>>().join(", "),
            more.iter().map(|v| format!("ndis{v}")).collect::<Vec<_>>().join(", ")
        ),
    };
    let _ = writeln!(text, "// Kit: Windows Kits {} (km, shared); target: {}; {ndis}.", kit.version, arch.triple());
    if made.len() < versions.len() {
        let made: Vec<String> = made.iter().map(|v| format!("NDIS{v}")).collect();
        let _ = writeln!(
            text,
            "{ASSEMBLED_LINE}bindgen ran for {}; the other versions are assembled from those (xtask/src/regen/assemble.rs).",
            made.join(", ")
        );
    }
    let _ = writeln!(text, "{TOOLS_LINE}bindgen {}, libclang {libclang}.", settings.bindgen_version);
    let _ = writeln!(text, "{PREAMBLE_END}");
    text.push('\n');
    text
}

/// Counts of one census cell: declared = bound + excluded + missing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Count {
    /// Bound (in the crate, or in a crate it reuses).
    pub bound: usize,
    /// Excluded, by rule.
    pub excluded: BTreeMap<String, usize>,
    /// Neither bound nor excluded.
    pub missing: Vec<String>,
}

impl Count {
    /// Everything the header declares of this kind.
    pub fn declared(&self) -> usize {
        self.bound + self.excluded.values().sum::<usize>() + self.missing.len()
    }
}

/// One row of the census: a crate's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The crate.
    pub krate: String,
    /// The header, kit-relative.
    pub header: String,
    /// Functions, records (and types), constants.
    pub cells: [Count; 3],
}

/// The census of one arch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// The arch.
    pub arch: Arch,
    /// One row per header bound whole.
    pub rows: Vec<Row>,
}

fn census_of(spec: &CrateSpec, rules: &Rules, arch: Arch, arch_scan: &ArchScan, names: &BTreeSet<String>) -> Vec<Row> {
    let mut rows: BTreeMap<String, [Count; 3]> = BTreeMap::new();
    let mut items: Vec<(String, String, Kind, Option<String>)> =
        arch_scan.scan.decls.iter().map(|d| (d.file.clone(), d.name.clone(), d.kind, d.parent.clone())).collect();
    for (name, file) in &arch_scan.scan.macros {
        if arch_scan.values.contains_key(name) {
            items.push((file.clone(), name.clone(), Kind::Constant, None));
        }
    }
    let mut seen = BTreeSet::new();
    for (file, name, kind, parent) in items {
        if !rules.covers(&file) || !seen.insert((name.clone(), kind.column())) {
            continue;
        }
        let cell = match kind {
            Kind::Function | Kind::InlineFunction => 0,
            Kind::Record => 1,
            Kind::Constant => 2,
        };
        let count = &mut rows.entry(file).or_default()[cell];
        if kind != Kind::InlineFunction && names.contains(&name) {
            count.bound += 1;
        } else if let Some(rule) =
            rules.excluded(&name, kind).or_else(|| parent.as_deref().and_then(|p| rules.excluded(p, Kind::Record)))
        {
            *count.excluded.entry(rule.to_owned()).or_default() += 1;
        } else {
            count.missing.push(name);
        }
    }
    let _ = arch;
    rows.into_iter().map(|(header, cells)| Row { krate: spec.name.clone(), header, cells }).collect()
}

/// What the libclang jobs made for one arch: per crate, which versions
/// bindgen ran for and its output for each; the census scans by version.
#[derive(Clone, Copy)]
struct Made<'a> {
    generated: &'a [Vec<bool>],
    bodies: &'a [Vec<String>],
    scans: &'a BTreeMap<String, ArchScan>,
}

/// Finishes every crate of one arch, in order (a crate reuses those before
/// it), each from its bindings for every NDIS version it ships: generated
/// (bindgen's output for this arch, `own`) or assembled ([`assemble`]) from
/// those and from the first arch's (`first`, for another arch).
#[allow(clippy::too_many_arguments, reason = "one call site, every argument a different input")]
fn finish_arch(
    run: &Run<'_>,
    crates: &[CrateSpec],
    configs: &[Config],
    rules: &[Rules],
    arch: Arch,
    versions: &[Vec<String>],
    own: Made<'_>,
    first: Option<Made<'_>>,
) -> Result<(Vec<Output>, Census), Error> {
    let default = &run.settings.ndis;
    let scans = own.scans;
    let mut outputs = Vec::new();
    // The public names of each crate done, and every name it binds (of the
    // default version: what the crates reusing it are generated against).
    let mut done: Vec<(String, BTreeSet<String>, BTreeSet<String>)> = Vec::new();
    let mut rows = Vec::new();
    for (k, (((spec, config), rules), versions)) in crates.iter().zip(configs).zip(rules).zip(versions).enumerate() {
        // What `krate::NAME` resolves to, per reused crate; and every
        // name those crates bind, with what they reuse in turn.
        let reused: Vec<(String, BTreeSet<String>)> =
            done.iter().filter(|(n, ..)| config.reuse.contains(n)).map(|(n, p, _)| (n.clone(), p.clone())).collect();
        let reused_names: BTreeSet<String> =
            done.iter().filter(|(n, ..)| config.reuse.contains(n)).flat_map(|(_, _, a)| a.iter().cloned()).collect();
        // bindgen's items of the versions generated for this arch, and of
        // those generated for the first arch only (`true`: another arch's).
        let mut made: Vec<(u32, &String, syn::File, bool)> = Vec::new();
        let mut add = |from: Made<'_>, foreign: bool| -> Result<(), Error> {
            let ran = versions.iter().zip(&from.generated[k]).filter(|(_, g)| **g).map(|(v, _)| v);
            for (version, body) in ran.zip(&from.bodies[k]) {
                if foreign && made.iter().any(|(_, v, ..)| *v == version) {
                    continue;
                }
                let items = timed(&format!("bindgen items {} {} NDIS{version}", spec.name, arch.name()), || {
                    bindgen_items(config, rules, body, &from.scans[version], &reused_names)
                })?;
                made.push((version.parse().unwrap_or(0), version, items, foreign));
            }
            Ok(())
        };
        add(own, false)?;
        if let Some(first) = first {
            add(first, true)?;
        }
        made.sort_by_key(|(n, ..)| *n);
        let made_here = |version: &String| made.iter().any(|(_, v, _, foreign)| *v == version && !foreign);
        // Each version's own items: its imports and its constants.
        let mut extras: Vec<(syn::File, syn::File)> = Vec::new();
        let mut parsed = std::collections::HashMap::new();
        for version in versions {
            let consts = timed(&format!("constants {} {} NDIS{version}", spec.name, arch.name()), || {
                constant_items(run, config, rules, &scans[version], &reused_names, &mut parsed)
            })?;
            let uses = match made.iter().find(|(_, v, _, foreign)| *v == version && !foreign) {
                Some((_, _, items, _)) => imports(config, &reused, &[items, &consts])?,
                // An assembled version's imports would be those of items
                // from several versions: a crate that reuses another is
                // generated at every version it ships.
                None if !reused.is_empty() => {
                    return Err(Error::new(format!(
                        "{}: NDIS{version} would be assembled, but the crate reuses {}: list every version in \
                         ndis_generate",
                        spec.name,
                        config.reuse.join(", ")
                    )));
                }
                None => syn::File { shebang: None, attrs: Vec::new(), items: Vec::new() },
            };
            extras.push((uses, consts));
        }
        let mut arena = merge::Arena::default();
        let sources: Vec<assemble::Generated<'_>> = timed(&format!("index {} {}", spec.name, arch.name()), || {
            made.iter()
                .map(|(n, v, items, foreign)| {
                    let fingerprints = match (foreign, first) {
                        (true, Some(first)) => &first.scans[*v].scan.fingerprints,
                        _ => &scans[*v].scan.fingerprints,
                    };
                    assemble::Generated::new(*n, items, fingerprints, *foreign, &mut arena)
                })
                .collect()
        });
        let mut elems: Vec<Vec<merge::Elem>> = Vec::new();
        for (version, (uses, consts)) in versions.iter().zip(&extras) {
            let scan = &scans[version];
            let body = match sources.iter().find(|g| !g.foreign() && g.version().to_string() == **version) {
                Some(g) => g.elems(),
                None => timed(&format!("assemble {} {} NDIS{version}", spec.name, arch.name()), || {
                    let roots = roots(config, rules, scan)?;
                    assemble::assemble(version.parse().unwrap_or(0), &scan.scan.fingerprints, &roots, &sources)
                        .map_err(|names| not_assembled(spec, arch, version, &made, "declares differently", &names))
                })?,
            };
            let mut version_elems = arena.file(uses);
            version_elems.extend(body);
            version_elems.extend(arena.file(consts));
            if !made_here(version) {
                // What the version declares and binds by rule must be there.
                let names: BTreeSet<String> =
                    item_names(&arena, &version_elems).union(&reused_names).cloned().collect();
                let missing: Vec<String> = census_of(spec, rules, arch, scan, &names)
                    .into_iter()
                    .flat_map(|r| r.cells.into_iter().flat_map(|c| c.missing))
                    .collect();
                if !missing.is_empty() {
                    return Err(not_assembled(spec, arch, version, &made, "alone declares", &missing));
                }
            }
            elems.push(version_elems);
        }
        let default_scan = &scans[default];
        let mut public = item_names(&arena, &elems[0]);
        for private in &config.private {
            public.remove(private);
        }
        let all: BTreeSet<String> = public.union(&reused_names).cloned().collect();
        rows.extend(census_of(spec, rules, arch, default_scan, &all));
        done.push((spec.name.clone(), public, all));
        let body = timed(&format!("merge and print {} {}", spec.name, arch.name()), || {
            prettyplease::unparse(&merge::merge(&arena, versions, &elems))
        });
        let made: Vec<&String> = made.iter().filter(|(.., foreign)| !foreign).map(|(_, v, ..)| *v).collect();
        let text = format!("{}{body}", preamble(run, spec, arch, versions, &made));
        outputs.push(Output { path: spec.output(arch), text });
    }
    Ok((outputs, Census { arch, rows }))
}

/// Every name a crate's allowlist asks for (functions, types, constants).
fn allowlisted(config: &Config) -> Result<Names, Error> {
    let mut asked = config.allowlist.functions.clone();
    asked.extend(config.allowlist.types.iter().cloned());
    asked.extend(config.allowlist.vars.iter().cloned());
    Names::new(&asked)
}

/// The declarations of a scan a crate binds whatever needs them: those of
/// the headers it binds whole less its exclusions, and its allowlist.
fn roots(config: &Config, rules: &Rules, arch_scan: &ArchScan) -> Result<BTreeSet<String>, Error> {
    let asked = allowlisted(config)?;
    Ok(arch_scan
        .scan
        .decls
        .iter()
        .filter(|d| {
            asked.matches(&d.name)
                || (d.kind != Kind::InlineFunction
                    && rules.covers(&d.file)
                    && rules.excluded(&d.name, d.kind).is_none()
                    && d.parent.as_deref().is_none_or(|p| rules.excluded(p, Kind::Record).is_none()))
        })
        .map(|d| d.name.clone())
        .collect())
}

/// The error for a version that cannot be assembled from the generated ones.
fn not_assembled(
    spec: &CrateSpec,
    arch: Arch,
    version: &str,
    made: &[(u32, &String, syn::File, bool)],
    what: &str,
    names: &[String],
) -> Error {
    let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
    let more =
        if names.len() > shown.len() { format!(" and {} more", names.len() - shown.len()) } else { String::new() };
    let made: Vec<String> = made
        .iter()
        .map(|(_, v, _, foreign)| format!("NDIS{v}{}", if *foreign { " of the first arch" } else { "" }))
        .collect();
    Error::new(format!(
        "{}: NDIS{version} ({}) {what} what no generated version ({}) has: {}{more}. \
         Add \"{version}\" to ndis_generate in {}/bindings.toml.",
        spec.name,
        arch.name(),
        made.join(", "),
        shown.join(", "),
        spec.name
    ))
}

/// The text of the kit's `ndis/version.h`, when it has one.
fn version_header(kit: &Kit) -> Option<String> {
    [kit.shared.join("ndis").join("version.h"), kit.km.join("ndis").join("version.h")]
        .into_iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
}

/// The NDIS versions the kit's `ndis/version.h` ladder defines from `from`
/// on (`630` for NDIS 6.30), ascending: each `#define NDIS_SUPPORT_NDISv 1`.
/// Empty for a kit without that header.
pub fn kit_ndis_versions(kit: &Kit, from: u32) -> Vec<String> {
    let mut out: Vec<u32> = version_header(kit)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('#')?.trim_start().strip_prefix("define")?.trim_start();
            let (digits, value) = rest.strip_prefix("NDIS_SUPPORT_NDIS")?.split_once(char::is_whitespace)?;
            (value.trim() == "1").then(|| digits.parse().ok())?
        })
        .filter(|&v| v >= from && v >= 100)
        .collect();
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|v| v.to_string()).collect()
}

/// Runs `f`; with `NDIS_RS_REGEN_TIMES=1`, prints how long it took.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    if std::env::var_os("NDIS_RS_REGEN_TIMES").is_some_and(|v| v == "1") {
        eprintln!("regen time: {what}: {:.2} s", start.elapsed().as_secs_f64());
    }
    out
}

/// The executable that runs the libclang jobs, each in a process of its own
/// (see [`use_job_exe`]); none: they run one after another in this process.
static JOB_EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes every later regen run its bindgen jobs as `exe regen-job SPEC`, as
/// many at once as the machine has cores (the census scans and the
/// precompiled headers, libclang's work alone with an index each, run on
/// the job threads themselves). `exe` is the xtask binary (`cargo xtask`
/// passes itself; a test passes `CARGO_BIN_EXE_xtask`). Processes, not
/// threads: bindgen keeps per-process state and libclang documents no
/// thread safety for it, and separate processes also spare the parse the
/// lock contention of one shared heap. Only the first call counts.
pub fn use_job_exe(exe: PathBuf) {
    let _ = JOB_EXE.set(exe);
}

/// One libclang job: a bindgen run for one crate, a census scan, or a
/// precompiled header, for one arch and NDIS version. A bindgen run's is
/// written to a file for the process that runs it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    /// `None`: the census scan; else the index in `crates` of the crate
    /// bindgen runs for.
    krate: Option<usize>,
    arch: Arch,
    ndis: String,
    /// Every crate generated (name, folder), in order.
    crates: Vec<(String, PathBuf)>,
    kit: Kit,
    overlay_file: PathBuf,
    scratch: PathBuf,
    /// The scan's headers.
    headers: Vec<String>,
    /// The scan's macros to evaluate.
    names: BTreeSet<String>,
    /// Where the result goes: bindgen's text, or the scan as JSON.
    out: PathBuf,
    /// What the job is, for timings and errors.
    what: String,
    /// The header every parse starts from precompiled, if any.
    precompiled: Option<String>,
    /// This job makes the precompiled header (for `arch`).
    precompile: bool,
}

/// Runs one job in this process: `cargo xtask regen-job SPEC` (the spec
/// file a regen wrote). Writes the result to the file the spec names.
pub fn run_job(spec: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(spec).map_err(|e| Error::new(format!("cannot read {}: {e}", spec.display())))?;
    let job: Job =
        serde_json::from_str(&text).map_err(|e| Error::new(format!("{} is not a regen job: {e}", spec.display())))?;
    do_job(&job)
}

fn do_job(job: &Job) -> Result<(), Error> {
    let libclang = load_libclang()?;
    let settings = Settings {
        ndis: job.ndis.clone(),
        command: String::new(),
        bindgen_version: String::new(),
        every_version: false,
    };
    let run = Run {
        kit: &job.kit,
        settings: &settings,
        overlay_file: &job.overlay_file,
        scratch: &job.scratch,
        libclang: &libclang,
        precompiled: job.precompiled.as_deref(),
    };
    let text = timed(&job.what, || -> Result<String, Error> {
        if let (true, Some(header)) = (job.precompile, &job.precompiled) {
            let args = run.base_args(job.arch);
            let stem = format!("precompiled-{}", job.arch.name());
            let macros =
                census::precompile(&format!("#include <{header}>\n"), &job.scratch, &stem, &args, &run.pch(job.arch))?;
            return serde_json::to_string(&macros).map_err(|e| Error::new(format!("cannot write the macros: {e}")));
        }
        match job.krate {
            None => {
                let scan = scan_arch(&run, &job.headers, &job.names, job.arch, &job.ndis)?;
                serde_json::to_string(&scan).map_err(|e| Error::new(format!("cannot write a census scan: {e}")))
            }
            Some(i) => {
                let crates: Vec<CrateSpec> =
                    job.crates.iter().map(|(name, dir)| CrateSpec { name: name.clone(), dir: dir.clone() }).collect();
                let configs: Vec<Config> = crates.iter().map(read_config).collect::<Result<_, _>>()?;
                let reused: Vec<&Config> = configs[i]
                    .reuse
                    .iter()
                    .filter_map(|name| crates.iter().position(|c| &c.name == name).map(|at| &configs[at]))
                    .collect();
                bindgen_one(&run, &crates[i], &configs[i], job.arch, &job.ndis, &reused)
            }
        }
    })?;
    std::fs::write(&job.out, text).map_err(|e| Error::new(format!("cannot write {}: {e}", job.out.display())))
}

/// Runs one job where [`use_job_exe`] says: in a process of [`JOB_EXE`], or,
/// with none set, in this process. The result is left in `job.out`.
fn exec_job(job: &Job) -> Result<(), Error> {
    // A census scan or a precompiled header is libclang's work alone, safe
    // on a thread of this process (an index of its own): no process to start,
    // no second load of libclang.
    let in_process = job.krate.is_none();
    let Some(exe) = JOB_EXE.get().filter(|_| !in_process) else { return do_job(job) };
    let spec = job.out.with_extension("job.json");
    serde_json::to_string(job)
        .map_err(|e| e.to_string())
        .and_then(|t| std::fs::write(&spec, t).map_err(|e| e.to_string()))
        .map_err(|e| Error::new(format!("{}: cannot write {}: {e}", job.what, spec.display())))?;
    let out = std::process::Command::new(exe)
        .arg("regen-job")
        .arg(&spec)
        .output()
        .map_err(|e| Error::new(format!("cannot run {} for {}: {e}", exe.display(), job.what)))?;
    // On success, the job's timing lines, when asked for; else its error.
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        eprint!("{stderr}");
        Ok(())
    } else {
        Err(Error::new(stderr.trim().trim_start_matches("error: ")))
    }
}

/// Runs every job with [`exec_job`]: in processes, as many at once as the
/// machine has cores; in this process, one after another. Jobs start in the
/// order given (the longest first) and none starts after a failure, so every
/// job before a failed one has run: the error returned is that of the first
/// failing job in the jobs' order, whatever order they finished in. Returns
/// the result files' contents, in the jobs' order.
fn run_jobs(jobs: &[Job]) -> Result<Vec<String>, Error> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = match JOB_EXE.get() {
        Some(_) => std::thread::available_parallelism().map_or(2, std::num::NonZero::get).min(jobs.len()),
        None => 1,
    };
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    // The census scans start from the precompiled headers: they wait until
    // every precompile job has ended (those come first in `jobs`).
    let precompiles = jobs.iter().filter(|j| j.precompile).count();
    let precompiled = (std::sync::Mutex::new(0usize), std::sync::Condvar::new());
    let work = || {
        let mut failures = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = jobs.get(i).filter(|_| !failed.load(Ordering::SeqCst)) else { break };
            if job.krate.is_none() && !job.precompile {
                let (count, ended) = &precompiled;
                let mut n = count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                while *n < precompiles && !failed.load(Ordering::SeqCst) {
                    n = ended.wait(n).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            }
            let result = exec_job(job);
            if let Err(e) = result {
                failed.store(true, Ordering::SeqCst);
                failures.push((i, e));
            }
            if job.precompile {
                let (count, ended) = &precompiled;
                *count.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
                ended.notify_all();
            }
        }
        failures
    };
    let mut failures = std::thread::scope(|s| {
        let handles: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut failures = work();
        for h in handles {
            failures.extend(h.join().unwrap_or_else(|_| vec![(0, Error::new("a job runner panicked"))]));
        }
        failures
    });
    failures.sort_by_key(|(i, _)| *i);
    if let Some((_, first)) = failures.into_iter().next() {
        return Err(first);
    }
    jobs.iter()
        .map(|job| std::fs::read_to_string(&job.out).map_err(|e| Error::new(format!("{}: no result ({e})", job.what))))
        .collect()
}

/// A post-processing thread's result; a panic is an error.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, Error>>) -> Result<T, Error> {
    h.join().unwrap_or_else(|_| Err(Error::new("a post-processing thread panicked")))
}

/// Generates every crate for every arch, in memory, with the census of
/// what each crate binds of the headers it binds whole.
pub fn generate(kit: &Kit, crates: &[CrateSpec], settings: &Settings) -> Result<(Vec<Output>, Vec<Census>), Error> {
    let libclang = load_libclang()?;
    let configs: Vec<Config> = crates.iter().map(read_config).collect::<Result<_, _>>()?;
    let rules: Vec<Rules> = configs.iter().map(Rules::new).collect::<Result<_, _>>()?;
    for (spec, config) in crates.iter().zip(&configs) {
        for reuse in &config.reuse {
            if !crates.iter().take_while(|c| c.name != spec.name).any(|c| &c.name == reuse) {
                return Err(Error::new(format!(
                    "{}/bindings.toml reuses {reuse}, which is not generated before it",
                    spec.name
                )));
            }
        }
    }
    let mut roots: Vec<&str> = Vec::new();
    for header in configs.iter().flat_map(|c| &c.headers) {
        if !roots.contains(&header.as_str()) {
            roots.push(header);
        }
    }
    let plan = timed("overlay", || overlay::plan(kit, &roots))?;
    let scratch = tempfile::Builder::new()
        .prefix("ndis-rs-regen-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot make a scratch folder: {e}")))?;
    let overlay_file = overlay::write(&plan, scratch.path())?;
    // The header every parse starts from, precompiled once per arch: the
    // one all the crates name (none when they differ).
    let precompiled: Option<String> = configs
        .first()
        .and_then(|c| c.precompiled.clone())
        .filter(|h| configs.iter().all(|c| c.precompiled.as_ref() == Some(h)));
    let run = Run {
        kit,
        settings,
        overlay_file: &overlay_file,
        scratch: scratch.path(),
        libclang: &libclang,
        precompiled: precompiled.as_deref(),
    };

    // The NDIS versions of each crate: the default, then those of its
    // features that this kit's ladder defines (a kit without the ladder's
    // header: every one).
    let ladder = version_header(kit).map(|_| kit_ndis_versions(kit, 0));
    let number = |v: &String| v.parse::<u32>().unwrap_or(0);
    let default_number = number(&settings.ndis);
    let versions: Vec<Vec<String>> = configs
        .iter()
        .map(|c| {
            // Ascending from the default: a feature selects its version and
            // every one below it.
            let mut more: Vec<String> = c
                .ndis_versions
                .iter()
                .filter(|n| number(n) > default_number && ladder.as_ref().is_none_or(|l| l.contains(n)))
                .cloned()
                .collect();
            more.sort_by_key(number);
            more.dedup();
            let mut v = vec![settings.ndis.clone()];
            v.extend(more);
            v
        })
        .collect();
    // Those bindgen runs for: the default, the newest, and `ndis_generate`
    // (all when absent, or with `--every-version`); the others are
    // assembled. (The newest is the one the additions of every version
    // since the last change of a layout come from; a kit with an older
    // ladder has another newest.)
    //
    // The first arch runs bindgen for those; another (aarch64) only for the
    // default and the newest, and takes each declaration of the versions
    // between from those of the first arch that it declares the same way
    // (the same fingerprint: layout included), its own helpers from its own
    // runs.
    let generated: Vec<Vec<Vec<bool>>> = Arch::ALL
        .iter()
        .enumerate()
        .map(|(a, _)| {
            configs
                .iter()
                .zip(&versions)
                .map(|(c, vs)| {
                    let across = a > 0 && c.reuse.is_empty();
                    vs.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            i == 0
                                || i + 1 == vs.len()
                                || settings.every_version
                                || (!across && c.ndis_generate.as_ref().is_none_or(|g| g.contains(v)))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let all_versions: BTreeSet<String> = versions.iter().flatten().cloned().collect();

    // The macros of the headers read for the overlay that a crate binds or
    // the census counts; those that are not integer constants (or are
    // defined under another condition) fail to evaluate and are left out.
    let names: BTreeSet<String> = plan
        .defines
        .iter()
        .filter(|(name, file)| {
            let file = census::kit_relative(&file.to_string_lossy());
            rules.iter().any(|r| r.covers(&file) || r.vars.matches(name))
        })
        .map(|(name, _)| name.clone())
        .collect();

    // The jobs, longest first: bindgen for each crate, arch and NDIS
    // version, then one census scan per arch and version.
    let crate_list: Vec<(String, PathBuf)> = crates.iter().map(|c| (c.name.clone(), c.dir.clone())).collect();
    let job = |krate, arch, ndis: &String, out: String, what: String| Job {
        krate,
        arch,
        ndis: ndis.clone(),
        crates: crate_list.clone(),
        kit: kit.clone(),
        overlay_file: overlay_file.clone(),
        scratch: scratch.path().to_path_buf(),
        headers: Vec::new(),
        names: BTreeSet::new(),
        out: scratch.path().join(out),
        what,
        precompiled: precompiled.clone(),
        precompile: false,
    };
    let mut jobs = Vec::new();
    for (arch, generated) in Arch::ALL.into_iter().zip(&generated) {
        for (i, ((spec, vs), made)) in crates.iter().zip(&versions).zip(generated).enumerate() {
            for v in vs.iter().zip(made).filter(|(_, g)| **g).map(|(v, _)| v) {
                let (name, a) = (&spec.name, arch.name());
                jobs.push(job(
                    Some(i),
                    arch,
                    v,
                    format!("{name}-{a}-{v}.rs.out"),
                    format!("bindgen {name} {a} NDIS{v}"),
                ));
            }
        }
    }
    let mut scan_keys = Vec::new();
    for arch in Arch::ALL {
        for v in &all_versions {
            // The headers of the crates generated for this version.
            let mut headers: Vec<String> = Vec::new();
            for (c, _) in configs.iter().zip(&versions).filter(|(_, vs)| vs.contains(v)) {
                for h in &c.headers {
                    if !headers.contains(h) {
                        headers.push(h.clone());
                    }
                }
            }
            scan_keys.push((arch, v.clone()));
            let a = arch.name();
            let scan = job(None, arch, v, format!("census-{a}-{v}.json.out"), format!("census scan {a} NDIS{v}"));
            jobs.push(Job { headers, names: names.clone(), ..scan });
        }
    }
    // First the precompiled headers the scans start from (bindgen does not).
    let pch: Vec<Job> = Arch::ALL
        .into_iter()
        .filter(|_| precompiled.is_some())
        .map(|arch| {
            let a = arch.name();
            let j = job(None, arch, &settings.ndis, format!("precompiled-{a}.out"), format!("precompile {a}"));
            Job { precompile: true, ..j }
        })
        .collect();
    let pch_count = pch.len();
    let jobs: Vec<Job> = pch.into_iter().chain(jobs).collect();
    let results = timed("libclang jobs", || run_jobs(&jobs))?;
    let (pch_texts, results) = results.split_at(pch_count);
    // The macros of the precompiled header, per arch: the scans do not see
    // them.
    let mut pch_macros: Vec<(Arch, BTreeMap<String, String>)> = Vec::new();
    for (arch, text) in Arch::ALL.into_iter().zip(pch_texts) {
        let macros: BTreeMap<String, String> = serde_json::from_str(text)
            .map_err(|e| Error::new(format!("the precompiled header's macros are unreadable: {e}")))?;
        pch_macros.push((arch, macros));
    }
    let (bodies, scans) = results.split_at(results.len() - scan_keys.len());

    // Post-processing, one thread per arch; crates in order within one.
    let mut scans_by_arch: Vec<BTreeMap<String, ArchScan>> = Arch::ALL.iter().map(|_| BTreeMap::new()).collect();
    for ((arch, v), text) in scan_keys.into_iter().zip(scans) {
        let mut scan: ArchScan = serde_json::from_str(text)
            .map_err(|e| Error::new(format!("the census scan of {} NDIS{v} is unreadable: {e}", arch.name())))?;
        // A macro the headers after the precompiled one define again is
        // theirs (the last definition).
        for (_, macros) in pch_macros.iter().filter(|(a, _)| *a == arch) {
            for (name, file) in macros {
                scan.scan.macros.entry(name.clone()).or_insert_with(|| file.clone());
            }
        }
        let i = Arch::ALL.iter().position(|a| *a == arch).unwrap_or(0);
        scans_by_arch[i].insert(v, scan);
    }
    let mut bodies = bodies.iter().cloned();
    let mut bodies_by_arch: Vec<Vec<Vec<String>>> = Vec::new();
    for generated in &generated {
        bodies_by_arch
            .push(generated.iter().map(|g| bodies.by_ref().take(g.iter().filter(|g| **g).count()).collect()).collect());
    }
    let finished = std::thread::scope(|s| {
        let handles: Vec<_> = Arch::ALL
            .into_iter()
            .enumerate()
            .map(|(a, arch)| {
                let (run, configs, rules, versions) = (&run, &configs, &rules, &versions);
                let own = Made { generated: &generated[a], bodies: &bodies_by_arch[a], scans: &scans_by_arch[a] };
                let first = Made { generated: &generated[0], bodies: &bodies_by_arch[0], scans: &scans_by_arch[0] };
                s.spawn(move || {
                    timed(&format!("post-processing {}", arch.name()), || {
                        finish_arch(run, crates, configs, rules, arch, versions, own, (a > 0).then_some(first))
                    })
                })
            })
            .collect();
        handles.into_iter().map(joined).collect::<Result<Vec<_>, Error>>()
    })?;
    let mut outputs = Vec::new();
    let mut censuses = Vec::new();
    for (out, census) in finished {
        outputs.extend(out);
        censuses.push(census);
    }
    Ok((outputs, censuses))
}

/// The census as a table, with every item neither bound nor excluded listed
/// under it.
pub fn census_table(censuses: &[Census]) -> String {
    let mut out = String::new();
    let cell = |c: &Count| -> String {
        let mut s = format!("{}/{}", c.bound, c.declared());
        if !c.excluded.is_empty() {
            let rules: Vec<String> = c.excluded.iter().map(|(r, n)| format!("{r} {n}")).collect();
            s.push_str(&format!(" (excl. {})", rules.join(", ")));
        }
        if !c.missing.is_empty() {
            s.push_str(&format!(" [{} UNACCOUNTED]", c.missing.len()));
        }
        s
    };
    let first = censuses.first();
    for census in censuses {
        if census.arch != Arch::X86_64 && first.is_some_and(|f| f.rows == census.rows) {
            let _ = writeln!(out, "{}: the same as {}", census.arch.name(), Arch::X86_64.name());
            continue;
        }
        let _ = writeln!(out, "census ({}): bound/declared (excluded by rule)", census.arch.name());
        let _ = writeln!(out, "| crate | header | functions | records and types | constants |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for row in &census.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                row.krate,
                row.header,
                cell(&row.cells[0]),
                cell(&row.cells[1]),
                cell(&row.cells[2])
            );
        }
        for row in &census.rows {
            for c in &row.cells {
                if !c.missing.is_empty() {
                    let _ = writeln!(
                        out,
                        "  {} {} neither bound nor excluded: {}",
                        row.krate,
                        row.header,
                        c.missing.join(", ")
                    );
                }
            }
        }
    }
    out
}

/// Every item of the census neither bound nor excluded.
pub fn unaccounted(censuses: &[Census]) -> usize {
    censuses.iter().flat_map(|c| &c.rows).flat_map(|r| &r.cells).map(|c| c.missing.len()).sum()
}

/// The part of a generated file `--check` compares: all but the tools line.
fn comparable(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with(TOOLS_LINE) && !l.starts_with(ASSEMBLED_LINE)).collect::<Vec<_>>().join("\n")
}

/// Compares outputs with the checked-in files; lists those that differ.
pub fn check(outputs: &[Output]) -> Vec<String> {
    let mut stale = Vec::new();
    for out in outputs {
        match std::fs::read_to_string(&out.path) {
            Err(_) => stale.push(format!("{} is missing", out.path.display())),
            Ok(existing) => {
                let (a, b) = (comparable(&existing), comparable(&out.text));
                if a != b {
                    let line = a
                        .lines()
                        .zip(b.lines())
                        .position(|(x, y)| x != y)
                        .map_or_else(|| a.lines().count().min(b.lines().count()) + 1, |i| i + 1);
                    stale.push(format!("{} differs from line {line}", out.path.display()));
                }
            }
        }
    }
    stale
}

/// Writes every output, each through a temporary file and a rename.
pub fn write(outputs: &[Output]) -> Result<(), Error> {
    // Stage everything first: a failure here leaves every file as it was.
    let mut staged = Vec::new();
    for out in outputs {
        let dir = out.path.parent().ok_or_else(|| Error::new("output has no folder"))?;
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        let tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| Error::new(format!("cannot write in {}: {e}", dir.display())))?;
        std::fs::write(tmp.path(), &out.text)
            .map_err(|e| Error::new(format!("cannot write {}: {e}", tmp.path().display())))?;
        staged.push((tmp, &out.path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| Error::new(format!("cannot replace {}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test binary never calls `use_job_exe`: its regens run their
    /// libclang jobs one after another in this process, the fallback a
    /// library user without the xtask binary gets.
    #[test]
    fn without_a_job_executable_the_jobs_run_in_this_process() {
        if let Err(e) = load_libclang() {
            crate::skip(&format!("libclang is not available ({e})"));
            return;
        }
        assert!(JOB_EXE.get().is_none());
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures");
        let tmp = tempfile::tempdir().unwrap();
        let crates: Vec<CrateSpec> = ["fix-a-sys", "fix-b-sys"]
            .into_iter()
            .map(|name| {
                let dir = tmp.path().join(name);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::copy(fixtures.join("crates").join(name).join("bindings.toml"), dir.join("bindings.toml"))
                    .unwrap();
                CrateSpec { name: name.to_owned(), dir }
            })
            .collect();
        let args = crate::RegenArgs { wdk: Some(fixtures.join("kit")), ..Default::default() };
        crate::regen(&args, &crates, &crate::workspace_root()).unwrap();
        for arch in Arch::ALL {
            let a = std::fs::read_to_string(crates[0].output(arch)).unwrap();
            assert!(a.contains("pub fn FixAllocate("), "{a}");
            assert!(a.contains("pub const FIX_STATUS_FAILED: NTSTATUS = -1073741823;"), "{a}");
        }
        // A second run, checking, finds the same files.
        crate::regen(&crate::RegenArgs { check: true, ..args }, &crates, &crate::workspace_root()).unwrap();
    }
}
