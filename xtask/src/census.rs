//! What the kit's headers declare, read with libclang: one parse of a
//! translation unit lists every function, record, type and object-like
//! macro with the header that declares it (the census), and evaluates the
//! macros that are integer constants, all in one batch, with the headers'
//! own types (casts, `sizeof`, `FIELD_OFFSET`, …) applied.

#![allow(non_upper_case_globals, reason = "libclang's constants, matched under their C names")]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString, c_void};
use std::hash::{Hash as _, Hasher as _};
use std::path::Path;

use clang_sys::*;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The kind of a declared item, as the census counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A function declaration (an export of the kit's module).
    Function,
    /// A function the header defines inline (no export: nothing to link).
    InlineFunction,
    /// A struct, union, enum or typedef.
    Record,
    /// An object-like macro or an enumerator; a `DEFINE_GUID` key.
    Constant,
}

impl Kind {
    /// The census column this kind is counted in.
    pub fn column(self) -> &'static str {
        match self {
            Kind::Function | Kind::InlineFunction => "functions",
            Kind::Record => "records",
            Kind::Constant => "constants",
        }
    }
}

/// One declared item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Decl {
    /// The header, relative to the kit's version folder (`km/ndis.h`).
    pub file: String,
    /// The C name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// The enum an enumerator belongs to.
    pub parent: Option<String>,
}

/// Everything a translation unit declares.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Scan {
    /// Functions, records and types, enumerators and GUID keys, by header.
    pub decls: Vec<Decl>,
    /// Object-like macros (name -> header), the last definition's header.
    pub macros: BTreeMap<String, String>,
    /// `extern const GUID` declarations (name -> header).
    pub guids: BTreeMap<String, String>,
    /// What bindgen's output for each declared name depends on, hashed
    /// ([`fingerprint`]): two scans (of two NDIS versions) with the same
    /// fingerprint for a name declare it the same way.
    pub fingerprints: BTreeMap<String, u64>,
}

/// An integer constant's value, as C computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    /// A signed value.
    Signed(i64),
    /// An unsigned value.
    Unsigned(u64),
}

/// The header path relative to the version folder: the part from the last
/// `km/` or `shared/` component on (`crt/` headers are under `km/`).
pub fn kit_relative(path: &str) -> String {
    let path = path.replace('\\', "/");
    let at = ["/km/", "/shared/"].iter().filter_map(|m| path.rfind(m)).max();
    match at {
        Some(i) => path[i + 1..].to_owned(),
        None => path.rsplit('/').next().unwrap_or(&path).to_owned(),
    }
}

/// An owned libclang string, as a Rust string.
fn take(s: CXString) -> String {
    // SAFETY: `s` came from libclang; clang_getCString returns a pointer into
    // it (or null), valid until it is disposed below.
    let ptr = unsafe { clang_getCString(s) };
    let out = if ptr.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null pointer from clang_getCString is a NUL-terminated string.
        unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
    };
    // SAFETY: disposed once, after its last use.
    unsafe { clang_disposeString(s) };
    out
}

fn spelling(c: CXCursor) -> String {
    // SAFETY: `c` is a cursor of a live translation unit.
    take(unsafe { clang_getCursorSpelling(c) })
}

/// The file a cursor is in, `None` for the predefines and the command line.
fn file_of(c: CXCursor) -> Option<String> {
    // SAFETY: `c` is a cursor of a live translation unit.
    let loc = unsafe { clang_getCursorLocation(c) };
    let mut file: CXFile = std::ptr::null_mut();
    // SAFETY: out-parameters are valid for writes or null.
    unsafe { clang_getFileLocation(loc, &mut file, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()) };
    if file.is_null() {
        return None;
    }
    // SAFETY: `file` is a file of the live translation unit.
    Some(take(unsafe { clang_getFileName(file) }))
}

/// A parsed translation unit, disposed on drop.
struct Unit {
    index: CXIndex,
    tu: CXTranslationUnit,
}

impl Unit {
    fn parse(source: &Path, args: &[String], flags: CXTranslationUnit_Flags) -> Result<Unit, Error> {
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()).map_err(|_| Error::new("a clang argument holds a NUL")))
            .collect::<Result<_, _>>()?;
        let ptrs: Vec<*const std::ffi::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
        let path = CString::new(source.to_string_lossy().as_bytes()).map_err(|_| Error::new("path holds a NUL"))?;
        // Declarations (and macros) of a precompiled header the arguments
        // name are not visited: they are the same whatever the NDIS version,
        // and deserializing them all would cost more than the parse.
        // SAFETY: plain constructor; disposed in Drop.
        let index = unsafe { clang_createIndex(1, 0) };
        // SAFETY: every pointer is valid for the call; `ptrs` holds `ptrs.len()` C strings.
        let tu = unsafe {
            clang_parseTranslationUnit(
                index,
                path.as_ptr(),
                ptrs.as_ptr(),
                ptrs.len() as i32,
                std::ptr::null_mut(),
                0,
                flags,
            )
        };
        let unit = Unit { index, tu };
        if tu.is_null() {
            return Err(Error::new(format!("libclang could not parse {}", source.display())));
        }
        Ok(unit)
    }

    /// Calls `f` on every top-level cursor, and on the enumerators of enums.
    fn visit(&self, f: &mut dyn FnMut(CXCursor, Option<CXCursor>)) {
        extern "C" fn enumerators(c: CXCursor, parent: CXCursor, data: CXClientData) -> CXChildVisitResult {
            // SAFETY: `data` is the `&mut &mut dyn FnMut` passed below, alive for the visit.
            let f = unsafe { &mut *(data as *mut &mut dyn FnMut(CXCursor, Option<CXCursor>)) };
            f(c, Some(parent));
            CXChildVisit_Continue
        }
        extern "C" fn top(c: CXCursor, _parent: CXCursor, data: CXClientData) -> CXChildVisitResult {
            // SAFETY: as above.
            let f = unsafe { &mut *(data as *mut &mut dyn FnMut(CXCursor, Option<CXCursor>)) };
            f(c, None);
            // SAFETY: `c` is a cursor of the live unit.
            if unsafe { clang_getCursorKind(c) } == CXCursor_EnumDecl {
                // SAFETY: `data` stays valid for the nested visit.
                unsafe { clang_visitChildren(c, enumerators, data) };
            }
            CXChildVisit_Continue
        }
        let mut f = f;
        // SAFETY: the unit is live.
        let root = unsafe { clang_getTranslationUnitCursor(self.tu) };
        // SAFETY: `&mut f` outlives the visit, which calls back synchronously.
        unsafe {
            clang_visitChildren(root, top, (&mut f) as *mut &mut dyn FnMut(CXCursor, Option<CXCursor>) as *mut c_void)
        };
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        if !self.tu.is_null() {
            // SAFETY: disposed once; no cursor of it outlives `self`.
            unsafe { clang_disposeTranslationUnit(self.tu) };
        }
        // SAFETY: disposed once, after its unit.
        unsafe { clang_disposeIndex(self.index) };
    }
}

const PREFIX: &str = "ndis_rs_eval_";

/// Lists what `wrapper` (the text of a file including the kit's headers)
/// declares, and evaluates the object-like macros `eval` after it: one
/// translation unit, written to `scratch`, parsed once. Returns the scan and
/// the macros that are integer constants, with their values.
pub fn scan(
    wrapper: &str,
    eval: &BTreeSet<String>,
    scratch: &Path,
    stem: &str,
    args: &[String],
) -> Result<(Scan, BTreeMap<String, Value>), Error> {
    let mut text = String::with_capacity(wrapper.len() + eval.len() * 64);
    text.push_str(wrapper);
    for name in eval {
        text.push_str(&format!("\nstatic const __auto_type {PREFIX}{name} = ({name});\n"));
    }
    let path = scratch.join(format!("{stem}-scan.c"));
    std::fs::write(&path, &text).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    let mut args = args.to_vec();
    args.push("-ferror-limit=0".into());
    args.push("-Wno-everything".into());
    let unit = Unit::parse(
        &path,
        &args,
        CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_SkipFunctionBodies,
    )?;
    let mut seen = BTreeSet::new();
    let mut out = Scan::default();
    let mut values = BTreeMap::new();
    unit.visit(&mut |c, parent| {
        // SAFETY: `c` is a cursor of the live unit.
        let kind = unsafe { clang_getCursorKind(c) };
        if parent.is_none() && kind == CXCursor_VarDecl {
            let name = spelling(c);
            if let Some(name) = name.strip_prefix(PREFIX) {
                if let Some(value) = evaluate_var(c) {
                    values.insert(name.to_owned(), value);
                }
                return;
            }
        }
        let decl_kind = match kind {
            CXCursor_FunctionDecl => {
                // SAFETY: as above.
                if unsafe { clang_Cursor_isFunctionInlined(c) } != 0 { Kind::InlineFunction } else { Kind::Function }
            }
            CXCursor_StructDecl | CXCursor_UnionDecl | CXCursor_EnumDecl | CXCursor_TypedefDecl => {
                // SAFETY: as above.
                if unsafe { clang_Cursor_isAnonymous(c) } != 0 {
                    return;
                }
                Kind::Record
            }
            CXCursor_EnumConstantDecl => Kind::Constant,
            CXCursor_VarDecl => {
                // SAFETY: as above.
                // SAFETY: as above.
                let ty = unsafe { clang_getCursorType(c) };
                // SAFETY: a type of the live unit.
                let ty = take(unsafe { clang_getTypeSpelling(ty) });
                if ty == "const GUID" {
                    if let Some(file) = file_of(c) {
                        out.guids.insert(spelling(c), kit_relative(&file));
                    }
                    Kind::Constant
                } else {
                    return;
                }
            }
            CXCursor_MacroDefinition => {
                record_macro(c, &mut out.macros);
                return;
            }
            _ => return,
        };
        let name = spelling(c);
        if name.is_empty() || name.contains(' ') {
            return;
        }
        let Some(file) = file_of(c) else { return };
        let file = kit_relative(&file);
        let mut hasher = std::hash::DefaultHasher::new();
        if let Some(&before) = out.fingerprints.get(&name) {
            before.hash(&mut hasher);
        }
        fingerprint(c, &mut hasher, 0);
        out.fingerprints.insert(name.clone(), hasher.finish());
        // A function both declared and defined inline counts as inline.
        if seen.insert((name.clone(), decl_kind.column())) {
            let parent = parent.map(spelling).filter(|p| !p.is_empty() && !p.contains(' '));
            out.decls.push(Decl { file, name, kind: decl_kind, parent });
        } else if decl_kind == Kind::InlineFunction
            && let Some(d) = out.decls.iter_mut().find(|d| d.name == name && d.kind == Kind::Function)
        {
            d.kind = Kind::InlineFunction;
        }
    });
    Ok((out, values))
}

/// The spelling of a type.
fn type_spelling(t: CXType) -> String {
    // SAFETY: `t` is a type of a live translation unit.
    take(unsafe { clang_getTypeSpelling(t) })
}

/// Feeds `hasher` with what bindgen's output for the declaration `c`
/// depends on: a function's type (typedef names as written, calling
/// convention); a record's size, alignment and every field's name, type,
/// offset and bit width, with the records defined inside it; an enum's
/// integer type (and, inside a record, its enumerators); a typedef's underlying type, with the
/// record or enum it defines when that has no name of its own; an
/// enumerator's value. Anything a header's version gates change in a
/// declaration changes one of these.
pub fn fingerprint(c: CXCursor, hasher: &mut std::hash::DefaultHasher, depth: u32) {
    extern "C" fn child(c: CXCursor, _parent: CXCursor, data: CXClientData) -> CXChildVisitResult {
        // SAFETY: `data` is the `&mut (hasher, depth)` passed below, alive for the visit.
        let (hasher, depth) = unsafe { &mut *(data as *mut (&mut std::hash::DefaultHasher, u32)) };
        // SAFETY: `c` is a cursor of the live unit.
        let kind = unsafe { clang_getCursorKind(c) };
        match kind {
            CXCursor_FieldDecl => {
                spelling(c).hash(*hasher);
                // SAFETY: as above.
                type_spelling(unsafe { clang_getCursorType(c) }).hash(*hasher);
                // SAFETY: as above.
                unsafe { clang_Cursor_getOffsetOfField(c) }.hash(*hasher);
                // SAFETY: as above.
                unsafe { clang_getFieldDeclBitWidth(c) }.hash(*hasher);
            }
            CXCursor_StructDecl | CXCursor_UnionDecl | CXCursor_EnumDecl => fingerprint(c, hasher, *depth + 1),
            CXCursor_EnumConstantDecl => {
                spelling(c).hash(*hasher);
                // SAFETY: as above.
                unsafe { clang_getEnumConstantDeclValue(c) }.hash(*hasher);
            }
            _ => {}
        }
        CXChildVisit_Continue
    }
    // SAFETY: `c` is a cursor of a live translation unit.
    let kind = unsafe { clang_getCursorKind(c) };
    kind.hash(hasher);
    // SAFETY: as above.
    let ty = unsafe { clang_getCursorType(c) };
    match kind {
        CXCursor_FunctionDecl => type_spelling(ty).hash(hasher),
        CXCursor_EnumConstantDecl => {
            // SAFETY: as above.
            unsafe { clang_getEnumConstantDeclValue(c) }.hash(hasher);
        }
        CXCursor_TypedefDecl => {
            // SAFETY: as above.
            let under = unsafe { clang_getTypedefDeclUnderlyingType(c) };
            type_spelling(under).hash(hasher);
            // SAFETY: a type of the live unit.
            let canonical = unsafe { clang_getCanonicalType(under) };
            // SAFETY: as above.
            let decl = unsafe { clang_getTypeDeclaration(canonical) };
            // SAFETY: as above.
            if depth < 8 && unsafe { clang_Cursor_isAnonymous(decl) } != 0 {
                fingerprint(decl, hasher, depth + 1);
            }
        }
        CXCursor_StructDecl | CXCursor_UnionDecl | CXCursor_EnumDecl => {
            // SAFETY: as above.
            unsafe { clang_Type_getSizeOf(ty) }.hash(hasher);
            // SAFETY: as above.
            unsafe { clang_Type_getAlignOf(ty) }.hash(hasher);
            if kind == CXCursor_EnumDecl {
                // SAFETY: as above.
                type_spelling(unsafe { clang_getEnumDeclIntegerType(c) }).hash(hasher);
            }
            // A top-level enum's enumerators are declarations of their own
            // (bindgen's constants): only an enum inside a record is
            // fingerprinted with them.
            if depth < 8 && (kind != CXCursor_EnumDecl || depth > 0) {
                let mut data = (&mut *hasher, depth);
                // SAFETY: `data` outlives the visit, which calls back synchronously.
                unsafe {
                    clang_visitChildren(
                        c,
                        child,
                        (&mut data) as *mut (&mut std::hash::DefaultHasher, u32) as *mut c_void,
                    )
                };
            }
        }
        _ => type_spelling(ty).hash(hasher),
    }
}

/// Parses `header` (the text of a header including the kit's headers that
/// come first whatever the NDIS version) once, as a precompiled header
/// written to `out`: every later parse given `-include-pch out` starts from
/// it instead of parsing those headers again (they are most of the text).
/// Returns the object-like macros it defines (name -> header): a parse
/// from it does not visit what the precompiled header declares.
pub fn precompile(
    header: &str,
    scratch: &Path,
    stem: &str,
    args: &[String],
    out: &Path,
) -> Result<BTreeMap<String, String>, Error> {
    let path = scratch.join(format!("{stem}.h"));
    std::fs::write(&path, header).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    let mut args = args.to_vec();
    args.extend(["-x".to_owned(), "c-header".to_owned()]);
    let unit =
        Unit::parse(&path, &args, CXTranslationUnit_ForSerialization | CXTranslationUnit_DetailedPreprocessingRecord)?;
    let file = CString::new(out.to_string_lossy().as_bytes()).map_err(|_| Error::new("path holds a NUL"))?;
    // SAFETY: the unit is live.
    let options = unsafe { clang_defaultSaveOptions(unit.tu) };
    // SAFETY: the unit is live; `file` is a C string.
    let status = unsafe { clang_saveTranslationUnit(unit.tu, file.as_ptr(), options) };
    if status != CXSaveError_None {
        return Err(Error::new(format!(
            "libclang could not save the precompiled header {} (error {status})",
            out.display()
        )));
    }
    let mut macros = BTreeMap::new();
    unit.visit(&mut |c, _| record_macro(c, &mut macros));
    Ok(macros)
}

/// Records an object-like macro definition (name -> header).
fn record_macro(c: CXCursor, macros: &mut BTreeMap<String, String>) {
    // SAFETY: `c` is a cursor of a live unit.
    if unsafe { clang_getCursorKind(c) } != CXCursor_MacroDefinition {
        return;
    }
    // SAFETY: as above.
    let function_like = unsafe { clang_Cursor_isMacroFunctionLike(c) };
    // SAFETY: as above.
    let builtin = unsafe { clang_Cursor_isMacroBuiltin(c) };
    if function_like != 0 || builtin != 0 {
        return;
    }
    if let Some(file) = file_of(c) {
        macros.insert(spelling(c), kit_relative(&file));
    }
}

/// The value of an integer variable's initializer, as C computes it.
fn evaluate_var(c: CXCursor) -> Option<Value> {
    // SAFETY: `c` is a cursor of the live unit; the result is disposed below.
    let result = unsafe { clang_Cursor_Evaluate(c) };
    if result.is_null() {
        return None;
    }
    let mut value = None;
    // SAFETY: `result` is a live evaluation result.
    if unsafe { clang_EvalResult_getKind(result) } == CXEval_Int {
        // SAFETY: as above; an integer result.
        value = Some(if unsafe { clang_EvalResult_isUnsignedInt(result) } != 0 {
            // SAFETY: as above.
            Value::Unsigned(unsafe { clang_EvalResult_getAsUnsigned(result) })
        } else {
            // SAFETY: as above.
            Value::Signed(unsafe { clang_EvalResult_getAsLongLong(result) })
        });
    }
    // SAFETY: disposed once.
    unsafe { clang_EvalResult_dispose(result) };
    value
}

/// The `DEFINE_GUID(NAME, l, w1, w2, b1, …, b8)` invocations of a header's
/// text: name -> the eleven numbers.
pub fn define_guids(text: &str) -> BTreeMap<String, [u64; 11]> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some(at) = rest.find("DEFINE_GUID") {
        rest = &rest[at + "DEFINE_GUID".len()..];
        let Some(body) = rest.trim_start().strip_prefix('(') else { continue };
        let Some(end) = body.find(')') else { break };
        let parts: Vec<&str> = body[..end].split(',').map(str::trim).collect();
        if parts.len() != 12 {
            continue;
        }
        let nums: Option<Vec<u64>> = parts[1..].iter().map(|p| parse_c_int(p)).collect();
        if let Some(nums) = nums {
            let mut a = [0u64; 11];
            a.copy_from_slice(&nums);
            out.insert(parts[0].to_owned(), a);
        }
    }
    out
}

fn parse_c_int(s: &str) -> Option<u64> {
    let s = s.trim_end_matches(['u', 'U', 'l', 'L']);
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn define_guid_invocations_are_read() {
        let text = "// c38d57d1-05a7-4c33-904f-7fbceee60e82\nDEFINE_GUID(\n   FWPM_X,\n   0xc38d57d1,\n   0x05a7,\n   0x4c33,\n   0x90, 0x4f, 0x7f, 0xbc, 0xee, 0xe6, 0x0e, 0x82\n);\n#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) x\n";
        let guids = define_guids(text);
        assert_eq!(guids.len(), 1);
        assert_eq!(guids["FWPM_X"], [0xc38d57d1, 0x05a7, 0x4c33, 0x90, 0x4f, 0x7f, 0xbc, 0xee, 0xe6, 0x0e, 0x82]);
    }

    #[test]
    fn header_paths_are_kit_relative() {
        assert_eq!(kit_relative("/k/Include/10.0.1.0/km/ndis/nbl.h"), "km/ndis/nbl.h");
        assert_eq!(kit_relative("/k/Include/10.0.1.0/shared/ntddndis.h"), "shared/ntddndis.h");
        assert_eq!(kit_relative("/km/k/Include/10.0.1.0/km/crt/x.h"), "km/crt/x.h");
    }
}
