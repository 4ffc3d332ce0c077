//! `cargo xtask regen`: bindgen over the kit's headers into the -sys crates.
//!
//! What each crate gets is declared in its `bindings.toml`. Every output is
//! generated in memory first; only when all of them succeeded is anything
//! written, each file through a temporary file and a rename, so that a failed
//! regen leaves every checked-in file as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bindgen::callbacks::{IntKind, ParseCallbacks};
use serde::Deserialize;

use crate::Error;
use crate::kit::Kit;
use crate::overlay;

/// A Windows target the bindings are generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// What is generated (with everything it needs).
    pub allowlist: Items,
    /// Records generated as correctly sized and aligned blobs, for records
    /// whose fields bindgen cannot lay out (rust-bindgen#3177).
    #[serde(default)]
    pub opaque: Items,
    /// Never generated.
    #[serde(default)]
    pub blocklist: Items,
    /// The Rust type of integer constants, by name prefix (the longest
    /// matching prefix wins): `"NDIS_STATUS_" = "NDIS_STATUS"`. A constant no
    /// prefix matches gets bindgen's choice (`u32` or `i32` by its value).
    #[serde(default)]
    pub constant_types: BTreeMap<String, String>,
}

/// Gives integer constants the C type their users compare them with.
#[derive(Debug)]
struct ConstantTypes(Vec<(String, &'static str)>);

impl ParseCallbacks for ConstantTypes {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        let (_, ty) = self
            .0
            .iter()
            .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())?;
        let is_signed = matches!(
            *ty,
            "NDIS_STATUS" | "NTSTATUS" | "LONG" | "CSHORT" | "INT" | "isize" | "i8" | "i16" | "i32" | "i64"
        );
        Some(IntKind::Custom { name: ty, is_signed })
    }
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

/// What a crate takes from the crates it reuses.
struct Reused<'a> {
    configs: Vec<&'a Config>,
    names: BTreeSet<String>,
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
fn remove_items(text: &str, names: &BTreeSet<String>) -> Result<String, Error> {
    let mut file =
        syn::parse_file(text).map_err(|e| Error::new(format!("generated bindings do not parse as Rust: {e}")))?;
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
    Ok(prettyplease::unparse(&file))
}

/// The item names (types, functions, constants) of a generated file.
fn item_names(text: &str) -> Result<BTreeSet<String>, Error> {
    let file =
        syn::parse_file(text).map_err(|e| Error::new(format!("generated bindings do not parse as Rust: {e}")))?;
    let mut names = BTreeSet::new();
    for item in file.items {
        let ident = match item {
            syn::Item::Struct(i) => i.ident,
            syn::Item::Union(i) => i.ident,
            syn::Item::Enum(i) => i.ident,
            syn::Item::Type(i) => i.ident,
            syn::Item::Const(i) => i.ident,
            syn::Item::Static(i) => i.ident,
            syn::Item::Fn(i) => i.sig.ident,
            syn::Item::Use(u) => match use_rename(&u) {
                Some(name) => name.clone(),
                None => continue,
            },
            syn::Item::ForeignMod(m) => {
                for f in m.items {
                    match f {
                        syn::ForeignItem::Fn(f) => names.insert(f.sig.ident.to_string()),
                        syn::ForeignItem::Static(s) => names.insert(s.ident.to_string()),
                        _ => false,
                    };
                }
                continue;
            }
            _ => continue,
        };
        names.insert(ident.to_string());
    }
    Ok(names)
}

/// What every crate's and arch's generation shares.
struct Run<'a> {
    kit: &'a Kit,
    settings: &'a Settings,
    overlay_file: &'a Path,
    scratch: &'a Path,
    libclang: &'a str,
}

/// Generates one crate for one arch.
fn generate_one(
    run: &Run<'_>,
    spec: &CrateSpec,
    config: &Config,
    arch: Arch,
    reused: Option<&Reused<'_>>,
) -> Result<String, Error> {
    let Run { kit, settings, overlay_file, scratch, libclang } = *run;
    let mut wrapper = String::new();
    let _ = writeln!(wrapper, "/* {} for {} */", spec.name, arch.triple());
    for header in &config.headers {
        let _ = writeln!(wrapper, "#include <{header}>");
    }
    let wrapper_path = scratch.join(format!("{}-{}.h", spec.name, arch.name()));
    std::fs::write(&wrapper_path, &wrapper)
        .map_err(|e| Error::new(format!("cannot write {}: {e}", wrapper_path.display())))?;

    let mut args = vec![
        format!("--target={}", arch.triple()),
        "-fms-compatibility".into(),
        "-fms-extensions".into(),
        "-fms-compatibility-version=19.40".into(),
        "-ivfsoverlay".into(),
        overlay_file.to_string_lossy().into_owned(),
        "-D_KERNEL_MODE=1".into(),
        format!("-DNDIS{}=1", settings.ndis),
    ];
    args.extend(arch.defines().iter().map(|d| format!("-D{d}")));
    for dir in overlay::search_dirs(kit) {
        args.push("-isystem".into());
        args.push(dir.to_string_lossy().into_owned());
    }

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
        .merge_extern_blocks(true)
        .wrap_unsafe_ops(true)
        .sort_semantically(true)
        .override_abi(bindgen::Abi::System, ".*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .translate_enum_integer_types(true)
        .generate_comments(false)
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(scratch)
        .formatter(bindgen::Formatter::Prettyplease)
        .parse_callbacks(Box::new(ConstantTypes(
            // bindgen wants `&'static str` type names: one small leak per
            // entry per run of this short-lived command.
            config.constant_types.iter().map(|(k, v)| (k.clone(), &*Box::leak(v.clone().into_boxed_str()))).collect(),
        )));
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
    if let Some(reused) = reused {
        // Lay out shared records exactly as the reused crates do.
        for config in &reused.configs {
            for t in &config.opaque.types {
                builder = builder.opaque_type(t);
            }
            for t in &config.blocklist.types {
                builder = builder.blocklist_type(t);
            }
        }
    }

    let bindings = builder.generate().map_err(|e| {
        Error::new(format!(
            "the kit's headers failed to parse for {} ({} from {}; libclang {libclang}):\n{e}\n\
             Check that the kit is complete (km/ and shared/), and use libclang 16 or newer.",
            arch.triple(),
            spec.name,
            kit.version
        ))
    })?;
    let mut body = bindings.to_string();
    if let Some(reused) = reused {
        // Generated with full knowledge of the reused crate's records (so
        // that derives and layouts come out right), then stripped of them.
        body = remove_items(&body, &reused.names)?;
    }
    let body = match &config.link {
        Some(lib) => body.replace(
            "unsafe extern \"system\" {",
            &format!("#[cfg_attr(feature = \"link\", link(name = \"{lib}\"))]\nunsafe extern \"system\" {{"),
        ),
        None => body,
    };

    let mut text = String::new();
    let _ = writeln!(text, "// @generated by `{}`.", settings.command);
    let _ = writeln!(text, "// Do not edit: change {}/bindings.toml and regenerate.", spec.name);
    let _ = writeln!(
        text,
        "// Kit: Windows Kits {} (km, shared); target: {}; NDIS{}.",
        kit.version,
        arch.triple(),
        settings.ndis
    );
    let _ = writeln!(text, "{TOOLS_LINE}bindgen {}, libclang {libclang}.", settings.bindgen_version);
    let _ = writeln!(text, "{PREAMBLE_END}");
    text.push('\n');
    for name in &config.reuse {
        let _ = writeln!(text, "#[allow(unused_imports)]\nuse {}::*;", name.replace('-', "_"));
    }
    if !config.reuse.is_empty() {
        text.push('\n');
    }
    text.push_str(&body);
    Ok(text)
}

/// Generates every crate for every arch, in memory.
pub fn generate(kit: &Kit, crates: &[CrateSpec], settings: &Settings) -> Result<Vec<Output>, Error> {
    let libclang = load_libclang()?;
    let configs: Vec<Config> = crates.iter().map(read_config).collect::<Result<_, _>>()?;
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
    let plan = overlay::plan(kit)?;
    let scratch = tempfile::Builder::new()
        .prefix("ndis-rs-regen-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot make a scratch folder: {e}")))?;
    let overlay_file = overlay::write(&plan, scratch.path())?;

    let run = Run { kit, settings, overlay_file: &overlay_file, scratch: scratch.path(), libclang: &libclang };
    let mut outputs: Vec<Output> = Vec::new();
    for arch in Arch::ALL {
        let mut done: Vec<(String, String)> = Vec::new();
        for (spec, config) in crates.iter().zip(&configs) {
            let reused = if config.reuse.is_empty() {
                None
            } else {
                let mut names = BTreeSet::new();
                let mut reused_configs = Vec::new();
                for name in &config.reuse {
                    let text = done.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()).unwrap_or("");
                    names.extend(item_names(text)?);
                    let cfg = crates
                        .iter()
                        .zip(&configs)
                        .find(|(c, _)| &c.name == name)
                        .map(|(_, cfg)| cfg)
                        .ok_or_else(|| Error::new(format!("{name} is not among the crates generated")))?;
                    reused_configs.push(cfg);
                }
                Some(Reused { configs: reused_configs, names })
            };
            let text = generate_one(&run, spec, config, arch, reused.as_ref())?;
            done.push((spec.name.clone(), text.clone()));
            outputs.push(Output { path: spec.output(arch), text });
        }
    }
    Ok(outputs)
}

/// The part of a generated file `--check` compares: all but the tools line.
fn comparable(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with(TOOLS_LINE)).collect::<Vec<_>>().join("\n")
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
