// The derives' expansions name only ::ndis_safe::__private and core
// primitives: they work without the prelude and beside shadowing names.
#![no_implicit_prelude]
#![deny(unsafe_code)]

#[allow(dead_code)]
mod shadows {
    pub struct Send;
    pub struct Sized;
    pub struct ContextArea;
    pub fn size_of() {}
    pub mod core {}
}

#[allow(unused_imports)]
use shadows::*;

#[derive(::ndis_safe::ContextArea)]
#[context_area(backfill = 16)]
#[repr(C)]
struct Hygienic {
    a: u64,
    b: [u8; 8],
}

#[derive(::ndis_safe::PushedContext)]
#[repr(C)]
struct Pushed(u64);

fn main() {
    let _: u16 = <Hygienic as ::ndis_safe::ContextArea>::SIZE;
    ::std::assert_eq!(<Hygienic as ::ndis_safe::ContextArea>::SIZE, 16);
    ::std::assert_eq!(<Hygienic as ::ndis_safe::ContextArea>::BACKFILL, 16);
    ::std::assert_eq!(<Pushed as ::ndis_safe::PushedContext>::SIZE, 8);
}
