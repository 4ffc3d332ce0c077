//! The bindings of an NDIS version assembled from those bindgen generated
//! for other versions, without a bindgen run of its own.
//!
//! Every version gate of the kit's headers adds, removes or changes
//! declarations; bindgen's output for a declaration depends only on how it
//! is declared. The census scan of each version fingerprints every
//! declaration it sees (`census::fingerprint`: a function's type, a record's
//! fields with their types and offsets, an enum's enumerators, a typedef's
//! underlying type). A version is then assembled item by item: each item of
//! the generated bindings belongs to one declaration (its owner: a record's
//! nested anonymous records, its `impl`s and its layout assertions belong to
//! the record), and the version gets the items of every declaration it
//! declares from a generated version whose fingerprint of that declaration
//! is the same. A declaration it declares differently from every generated
//! version cannot be assembled: the caller is told which, and that version
//! has to be generated (`ndis_generate`). Constants are not bindgen's: they
//! come from the version's own scan.
//!
//! `cargo xtask regen --every-version --check` generates every version and
//! compares: the assembled files must come out the same.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use proc_macro2::TokenTree;

use super::merge::{Arena, Elem};

/// One item of generated bindings (an `extern` block's function counts as
/// one), indexed.
struct Entry {
    /// Which item of the file; for a function, its index in the block too.
    at: (usize, Option<usize>),
    /// Its id in the arena; for a function, with its block's head.
    id: Elem,
    /// The declaration it belongs to ([`owner_of`] its name, against the
    /// version's fingerprints); `None` for what names nothing.
    owner: Option<String>,
    /// The identifiers it names, once asked for (most entries never are).
    names: std::cell::OnceCell<Vec<String>>,
}

/// The bindgen items of one generated version, with its scan's fingerprints.
pub struct Generated<'a> {
    /// The NDIS version, e.g. 680.
    version: u32,
    /// Its post-processed bindgen items.
    items: &'a syn::File,
    /// Its census scan's fingerprints.
    fingerprints: &'a BTreeMap<String, u64>,
    /// Every item, in order.
    entries: Vec<Entry>,
    /// The entries of each owner.
    by_owner: HashMap<String, Vec<usize>>,
    /// Generated for another arch: a source of declarations it
    /// fingerprints the same (layout included), never of helpers.
    foreign: bool,
}

impl<'a> Generated<'a> {
    /// Indexes the items of `version` by owner, and interns them.
    pub fn new(
        version: u32,
        items: &'a syn::File,
        fingerprints: &'a BTreeMap<String, u64>,
        foreign: bool,
        arena: &mut Arena<'a>,
    ) -> Self {
        let mut entries = Vec::new();
        let resolve = |name: Option<String>| name.map(|n| owner_of(&n, fingerprints).to_owned());
        for (i, item) in items.items.iter().enumerate() {
            match item {
                syn::Item::ForeignMod(m) => {
                    let head = arena.head(m);
                    for (j, f) in m.items.iter().enumerate() {
                        let id = Elem::Block(head, vec![arena.function(head, f)]);
                        let (owner, names) = (resolve(foreign_name(f)), std::cell::OnceCell::new());
                        entries.push(Entry { at: (i, Some(j)), id, owner, names });
                    }
                }
                item => {
                    let id = Elem::Item(arena.item(item));
                    let (owner, names) = (resolve(item_name(item)), std::cell::OnceCell::new());
                    entries.push(Entry { at: (i, None), id, owner, names });
                }
            }
        }
        let mut by_owner: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, e) in entries.iter().enumerate() {
            if let Some(owner) = &e.owner {
                by_owner.entry(owner.clone()).or_default().push(k);
            }
        }
        Generated { version, items, fingerprints, entries, by_owner, foreign }
    }

    /// Whether it was generated for another arch.
    pub fn foreign(&self) -> bool {
        self.foreign
    }

    /// The NDIS version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every item, as the merge takes them (the functions of one block
    /// together).
    pub fn elems(&self) -> Vec<Elem> {
        let mut out: Vec<Elem> = Vec::new();
        for e in &self.entries {
            match (&e.id, out.last_mut()) {
                (Elem::Block(head, f), Some(Elem::Block(last, fns))) if last == head && e.at.1 != Some(0) => {
                    fns.extend(f.iter().copied());
                }
                (id, _) => out.push(id.clone()),
            }
        }
        out
    }

    /// The fingerprint of an owner: a helper's (not a declaration) is the
    /// same in every version.
    fn fingerprint(&self, owner: &str) -> Option<u64> {
        match self.fingerprints.get(owner) {
            Some(fp) => Some(*fp),
            None => self.by_owner.contains_key(owner).then_some(0),
        }
    }
}

impl Generated<'_> {
    /// The identifiers entry `k` names.
    fn names(&self, k: usize) -> &[String] {
        let e = &self.entries[k];
        e.names.get_or_init(|| {
            let item = &self.items.items[e.at.0];
            match (item, e.at.1) {
                (syn::Item::ForeignMod(m), Some(j)) => idents(&m.items[j]),
                (item, _) => idents(item),
            }
        })
    }
}

/// Every identifier `tokens` name.
fn idents(tokens: &impl quote::ToTokens) -> Vec<String> {
    fn walk(stream: proc_macro2::TokenStream, out: &mut BTreeSet<String>) {
        for tree in stream {
            match tree {
                TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(tokens.to_token_stream(), &mut out);
    out.into_iter().collect()
}

/// The declaration an item named `name` belongs to, given the declarations
/// `fingerprints` lists: `_NET_BUFFER_LIST` for
/// `_NET_BUFFER_LIST__bindgen_ty_1` (an anonymous record nested in it) and
/// for `_A__B` (the record `B` declared inside `_A`); a name of no
/// declaration (bindgen's helpers: the bitfield unit, incomplete arrays) is
/// its own owner.
fn owner_of<'n>(name: &'n str, fingerprints: &BTreeMap<String, u64>) -> &'n str {
    // Most names are a declaration's own (and have no `__` to strip).
    if !name.as_bytes().windows(2).any(|w| w == b"__") {
        return name;
    }
    let mut m = match name.find("__bindgen_ty_") {
        Some(at) if at > 0 => &name[..at],
        _ => name,
    };
    loop {
        if fingerprints.contains_key(m) {
            return m;
        }
        match m.rfind("__") {
            Some(at) if at > 0 => m = &m[..at],
            _ => return name,
        }
    }
}

/// The name an item stands for: a record's nested records, its `impl`s and
/// its layout assertions go with the record; `None` for what names nothing.
pub fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Const(i) if i.ident != "_" => i.ident.to_string(),
        syn::Item::Const(i) => super::asserted_record(i)?,
        syn::Item::Impl(i) => match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last()?.ident.to_string(),
            _ => return None,
        },
        // bindgen's `pub use self::_ENUM as ENUM;` for a typedef of an enum.
        syn::Item::Use(u) => match &u.tree {
            syn::UseTree::Path(p) if p.ident == "self" => match &*p.tree {
                syn::UseTree::Rename(r) => r.rename.to_string(),
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// The name of a function of an `extern` block.
pub fn foreign_name(item: &syn::ForeignItem) -> Option<String> {
    match item {
        syn::ForeignItem::Fn(f) => Some(f.sig.ident.to_string()),
        syn::ForeignItem::Static(s) => Some(s.ident.to_string()),
        _ => None,
    }
}

/// The bindgen items of `version`, whose scan fingerprinted `fingerprints`,
/// from the generated versions `generated` (ascending; the lowest is at or
/// below `version`). `roots`: the declarations the crate binds whatever
/// needs them (its headers' less its exclusions, its allowlist); the
/// others are bound, as bindgen binds them, when a bound item names them,
/// or when the version below binds them.
/// `Err`: the declarations `version` needs and declares unlike every
/// generated version.
pub fn assemble(
    version: u32,
    fingerprints: &BTreeMap<String, u64>,
    roots: &BTreeSet<String>,
    generated: &[Generated<'_>],
) -> Result<Vec<Elem>, Vec<String>> {
    // The base: the version below generated for this arch (what bindgen's
    // helpers come from); the nearest below of any arch.
    let base = generated
        .iter()
        .rposition(|g| g.version <= version && !g.foreign)
        .or_else(|| generated.iter().position(|g| !g.foreign))
        .unwrap_or(0);
    let below = generated.iter().rposition(|g| g.version <= version).unwrap_or(base);
    // Sources in order of preference: the version below, then upwards.
    let mut order: Vec<usize> = vec![below];
    order.extend((below + 1..generated.len()).chain((0..below).rev()));
    // The fingerprint of an owner in this version: a helper's is 0.
    let here = |owner: &str| -> Option<u64> {
        match fingerprints.get(owner) {
            Some(fp) => Some(*fp),
            None => generated
                .iter()
                .any(|g| g.by_owner.contains_key(owner) && !g.fingerprints.contains_key(owner))
                .then_some(0),
        }
    };
    // Where each owner the version needs comes from: from the roots, every
    // owner their items name, until nothing new is named.
    let mut source: HashMap<&str, usize> = HashMap::new();
    let mut problems = BTreeSet::new();
    // Besides the roots, what the version below has that this version
    // declares: bindgen binds some declarations no bound item names (a
    // typedef of a header it binds whole, declared again in another), and
    // keeps binding them; and the base's helpers.
    let known = |o: &str| generated.iter().any(|g| g.by_owner.contains_key(o));
    let mut queue: Vec<&str> = roots
        .iter()
        .map(String::as_str)
        .filter(|o| fingerprints.contains_key(*o) && known(o))
        .chain(generated[below].by_owner.keys().map(String::as_str).filter(|o| fingerprints.contains_key(*o)))
        .chain(generated[base].by_owner.keys().map(String::as_str).filter(|o| here(o).is_some()))
        .collect();
    queue.sort_unstable();
    queue.dedup();
    let mut seen: HashSet<&str> = queue.iter().copied().collect();
    while let Some(o) = queue.pop() {
        let Some(fp) = here(o) else { continue };
        // A helper only from this arch: another's fingerprints nothing of it.
        let helper = !fingerprints.contains_key(o);
        let Some(&from) = order.iter().find(|&&i| {
            let g = &generated[i];
            g.by_owner.contains_key(o) && g.fingerprint(o) == Some(fp) && !(helper && g.foreign)
        }) else {
            problems.insert(o.to_owned());
            continue;
        };
        let g = &generated[from];
        for &k in &g.by_owner[o] {
            for name in g.names(k) {
                let named = owner_of(name, fingerprints);
                if !seen.contains(named) && known(named) {
                    seen.insert(named);
                    queue.push(named);
                }
            }
        }
        source.insert(o, from);
    }
    if !problems.is_empty() {
        return Err(problems.into_iter().collect());
    }
    // The items, in the order of the version each comes from: the base's
    // first, then those added, sorted as bindgen sorts; the functions of
    // the `extern` blocks last, a block per head.
    let mut items: Vec<Elem> = Vec::new();
    let mut added: Vec<(u8, usize, usize, Elem)> = Vec::new();
    let mut blocks: Vec<(usize, Vec<usize>)> = Vec::new();
    for &from in &order {
        let g = &generated[from];
        // What names nothing (no such item of bindgen's is known) comes
        // from the base.
        let kept = |e: &Entry| match &e.owner {
            Some(o) => source.get(o.as_str()) == Some(&from),
            None => from == base,
        };
        for e in g.entries.iter().filter(|e| kept(e)) {
            match &e.id {
                Elem::Block(head, f) => match blocks.iter_mut().find(|(h, _)| h == head) {
                    Some((_, fns)) => fns.extend(f.iter().copied()),
                    None => blocks.push((*head, f.clone())),
                },
                id if from == base => items.push(id.clone()),
                id => added.push((super::kind_rank(&g.items.items[e.at.0]), from, e.at.0, id.clone())),
            }
        }
    }
    added.sort_by_key(|(rank, from, at, _)| (*rank, *at, *from));
    items.extend(added.into_iter().map(|(.., id)| id));
    items.extend(blocks.into_iter().map(|(head, fns)| Elem::Block(head, fns)));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> syn::File {
        syn::parse_str(text).expect("test input parses")
    }

    fn fps(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(n, f)| ((*n).to_owned(), *f)).collect()
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn items_belong_to_their_declaration() {
        let f = file(
            "pub struct _NBL__bindgen_ty_1 { pub a: u32 }
             pub struct _PM__PARAMS__REKEY { pub a: u32 }
             impl Default for _NBL { fn default() -> Self { todo!() } }
             const _: () = { [\"Size of _NBL\"][::core::mem::size_of::<_NBL>() - 8usize]; };
             pub const MaxInfo: _INFO = 27;
             pub use self::_E as E;
             pub struct __BindgenBitfieldUnit<S> { s: S }",
        );
        let known = fps(&[("_NBL", 1), ("_PM", 2), ("MaxInfo", 3), ("E", 4)]);
        let owners: Vec<String> =
            f.items.iter().filter_map(item_name).map(|n| owner_of(&n, &known).to_owned()).collect();
        assert_eq!(owners, ["_NBL", "_PM", "_NBL", "_NBL", "MaxInfo", "E", "__BindgenBitfieldUnit"]);
    }

    #[test]
    fn a_version_takes_each_declaration_from_a_generated_one_that_declares_it_alike() {
        // 630 declares A and B; 680 changes B and adds C and F (a function).
        // D is no root: bound because B names it. Helper is bindgen's.
        let g630 = file(
            "pub struct A; pub struct B { pub x: u8, pub d: D, pub h: Helper } pub struct D; pub struct Helper; \
             extern \"system\" { pub fn E(); }",
        );
        let g680 = file(
            "pub struct A; pub struct B { pub x: u16 } pub struct C { pub h: Helper } pub struct Helper; \
             extern \"system\" { pub fn E(); pub fn F(); }",
        );
        let f630 = fps(&[("A", 1), ("B", 2), ("D", 7), ("E", 5)]);
        let f680 = fps(&[("A", 1), ("B", 3), ("C", 4), ("D", 7), ("E", 5), ("F", 6)]);
        let mut arena = Arena::default();
        let generated = [
            Generated::new(630, &g630, &f630, false, &mut arena),
            Generated::new(680, &g680, &f680, false, &mut arena),
        ];
        let roots = names(&["A", "B", "C", "E", "F"]);
        let assemble = |v, fps: &BTreeMap<String, u64>| assemble(v, fps, &roots, &generated).map(|e| arena.to_file(&e));
        // 650: B as in 630 (so D too), C and F as in 680.
        let got = assemble(650, &fps(&[("A", 1), ("B", 2), ("C", 4), ("D", 7), ("E", 5), ("F", 6)]));
        let want = file(
            "pub struct A; pub struct B { pub x: u8, pub d: D, pub h: Helper } pub struct D; pub struct Helper; \
             pub struct C { pub h: Helper } extern \"system\" { pub fn E(); pub fn F(); }",
        );
        assert_eq!(got, Ok(want));
        // 660: B as in 680 (which names neither D nor the helper: they stay,
        // as the version below binds them); no C.
        let got = assemble(660, &fps(&[("A", 1), ("B", 3), ("D", 7), ("E", 5)]));
        let want = file(
            "pub struct A; pub struct D; pub struct Helper; pub struct B { pub x: u16 } extern \"system\" { pub fn E(); }",
        );
        assert_eq!(got, Ok(want));
        // 661: nor does a version that no longer declares D have it.
        let got = assemble(661, &fps(&[("A", 1), ("B", 3), ("E", 5)]));
        let want =
            file("pub struct A; pub struct Helper; pub struct B { pub x: u16 } extern \"system\" { pub fn E(); }");
        assert_eq!(got, Ok(want));
        // 670: B as neither declares it: named, not guessed.
        assert_eq!(assemble(670, &fps(&[("A", 1), ("B", 9)])), Err(vec!["B".to_owned()]));
    }
}
