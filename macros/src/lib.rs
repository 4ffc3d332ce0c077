//! Derives for [`ndis-safe`](https://docs.rs/ndis-safe): typed
//! NET_BUFFER_LIST context areas whose layout rules are compile errors.
//!
//! Use them through `ndis_safe` (`use ndis_safe::ContextArea;`), which
//! re-exports them; every path they emit goes through
//! `::ndis_safe::__private`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{Data, DeriveInput, Error, Fields, GenericArgument, LitInt, PathArguments, Type, parse_macro_input};

/// Implements `ndis_safe::ContextArea` for a `#[repr(C)]` struct: the
/// context area a pool preallocates for each NET_BUFFER_LIST, and that
/// `NdisAllocateNetBufferList` reserves (`ContextSize`, and with
/// `#[context_area(backfill = N)]`, `ContextBackFill`). With
/// `#[context_area(injectable)]` the backfill also holds what injecting a
/// clone from such a pool pushes, so injection allocates nothing.
///
/// Checked at compile time, for the target being compiled, each failure a
/// compile error naming the type, its size and the rule: the size is a
/// non-zero multiple of `MEMORY_ALLOCATION_ALIGNMENT`, the alignment is at
/// most that, size plus backfill fit a `USHORT`, the backfill is a multiple
/// of `MEMORY_ALLOCATION_ALIGNMENT`, the type needs no `Drop`, and is
/// `Send` and `'static`; and each field is plain data: no field's type
/// holds a reference (`&T` or `&mut T` of any lifetime, `&'static mut`
/// included) or a trait object, and the error names the field.
#[proc_macro_derive(ContextArea, attributes(context_area))]
pub fn derive_context_area(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::ContextArea).unwrap_or_else(Error::into_compile_error).into()
}

/// Implements `ndis_safe::PushedContext`: a context pushed on an NBL with
/// `NdisAllocateNetBufferListContext`, whose rule differs: the size is a
/// non-zero multiple of the pointer size and the alignment at most the
/// pointer's. The other checks are those of `ContextArea`.
#[proc_macro_derive(PushedContext)]
pub fn derive_pushed_context(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::Pushed).unwrap_or_else(Error::into_compile_error).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ContextArea,
    Pushed,
}

fn has_repr_c(input: &DeriveInput) -> bool {
    input.attrs.iter().filter(|a| a.path().is_ident("repr")).any(|a| {
        let mut c = false;
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("C") || m.path.is_ident("transparent") {
                c = true;
            }
            Ok(())
        });
        c
    })
}

/// `#[context_area(backfill = N, injectable)]`: the backfill expression
/// (N, plus what an injection pushes when `injectable`), 0 when absent.
fn backfill(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let mut bytes = 0u16;
    let mut injectable = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("context_area")) {
        attr.parse_nested_meta(|m| {
            if m.path.is_ident("backfill") {
                let lit: LitInt = m.value()?.parse()?;
                bytes = lit.base10_parse()?;
                Ok(())
            } else if m.path.is_ident("injectable") {
                injectable = true;
                Ok(())
            } else {
                Err(m.error("unknown context_area option; the options are `backfill = <bytes>` and `injectable`"))
            }
        })?;
    }
    Ok(if injectable { quote!({ #bytes + ::ndis_safe::__private::INJECTION_CONTEXT }) } else { quote!(#bytes) })
}

fn expand(input: &DeriveInput, kind: Kind) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let what = if kind == Kind::ContextArea { "ContextArea" } else { "PushedContext" };
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => return Err(Error::new_spanned(name, format!("{what} can only be derived for a struct"))),
    };
    if let Some(lt) = input.generics.lifetimes().next() {
        return Err(Error::new_spanned(
            lt,
            format!(
                "{what} `{name}` cannot borrow (it has the lifetime {}): the NBL carries its context across \
                 completions, past any borrow; hold owned, plain data",
                lt.lifetime
            ),
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(&input.generics, format!("{what} cannot be derived for a generic type")));
    }
    if !has_repr_c(input) {
        return Err(Error::new_spanned(
            name,
            format!("{what} needs #[repr(C)] on `{name}`: its layout is shared with NDIS and must be fixed"),
        ));
    }
    let field_types: Vec<_> = match fields {
        Fields::Named(f) => f.named.iter().map(|f| &f.ty).collect(),
        Fields::Unnamed(f) => f.unnamed.iter().map(|f| &f.ty).collect(),
        Fields::Unit => Vec::new(),
    };
    for (i, field) in fields.iter().enumerate() {
        if let Some((bad, kind)) = not_plain(&field.ty) {
            let field_name = field.ident.as_ref().map_or_else(|| i.to_string(), ToString::to_string);
            return Err(Error::new_spanned(
                bad,
                format!(
                    "{what} `{name}`: field `{field_name}` is not plain data: its type holds {kind}; a context is \
                     bytes NDIS keeps with the NBL, and a reference in it would be trusted by safe code wherever \
                     those bytes are read; hold integers, arrays and structs of them (or an index into the \
                     driver's own table)"
                ),
            ));
        }
    }
    let p = quote!(::ndis_safe::__private);
    let backfill = if kind == Kind::ContextArea { backfill(input)? } else { quote!(0u16) };
    let (checker, trait_impl) = match kind {
        Kind::ContextArea => (
            quote!(#p::ContextAreaLayout),
            quote! {
                // SAFETY: the layout checks above are evaluated for every
                // instantiation of this impl (the constant is named below).
                unsafe impl #p::ContextArea for #name {
                    const SIZE: u16 = #p::ContextAreaLayout::<#name, { #p::size_of::<#name>() }, { #p::align_of::<#name>() }, #backfill>::SIZE;
                    const BACKFILL: u16 = #backfill;
                }
            },
        ),
        Kind::Pushed => (
            quote!(#p::PushedContextLayout),
            quote! {
                // SAFETY: as above.
                unsafe impl #p::PushedContext for #name {
                    const SIZE: u16 = #p::PushedContextLayout::<#name, { #p::size_of::<#name>() }, { #p::align_of::<#name>() }, 0>::SIZE;
                }
            },
        ),
    };
    Ok(quote! {
        const _: () = {
            // Plain data: 'static (no borrowed references) and Send (a
            // completion may run on any processor), checked per field so the
            // error points at the field.
            fn __assert_fields() {
                #( #p::assert_plain_field::<#field_types>(); )*
            }
            // Size, alignment, USHORT and Drop, evaluated at compile time.
            let () = #checker::<#name, { #p::size_of::<#name>() }, { #p::align_of::<#name>() }, #backfill>::OK;
        };
        #trait_impl
    })
}

/// The part of a field type that is not plain data, and what it is: a
/// reference (of any lifetime) or a trait object, anywhere in the type as
/// written (arrays, tuples, generic arguments). Named types are checked by
/// the bounds the expansion states (`Send + 'static`, no `Drop`).
fn not_plain(ty: &Type) -> Option<(&Type, &'static str)> {
    match ty {
        Type::Reference(_) => Some((ty, "a reference")),
        Type::TraitObject(_) | Type::ImplTrait(_) => Some((ty, "a trait object")),
        Type::Array(a) => not_plain(&a.elem),
        Type::Slice(a) => not_plain(&a.elem),
        Type::Paren(p) => not_plain(&p.elem),
        Type::Group(g) => not_plain(&g.elem),
        Type::Tuple(t) => t.elems.iter().find_map(not_plain),
        Type::Ptr(p) => not_plain(&p.elem),
        Type::Path(p) => p.path.segments.iter().find_map(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => not_plain(t),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}
