//! The cases live in `tests/ui`: one compile-fail case per misuse
//! ndis-safe makes impossible, grouped by area, each with the `.stderr` a
//! user would read (written by `cargo xtask bless`, never by hand), and
//! pass cases. Each compile-fail case names its raw-DDI twin: the
//! `ndis-sim` verifier test that makes the same mistake through the raw
//! functions and sees it reported.
//!
//! The `.stderr` files are those of the toolchain in `tests/ui/TOOLCHAIN`;
//! on another toolchain the cases are skipped, loudly.

pub use ndis_safe::clone::{Fwps, Ndis};
pub use ndis_safe::*;

/// A context area for the cases.
#[derive(ContextArea, Debug, Clone, Copy)]
#[repr(C)]
pub struct Flow {
    /// An id.
    pub id: u64,
    /// A count.
    pub bytes: u64,
}

/// Another context area, of the same size.
#[derive(ContextArea, Debug, Clone, Copy)]
#[repr(C)]
pub struct Other {
    /// Two words.
    pub words: [u64; 2],
}

/// A handle the simulator accepts.
pub fn owner() -> NdisHandle {
    // SAFETY: the host simulator accepts any handle.
    unsafe { NdisHandle::from_raw(core::ptr::null_mut()) }
}

/// A tag for the cases.
pub const TAG: Tag = Tag(*b"Case");
