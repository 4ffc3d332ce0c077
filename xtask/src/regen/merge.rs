//! The bindings of several NDIS versions merged into one file: an item the
//! same in every version once, the others once per variant under the
//! `#[cfg]` of the versions that have them.
//!
//! Items are compared as syntax trees, once each: every version's items are
//! interned in an [`Arena`] (a version assembled from generated ones shares
//! their items, so it costs no comparison at all), and the merge works on
//! the arena's ids.

use std::collections::HashMap;

/// One element of a version's bindings, by arena id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    /// An item (not an `extern` block).
    Item(usize),
    /// An `extern` block: its head (the block without its functions) and
    /// its functions.
    Block(usize, Vec<usize>),
}

/// Every distinct item of the versions merged, each compared once.
#[derive(Default)]
pub struct Arena<'a> {
    items: Vec<&'a syn::Item>,
    item_ids: HashMap<&'a syn::Item, usize>,
    heads: Vec<syn::ItemForeignMod>,
    fns: Vec<&'a syn::ForeignItem>,
    fn_ids: HashMap<(usize, &'a syn::ForeignItem), usize>,
}

impl<'a> Arena<'a> {
    /// The id of an item (not an `extern` block).
    pub fn item(&mut self, item: &'a syn::Item) -> usize {
        let next = self.items.len();
        let id = *self.item_ids.entry(item).or_insert(next);
        if id == next {
            self.items.push(item);
        }
        id
    }

    /// The id of the head of an `extern` block (its ABI and attributes).
    pub fn head(&mut self, block: &syn::ItemForeignMod) -> usize {
        let head = syn::ItemForeignMod { items: Vec::new(), ..block.clone() };
        match self.heads.iter().position(|h| *h == head) {
            Some(at) => at,
            None => {
                self.heads.push(head);
                self.heads.len() - 1
            }
        }
    }

    /// The id of a function of the block with head `head`.
    pub fn function(&mut self, head: usize, f: &'a syn::ForeignItem) -> usize {
        let next = self.fns.len();
        let id = *self.fn_ids.entry((head, f)).or_insert(next);
        if id == next {
            self.fns.push(f);
        }
        id
    }

    /// A whole file's elements, in order.
    pub fn file(&mut self, file: &'a syn::File) -> Vec<Elem> {
        file.items
            .iter()
            .map(|item| match item {
                syn::Item::ForeignMod(m) => {
                    let head = self.head(m);
                    Elem::Block(head, m.items.iter().map(|f| self.function(head, f)).collect())
                }
                item => Elem::Item(self.item(item)),
            })
            .collect()
    }

    /// The item of an id.
    pub fn get(&self, id: usize) -> &'a syn::Item {
        self.items[id]
    }

    /// The function of an id.
    pub fn function_item(&self, id: usize) -> &'a syn::ForeignItem {
        self.fns[id]
    }

    /// Elements as a file.
    #[cfg(test)]
    pub fn to_file(&self, elems: &[Elem]) -> syn::File {
        let items = elems
            .iter()
            .map(|e| match e {
                Elem::Item(id) => self.items[*id].clone(),
                Elem::Block(head, fns) => {
                    let mut block = self.heads[*head].clone();
                    block.items = fns.iter().map(|f| self.fns[*f].clone()).collect();
                    syn::Item::ForeignMod(block)
                }
            })
            .collect();
        syn::File { shebang: None, attrs: Vec::new(), items }
    }
}

/// An id and the indices of the versions it is in.
type Present = (usize, Vec<usize>);

/// Merges the elements of every version (`versions`, ascending, each
/// feature enabling the one below) into one file. An item is where it
/// first appears; the functions of `extern` blocks with the same head are
/// merged into one block, at the place of the first, each under its own
/// `#[cfg]`.
pub fn merge(arena: &Arena<'_>, versions: &[String], elems: &[Vec<Elem>]) -> syn::File {
    let mut items: Vec<Present> = Vec::new();
    let mut item_at: HashMap<usize, usize> = HashMap::new();
    // Blocks: (position among the items, head, functions).
    let mut blocks: Vec<(usize, usize, Vec<Present>)> = Vec::new();
    let mut fn_at: HashMap<usize, (usize, usize)> = HashMap::new();
    for (vi, version) in elems.iter().enumerate() {
        for e in version {
            match e {
                Elem::Item(id) => {
                    let at = *item_at.entry(*id).or_insert_with(|| {
                        items.push((*id, Vec::new()));
                        items.len() - 1
                    });
                    items[at].1.push(vi);
                }
                Elem::Block(head, fns) => {
                    let b = match blocks.iter().position(|(_, h, _)| h == head) {
                        Some(b) => b,
                        None => {
                            blocks.push((items.len(), *head, Vec::new()));
                            blocks.len() - 1
                        }
                    };
                    for f in fns {
                        let (_, at) = *fn_at.entry(*f).or_insert_with(|| {
                            blocks[b].2.push((*f, Vec::new()));
                            (b, blocks[b].2.len() - 1)
                        });
                        blocks[b].2[at].1.push(vi);
                    }
                }
            }
        }
    }
    let mut out = syn::File { shebang: None, attrs: Vec::new(), items: Vec::new() };
    let mut blocks = blocks.into_iter().peekable();
    let mut items = items.into_iter();
    for i in 0.. {
        while let Some((_, head, fns)) = blocks.next_if(|(at, ..)| *at == i) {
            let mut block = arena.heads[head].clone();
            for (f, present) in fns {
                let mut f = arena.fns[f].clone();
                if let Some(cfg) = version_cfg(versions, &present)
                    && let syn::ForeignItem::Fn(func) = &mut f
                {
                    func.attrs.insert(0, cfg);
                }
                block.items.push(f);
            }
            out.items.push(syn::Item::ForeignMod(block));
        }
        let Some((id, present)) = items.next() else { break };
        let mut item = arena.items[id].clone();
        if let Some(cfg) = version_cfg(versions, &present) {
            push_attr(&mut item, cfg);
        }
        out.items.push(item);
    }
    out
}

/// The `#[cfg]` attribute for an item present in the versions `present`
/// (indices into `versions`, ascending; `versions` ascending from the
/// default); none when present in all. Each feature enables the one below
/// it, so "version ≥ v" is `feature = "ndis{v}"`: a run of versions from
/// `a` to before `b` is `all(feature = a, not(feature = b))`.
pub fn version_cfg(versions: &[String], present: &[usize]) -> Option<syn::Attribute> {
    if present.len() == versions.len() {
        return None;
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in present {
        match runs.last_mut() {
            Some((_, end)) if *end == i => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    let terms: Vec<String> = runs
        .iter()
        .map(|&(a, b)| {
            let from = (a > 0).then(|| format!("feature = \"ndis{}\"", versions[a]));
            let to = (b < versions.len()).then(|| format!("not(feature = \"ndis{}\")", versions[b]));
            match (from, to) {
                (Some(f), Some(t)) => format!("all({f}, {t})"),
                (Some(f), None) => f,
                (None, Some(t)) => t,
                (None, None) => "all()".to_owned(),
            }
        })
        .collect();
    let predicate = if terms.len() == 1 { terms[0].clone() } else { format!("any({})", terms.join(", ")) };
    let tokens: proc_macro2::TokenStream = predicate.parse().ok()?;
    Some(syn::parse_quote!(#[cfg(#tokens)]))
}

/// Adds an attribute to an item, first.
fn push_attr(item: &mut syn::Item, attr: syn::Attribute) {
    let attrs = match item {
        syn::Item::Const(i) => &mut i.attrs,
        syn::Item::Enum(i) => &mut i.attrs,
        syn::Item::Fn(i) => &mut i.attrs,
        syn::Item::ForeignMod(i) => &mut i.attrs,
        syn::Item::Impl(i) => &mut i.attrs,
        syn::Item::Static(i) => &mut i.attrs,
        syn::Item::Struct(i) => &mut i.attrs,
        syn::Item::Type(i) => &mut i.attrs,
        syn::Item::Union(i) => &mut i.attrs,
        syn::Item::Use(i) => &mut i.attrs,
        syn::Item::Mod(i) => &mut i.attrs,
        syn::Item::Trait(i) => &mut i.attrs,
        syn::Item::Macro(i) => &mut i.attrs,
        _ => return,
    };
    attrs.insert(0, attr);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_versions_is_one_range_of_features() {
        let versions: Vec<String> = ["630", "640", "650", "680", "689"].map(String::from).to_vec();
        let cfg = |present: &[usize]| {
            version_cfg(&versions, present).map(|a| quote::ToTokens::to_token_stream(&a).to_string().replace(' ', ""))
        };
        assert_eq!(cfg(&[0, 1, 2, 3, 4]), None);
        assert_eq!(cfg(&[2, 3, 4]).as_deref(), Some("#[cfg(feature=\"ndis650\")]"));
        assert_eq!(cfg(&[0, 1]).as_deref(), Some("#[cfg(not(feature=\"ndis650\"))]"));
        assert_eq!(cfg(&[1, 2]).as_deref(), Some("#[cfg(all(feature=\"ndis640\",not(feature=\"ndis680\")))]"));
        assert_eq!(
            cfg(&[0, 3]).as_deref(),
            Some("#[cfg(any(not(feature=\"ndis640\"),all(feature=\"ndis680\",not(feature=\"ndis689\"))))]")
        );
    }

    #[test]
    fn versions_merge_into_one_file_with_the_differences_under_cfg() {
        let versions: Vec<String> = ["630", "650"].map(String::from).to_vec();
        let a: syn::File = syn::parse_quote! {
            pub struct A;
            pub const MAX: u32 = 24;
            extern "system" { pub fn F(); }
        };
        let b: syn::File = syn::parse_quote! {
            pub struct A;
            pub const MAX: u32 = 26;
            extern "system" { pub fn F(); pub fn G(); }
        };
        let mut arena = Arena::default();
        let elems = [arena.file(&a), arena.file(&b)];
        let got = merge(&arena, &versions, &elems);
        let want: syn::File = syn::parse_quote! {
            pub struct A;
            #[cfg(not(feature = "ndis650"))]
            pub const MAX: u32 = 24;
            extern "system" {
                pub fn F();
                #[cfg(feature = "ndis650")]
                pub fn G();
            }
            #[cfg(feature = "ndis650")]
            pub const MAX: u32 = 26;
        };
        assert_eq!(prettyplease::unparse(&got), prettyplease::unparse(&want));
    }
}
