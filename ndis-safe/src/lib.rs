//! A safe, zero-cost API over the NDIS and WFP net-buffer DDIs: pools,
//! NET_BUFFER_LISTs, NET_BUFFERs, MDLs, contexts and clones as owned and
//! borrowed types, so that the misuse the DDI documentation forbids does
//! not compile.
//!
//! `#![no_std]`, no allocator, no panics: every wrapper is a thin
//! `#[inline]` call of the DDI, allocation failure is an `Err`.
//!
//! ```
//! use ndis_safe::{ContextArea, MdlChain, Mdl, NblPool, NblPoolOptions, NdisHandle, Tag};
//!
//! #[derive(ContextArea)]
//! #[repr(C)]
//! struct Flow {
//!     id: u64,
//!     bytes: u64,
//! }
//!
//! # let _sim = ndis_sim::Session::new();
//! // SAFETY: the host simulator accepts any handle; a driver passes its own.
//! let owner = unsafe { NdisHandle::from_raw(core::ptr::null_mut()) };
//! let pool: NblPool<Flow, _> = NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Flow")).with_net_buffer())?;
//! let mut packet = *b"a packet's bytes";
//! let mut mdl = Mdl::new(&owner, &mut packet)?;
//! let mut chain = MdlChain::new(&mut mdl);
//! let mut nbl = pool.allocate_over(&mut chain, 2, 6, Flow { id: 7, bytes: 0 })?;
//! nbl.context_mut().bytes += 6;
//! let mut storage = [0; 6];
//! assert_eq!(nbl.first().and_then(|nb| nb.peek(&mut storage)), Some(&b"packet"[..]));
//! assert_eq!(nbl.context().bytes, 6);
//! # Ok::<(), ndis_safe::Error>(())
//! ```
//!
//! # What cannot be written
//!
//! | misuse | why it does not compile |
//! |---|---|
//! | freeing a pool while anything from it lives | NBLs and NBs borrow their pool |
//! | using or freeing an NBL or NB twice; the wrong free function | they are owned values, freed by `Drop` with the function their type names ([`Nbl`], [`FwpsNbl`], [`NdisClone`], [`FwpsClone`], [`NetBufferOwned`]) |
//! | freeing a parent while a clone lives | a clone borrows its parent |
//! | freeing a modified clone | there is no free but `Drop`, which undoes every recorded change first |
//! | a context type of the wrong size or alignment, too large, or read as another type | `#[derive(ContextArea)]`'s compile-time checks; pools and NBLs are typed by their context |
//! | an undo record applied to another clone | records carry the invariant brand of their [`NblClone::modify`] call |
//! | a NULL MDL chain with an offset or length; data size without a NET_BUFFER | the allocators that would take them do not exist for that pool type |
//! | popping contexts out of order | a pushed context's guard borrows the NBL (or the previous guard) |
//! | changing a clone made unmodifiable | [`clone::Unmodifiable`] clones have no `modify` |
//! | using a packet while the stack owns it (injected) | `inject` consumes it; the completion gives it back |
//! | releasing a clone's parent reference before the clone | a [`ClonedPacket`] owns both and drops them in order |
//!
//! # Safety
//!
//! The soundness argument, type by type (each type's `# Invariants` says
//! what it relies on):
//!
//! - **Ownership.** An owned NBL, NB, MDL or clone holds the only pointer to
//!   its record outside NDIS; `Drop` frees it once, with the function
//!   matching its allocator, which the type fixes. Records are reached
//!   through views ([`NetBufferList`], [`NetBuffer`], [`MdlView`]) that are
//!   `UnsafeCell` wrappers handed out only as `&`, so safe code can neither
//!   move nor swap a record NDIS knows by address.
//! - **Lifetimes.** `'a` on an NBL or NB is the borrow of its pool (and of
//!   the MDL chain it describes); `'p` on a clone is the borrow of its
//!   parent. The borrow checker therefore rejects freeing a pool, a chain or
//!   a parent while something made from it lives. A [`BorrowedNbl<'a>`] is
//!   created `unsafe`ly from the stack's loan; its clones live at most `'a`.
//! - **Changes to clones.** A clone records every change it undergoes (at
//!   most [`MAX_CHANGES`](clone::MAX_CHANGES), else `Err`) in itself; its
//!   `Drop` reverts them last first and then frees, so a clone is always
//!   restored before NDIS sees it freed. The reverts cannot fail: an advance
//!   is recorded without freeing MDLs, so its undo retreats into bytes that
//!   are still there.
//! - **Brands.** [`NblClone::modify`] calls its closure with a
//!   [`Changes<'id, …>`](clone::Changes) for a lifetime `'id` the closure must
//!   accept for *every* `'id` (`for<'id> FnOnce`). `'id` appears only in
//!   `PhantomData<fn(&'id ()) -> &'id ()>`, which is invariant, so no
//!   subtyping can equate two brands, and the closure cannot name it or let
//!   an [`Undo<'id>`](clone::Undo) escape (its return type cannot mention
//!   `'id`). Two `modify` calls — on two clones, or twice on one — thus have
//!   distinct brands, and `Changes::undo` accepts only its own call's
//!   records. `Undo` is neither `Clone` nor `Copy`, so a record is used once;
//!   the order is checked at run time (`Err(UndoOutOfOrder)`).
//! - **Contexts.** A context type's size, alignment and `USHORT` fit are
//!   checked by its derive at compile time, so the `ContextSize` passed to
//!   NDIS is valid and the context area (aligned to
//!   `MEMORY_ALLOCATION_ALIGNMENT`) holds a `C`. Every allocation writes the
//!   caller's initial value, so the area is never read uninitialized. A
//!   context is `'static + Send` (it travels with its NBL across
//!   completions) and needs no `Drop` (NDIS frees it without running one).
//!   Pushed contexts are guards borrowing the NBL mutably, which makes them
//!   last-in first-out with their own size.
//! - **Leaks.** `mem::forget` is safe, so the API stays sound when values
//!   are leaked: a forgotten NBL keeps its pool's outstanding count up, and
//!   a pool with outstanding allocations is leaked rather than freed; an NBL
//!   whose `ChildRefCount` is not zero (a forgotten clone) is leaked rather
//!   than freed. What cannot be undone by types alone: forgetting a clone of
//!   an NBL *the stack lent* leaves the stack a parent with a live clone —
//!   a driver bug the simulator's verifier reports, as it reports every
//!   misuse of the raw DDIs.
//!
//! # Costs
//!
//! No allocation, no locks. An owned NBL is two words; a clone carries its
//! change log (72 bytes; none for an [`Unmodifiable`](clone::Unmodifiable)
//! clone). Injection keeps what its completion needs in the NBL's own
//! context, and only when the NBL alone cannot tell. `BENCHMARKS.md` gives
//! the instruction-count ratios against the raw DDIs (1.0069 for allocate,
//! clone, modify, undo, free; 1.0099 for the inspect path with injection).
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod clone;
pub mod context;
pub mod error;
pub mod mdl;
pub mod nbl;
pub mod pool;
pub mod view;
pub mod wfp;

pub use clone::{FwpsClone, NblClone, NdisClone};
pub use context::{ContextArea, NoContext, PushedContext};
pub use error::{Error, Result, Status};
pub use mdl::{Mdl, MdlChain};
pub use nbl::{BorrowedNbl, FwpsNbl, Nbl, NetBufferOwned, Pushed, Retreated};
pub use pool::{NbPool, NblPool, NblPoolOptions, NdisHandle, Tag};
pub use view::{MdlView, NetBuffer, NetBufferList};
pub use wfp::{ClonedPacket, Completed, InjectionHandle, NblReference};

/// `#[derive(ContextArea)]`: see [`ContextArea`].
pub use ndis_macros::ContextArea;
/// `#[derive(PushedContext)]`: see [`PushedContext`].
pub use ndis_macros::PushedContext;

/// What the derives' expansions name; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::{ContextArea, ContextAreaLayout, PushedContext, PushedContextLayout, assert_plain_field};
    pub use crate::wfp::INJECTION_CONTEXT;
    pub use core::mem::{align_of, size_of};
}
