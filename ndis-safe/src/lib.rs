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
//! # Cargo features
//!
//! `filter` (on by default): NDIS lightweight filters, the [`filter`]
//! module — typed handlers, and send and receive chains that go back
//! exactly once per NBL. A driver that is only a WFP callout turns it off
//! (`default-features = false`); it adds no code to one that does not use
//! it either way, since everything in it is generic over the filter.
//!
//! `wfp` (on by default): WFP callouts, the [`wfp`] module, with the
//! `FwpsAllocateCloneNetBufferList0` clone flavor ([`clone::Fwps`]) and the
//! `FwpsAllocateNetBufferAndNetBufferList0` allocator ([`FwpsNbl`]), and the
//! fwps-sys dependency. A driver that is only a filter turns it off
//! (`default-features = false, features = ["filter"]`): then nothing of it
//! is compiled and the driver needs no FWPKCLNT.SYS import library, and
//! imports nothing from it (`samples/ndis-filter` is built so).
//!
//! The two halves are features of one crate, not two crates: they share
//! the NBL, NB, MDL, pool, clone and context types and their leak rules,
//! which a WFP callout and a filter both use (a driver may well be both);
//! splitting them would make a third crate of that core and a public
//! dependency edge between them for no code saved, since a feature that is
//! off compiles nothing.
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
//! | popping contexts out of order; reading the NBL's context while one is pushed | contexts are pushed for a closure ([`with_context`](nbl::NetBufferListOwned::with_context)), which borrows the NBL; the library pops |
//! | a header MDL that dies before the clone it heads | a clone's lifetime, for which [`Changes::prepend`](clone::Changes::prepend) borrows the MDL, is invariant |
//! | handing a lent NBL back retreated, or with a live clone | lent NBLs are retreated and cloned for a closure ([`BorrowedNbl::with_retreat`], [`BorrowedNbl::with_clone`]); the library restores and frees |
//! | a context holding references | the derives reject the field, by name |
//! | FWPS allocation from a pool without preallocated NET_BUFFERs, or with data | `fwps_allocate_*` exist only for `NblPool<C, WithNetBuffer>` |
//! | changing a clone made unmodifiable | [`clone::Unmodifiable`] clones have no `modify` |
//! | using a packet while the stack owns it (injected) | `inject` consumes it; the completion gives it back |
//! | releasing a clone's parent reference before the clone | a [`ClonedPacket`] owns both and drops them in order |
//! | a classify decision written without `FWPS_RIGHT_ACTION_WRITE`; forgetting to clear it on a block | a [`ReadOnly`](wfp::decision::ReadOnly) action has only `leave` and `veto`; the library writes every decision ([`wfp::decision`]) |
//! | reading an incoming value as the wrong union member, or a field of another layer | fields are typed constants of their layer ([`wfp::fields`]); the `FWP_VALUE0` tag is checked |
//! | keeping a classify's layer data past the call | it is lent for the call's lifetime `'c` ([`wfp::classify::Classify::take_data`]) |
//! | completing a pended classify twice | [`PendedClassify::complete`](wfp::pend::PendedClassify::complete) consumes it |
//! | a flow context read as another type, or freed twice | [`FlowTable`](wfp::flow::FlowTable) is typed; its cookies carry a generation |
//! | a filter completing a send twice, sending a chain it completed, returning a receive it indicated up | [`filter::SendChain`] and [`filter::RecvChain`] are consumed by the call that ends them |
//! | a filter keeping a receive (lent for the call or not) past its handler | the chains carry the handler call's invariant lifetime |
//! | a filter completing its own NBL up, or getting back another's as its own | own NBLs go only down or up in an [`filter::OwnChain`] (checked against its pool) and come back as owned NBLs, by `SourceHandle` and pool |
//! | a pause completed while NBLs are out, or twice | the library completes it when its in-flight count (taken when NBLs leave) reaches zero, with one compare-exchange |
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
//!   created `unsafe`ly from the stack's loan; its clones live inside
//!   [`BorrowedNbl::with_clone`], or with a reference ([`ClonedPacket`]).
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
//!   A context's fields are plain data: the derives reject a field whose
//!   type holds a reference of any lifetime (`&'static mut` included) or a
//!   trait object, naming the field — a reference read from NBL bytes is
//!   trusted by safe code. Raw pointers are refused for not being `Send`.
//!   Pushed contexts live for a closure the library calls
//!   ([`with_context`](nbl::NetBufferListOwned::with_context)), which borrows the
//!   NBL mutably and pops the context when the closure returns or unwinds:
//!   they are last-in first-out with their own size, and the NBL's own
//!   context cannot be read while one is on top.
//!
//! # Leaks: the rule
//!
//! **No safety property and no verifier-cleanliness rests on a destructor
//! running.** `mem::forget`, `Box::leak`, an `Rc` cycle and a panic that
//! skips a drop are all safe Rust; each ends in at most a leak — memory or
//! an NDIS object never freed, which the simulator's leak report lists —
//! never in undefined behaviour or a verifier report. Four techniques, as
//! the standard library's own (`std::thread::scope`, `Vec::drain`):
//!
//! 1. **A scope the library controls.** What must be undone before control
//!    goes back to the stack is undone by the library after a closure, not
//!    by a guard the caller holds: [`BorrowedNbl::with_retreat`] advances a
//!    lent NBL back, [`BorrowedNbl::with_clone`] frees a clone of it,
//!    [`with_context`](nbl::NetBufferListOwned::with_context) pops a pushed
//!    context. The closures get references with fresh invariant brands, so
//!    nothing escapes or is swapped; private guards inside the library redo
//!    the undo when the closure unwinds.
//! 2. **Ownership moves into the guard.** A [`ClonedPacket`] owns its clone
//!    and the reference on the lent NBL; a clone's change log is in the
//!    clone. Leaking them leaks what they own, which stays valid.
//! 3. **Re-check at use.** Whatever a leaked value left behind is checked
//!    again where it matters: [`MdlChain`] sets the links it owns when it is
//!    built (a leaked chain's stale `Next` is cleared by the next chain that
//!    takes the MDL), and an NBL whose `ChildRefCount` is not zero (a clone
//!    of it was leaked) is leaked rather than freed.
//! 4. **Count at creation.** A pool counts what is allocated from it when
//!    it is allocated — NBLs, NET_BUFFERs, FWPS NBLs, and clones made into
//!    a caller's pool — and is freed only when the count is back to zero;
//!    a leaked object keeps its pool from being freed (the pool leaks with
//!    it). A pool borrowed `'static` is never freed, so clones made into
//!    it are not counted. Pushed contexts are not pool objects: they come
//!    from the NBL's context backfill or NDIS's own memory, and are popped
//!    by the scope.
//!
//! Lifetimes that tie caller memory to a chain, a clone or an injection are
//! invariant: a clone's `'p` (the parent's and every prepended MDL's
//! borrow), [`Changes`](clone::Changes)' `'p`, an owned NBL's or NB's `'a`
//! (its pool's and the MDL chain's borrow, which an injection reads later)
//! and an [`MdlChain`]'s `'m`, so no subtyping accepts a shorter-lived MDL.
//!
//! What leaking each public type does:
//!
//! | type | leaked (`mem::forget`, `Box::leak`, an `Rc` cycle) |
//! |---|---|
//! | [`NblPool`], [`NbPool`] | the NDIS pool is never freed |
//! | [`Nbl`], [`FwpsNbl`] | the NBL is never freed; its pool stays counted, so the pool leaks too |
//! | [`NetBufferOwned`] | the NET_BUFFER is never freed; its pool leaks too |
//! | [`Mdl`] | the MDL is never freed |
//! | [`MdlChain`] | the `Next` links stay set; the next chain that takes an MDL clears its link, and nothing walks past a chain's own tail |
//! | [`NblClone`] ([`NdisClone`], [`FwpsClone`]) | the clone is never restored nor freed; its parent's `ChildRefCount` stays up, so an owned parent leaks (and its pool); a caller's pool it was made in leaks. (A clone of a lent NBL exists only inside [`BorrowedNbl::with_clone`], or in a [`ClonedPacket`].) |
//! | [`clone::Changes`], [`clone::Undo`] | nothing: the changes stay recorded in the clone and are undone when it is freed |
//! | [`clone::Log`], [`clone::Unmodifiable`] | nothing: plain data |
//! | [`Retreated`] (an owned NBL's) | the NBL stays retreated — it is the driver's — and is freed so; NDIS keeps a retreat's MDLs with the NET_BUFFER (at worst such an MDL leaks; the simulator frees it with the NBL) |
//! | [`Pushed`] | cannot be leaked: only its `with_context` call holds it, and pops it |
//! | [`BorrowedNbl`] | nothing: a view of the loan; its retreats and clones are scoped |
//! | [`NblReference`] | the reference is never released: the stack never takes its NBL back (a leak of the lent NBL) |
//! | [`ClonedPacket`], [`Completed`], [`wfp::Rejected`] | the clone and the reference leak: the lent NBL stays referenced, the clone unfreed; its `'static` pool is never freed anyway |
//! | [`InjectionHandle`] | the handle is never destroyed; injections still pending complete normally (their completions need only the NBL and the routine) |
//! | [`NetBufferList`], [`NetBuffer`], [`MdlView`], iterators | nothing: shared references |
//! | [`wfp::callout::Registration`] | the callout stays registered (its functions are the driver's `'static` code); the simulator still lists it (`ndis_sim::registered_callouts`) |
//! | [`wfp::pend::PendedClassify`] | the classify never completes and its handle is never released: the connection waits; the simulator's watchdog lists it |
//! | [`wfp::pend::PendedOperation`] | the operation is never completed: the connection is never re-authorized; the watchdog lists it |
//! | [`wfp::redirect::RedirectHandle`] | the handle is never destroyed |
//! | [`wfp::redirect::ConnectRequest`] | cannot be leaked: only its `redirect_connect` call holds it, and applies it |
//! | [`wfp::redirect::BindRequest`] | cannot be leaked: only its `redirect_bind` call holds it, and applies it |
//! | [`wfp::redirect::RedirectHandleCell`] | the handle in it is never destroyed (a `static` cell is never dropped: unload takes the handle out) |
//! | [`wfp::pend::PendSlot`] | the pend in it is never completed (a `static` slot is never dropped): the connection waits; the watchdog lists it |
//! | [`wfp::send::SendSlot`] | a `static`: never dropped; a slot whose injection never completes stays busy (its copies of the send parameters stay valid) |
//! | [`wfp::flow::FlowTable`] | its live contexts are never dropped (a `static` is never dropped anyway); a context whose flow never ends stays in its slot |
//! | [`wfp::mgmt::Engine`] | the session is never closed: a dynamic session's objects stay in the engine |
//! | [`wfp::mgmt::Provider`], [`wfp::mgmt::SubLayer`], [`wfp::mgmt::CalloutObject`], [`wfp::mgmt::Filter`] | the object stays in the engine; a filter keeps its callout referenced (its unregistration is `Busy`) |
//! | [`wfp::mgmt::Transaction`] | cannot be leaked: only its `transaction` call holds it, and commits or aborts |
//! | [`wfp::classify::Classify`], [`wfp::decision::Action`], [`wfp::decision::Writable`], [`wfp::decision::ReadOnly`], [`wfp::decision::Decided`], [`wfp::layer::StreamData`] | nothing: views of one classify call; the action stays as the engine gave it (`FWP_ACTION_CONTINUE` unless written) |
//! | [`NdisHandle`], [`Tag`], [`NblPoolOptions`], [`Status`], [`Error`], [`wfp::Transport`], [`wfp::InjectionTypes`], [`wfp::InjectionState`], [`wfp::redirect::RedirectState`], [`wfp::header::IpHeader`], [`wfp::header::HeaderAt`] | nothing: plain values |
//!
//! The filter types' leaks are in [`filter`]'s docs.
//!
//! `tests/leaks.rs` performs each of these leaks on the simulator (and under
//! Miri) and checks that no report follows, only the leak; the fuzz command
//! forgets every guard and owned type at random.
//!
//! # Costs
//!
//! No allocation, no locks. An owned NBL is two words; a clone is two (its
//! pointer, and the counter of the caller's pool it was made in, if any)
//! plus its change log (72 bytes; none for an
//! [`Unmodifiable`](clone::Unmodifiable) clone). What the leak rules add
//! per call: a clone's free tests its pool counter (a load and a branch;
//! an atomic decrement for a clone made in a caller's pool, an atomic
//! increment at its creation), a chain's `new` and `then` clear one link
//! each; the scoped APIs make the same DDI calls the guards made. Injection keeps what its completion needs in the NBL's own
//! context, and only when the NBL alone cannot tell; its completion routine
//! is a type ([`wfp::Completion`]), so the routine WFP calls runs the
//! driver's directly. `BENCHMARKS.md` counts the driver's own instructions
//! (outside the DDIs) against the same work through the raw DDIs: 52
//! against 48 (1.08) to allocate, clone, retreat, undo and free; 105 against
//! 105 (1.00) for the inspect path with injection, where the raw code makes
//! the tests the DDI contracts require. What remains on the first is the
//! leak rules' (the pool counter, the `ChildRefCount` test).
#![no_std]
// The crate docs describe every module; the links into a module that is off
// have no target (the published docs have the default features).
#![cfg_attr(not(all(feature = "wfp", feature = "filter")), allow(rustdoc::broken_intra_doc_links))]
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod clone;
pub mod context;
pub mod error;
#[cfg(feature = "filter")]
pub mod filter;
pub mod mdl;
pub mod nbl;
pub mod pool;
pub mod view;
#[cfg(feature = "wfp")]
pub mod wfp;

#[cfg(feature = "wfp")]
pub use clone::FwpsClone;
pub use clone::{NblClone, NdisClone};
pub use context::{ContextArea, NoContext, PushedContext};
pub use error::{Error, Result, Status};
pub use mdl::{Mdl, MdlChain};
#[cfg(feature = "wfp")]
pub use nbl::FwpsNbl;
pub use nbl::{BorrowedNbl, Nbl, NetBufferOwned, Pushed, Retreated};
pub use pool::{NbPool, NblPool, NblPoolOptions, NdisHandle, Tag};
pub use view::{MdlView, NetBuffer, NetBufferList};
#[cfg(feature = "wfp")]
pub use wfp::{ClonedPacket, Completed, InjectionHandle, NblReference};

/// `#[derive(ContextArea)]`: see [`ContextArea`].
pub use ndis_macros::ContextArea;
/// `#[derive(PushedContext)]`: see [`PushedContext`].
pub use ndis_macros::PushedContext;

/// What the derives' expansions name; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::{ContextArea, ContextAreaLayout, PushedContext, PushedContextLayout, assert_plain_field};
    #[cfg(feature = "wfp")]
    pub use crate::wfp::INJECTION_CONTEXT;
    pub use core::mem::{align_of, size_of};
}
