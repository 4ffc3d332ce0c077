//! A user-mode simulator of the NDIS and WFP net-buffer DDIs, with a
//! verifier, so that Windows network-driver code is tested on any host.
//!
//! `ndis-sim` exports every function `ndis-sys` and `fwps-sys` declare,
//! under the DDI's own name (`NdisAllocateNetBufferList`,
//! `FwpsInjectTransportSendAsync0`, …) and signature, operating on the very
//! records ndis-sys defines. A test binary that links it runs unmodified
//! driver code: add it as a dev-dependency and name it once so it is linked
//! (`use ndis_sim as _;`, or use its [`Session`]).
//!
//! ```
//! use ndis_sys::*;
//!
//! let session = ndis_sim::Session::new();
//! let params = NET_BUFFER_LIST_POOL_PARAMETERS {
//!     Header: NDIS_OBJECT_HEADER {
//!         Type: NDIS_OBJECT_TYPE_DEFAULT,
//!         Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
//!         Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
//!     },
//!     fAllocateNetBuffer: 1,
//!     ContextSize: 16,
//!     PoolTag: u32::from_le_bytes(*b"Demo"),
//!     ..Default::default()
//! };
//! // SAFETY: the DDIs are called as documented; the simulator checks it.
//! unsafe {
//!     let pool = NdisAllocateNetBufferListPool(core::ptr::null_mut(), &params);
//!     let nbl = NdisAllocateNetBufferList(pool, 16, 0);
//!     assert!(!nbl.is_null());
//!     assert_eq!(NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl), 16);
//!     print!("{}", ndis_sim::draw(nbl));
//!     NdisFreeNetBufferList(nbl);
//!     NdisFreeNetBufferListPool(pool);
//! }
//! assert!(session.leaks().is_empty());
//! ```
//!
//! # Fidelity
//!
//! Each DDI implements its documented contract: pool parameter validation,
//! preallocated NBs, MDLs and data, the `NET_BUFFER_LIST_CONTEXT` stack with
//! backfill, retreat and advance (allocating and freeing MDLs when the
//! unused space runs out), `NdisGetDataBuffer`'s pointer-or-copy, clones
//! (`ParentNetBufferList`, `ChildRefCount`, shared data), references, and
//! injection with completions the test drives ([`InjectionMode`]). Where
//! the documentation is silent, each function's documentation says what the
//! simulator does. It is thread-safe: one lock guards its bookkeeping.
//!
//! # IRQL
//!
//! Each thread has an IRQL ([`irql`]): `PASSIVE_LEVEL` until a test raises
//! it ([`irql::raise`], [`irql::at`]). The simulated stack runs classify
//! callouts ([`classify`]) and the injection completions it delivers
//! ([`complete_next`], [`complete_all`]) at `DISPATCH_LEVEL`, with
//! `dispatchLevel` TRUE, as the data path does; a completion the inject call
//! runs itself ([`InjectionMode::Immediate`]) runs at the caller's IRQL. The
//! verifier reports a DDI called above the maximum IRQL its page states
//! ([`Rule::IrqlAboveMaximum`]) and a `dispatchLevel` TRUE from a caller
//! below `DISPATCH_LEVEL` ([`Rule::DispatchLevelFlagWithoutDispatchLevel`]);
//! FALSE is what the page asks of a caller that does not know its IRQL, so
//! it is never reported.
//!
//! NET_BUFFER_LIST records are allocated at the newest NDIS layout
//! ([`NET_BUFFER_LIST_SIZE`]: 27 `NetBufferListInfo` slots, 368 bytes on
//! 64-bit targets), as Windows does whatever version a driver targets.
//!
//! # The filter engine
//!
//! [`wfp`] is a WFP filter engine on the same model: callouts registered
//! with any of `FwpsCalloutRegister0`–`3` and called with their own
//! classify signature and a full `FWPS_INCOMING_VALUES0` for the layer;
//! sublayers and filters (added directly or through the `Fwpm*` management
//! DDIs) arbitrated as the documentation describes; pends (classify handles
//! and `FwpsPendOperation0`), flow contexts, connect redirection, stream
//! segments, `FwpsInjectTransportSendAsync1`; connections opened through the
//! ALE layers and packets sent and received through the transport layers,
//! with the layers' documented data offsets; injected packets brought back
//! through a layer; and sinks for what reached the socket or the wire. Its
//! rules (the classify out written without the write right, a classify
//! handle or pended operation misused, flow contexts left at unregister,
//! send parameters changed before their completion) are [`Rule`]s like the
//! others; what never completes (a pend) is listed by
//! [`wfp::outstanding_pends`], the engine's watchdog.
//!
//! # The verifier
//!
//! Every misuse the documentation describes is a [`Violation`] of a
//! [`Rule`], naming the objects involved. By default a violation panics,
//! which — the DDIs being `extern "system"` functions that cannot unwind —
//! stops the process after printing the report, as a bugcheck stops the
//! machine. A test that means to break a rule uses [`Session::collecting`]
//! and reads [`Session::reports`]. [`Session::leaks`] lists what a session
//! allocated and did not free, by pool and tag; [`draw()`] shows an NBL
//! chain as text.
//!
//! # Stack-owned NBLs
//!
//! [`StackNbl`] is an NBL as the stack indicates it to a classify callout
//! or a filter: the driver may reference, clone, retreat and advance it,
//! and gives it back with the offsets it came with.
//!
//! # The filter stack
//!
//! [`lwf::Stack`] is an NDIS filter stack — a protocol above, a miniport
//! below, one module of each registered filter driver between — that a
//! test attaches, restarts, pauses and detaches, and sends and receives
//! through (lent, or with `NDIS_RECEIVE_FLAGS_RESOURCES`), completing in
//! any order. It implements the `NdisF*` DDIs a filter calls and reports
//! the filter rules of [`Rule`] (see [`lwf`]).
//!
//! # Structure
//!
//! Each module has one job, and imports go one way, down:
//!
//! ```text
//!   lib.rs: the public API (re-exports; `ndis`, `fwps`: the DDIs by header)
//!  ┌───────────────────────────┐ ┌──────────────────────────────────────┐
//!  │ ddi/  the exported        │ │ session  stack  leaks  draw          │
//!  │ extern "system" functions │ │ (what a test drives and reads)       │
//!  │ by family: pool nbl nb    │ │                                      │
//!  │ mdl context clone retreat │ │ (wfp/ engine, lwf/ filter stack:     │
//!  │ data fwps_*               │ │  peers here, on the same layers)     │
//!  └────────────┬──────────────┘ └──────────────────┬───────────────────┘
//!               ▼                                   ▼
//!  ┌─────────────────────────────────────────────────────────────────────┐
//!  │ verifier/  the rules, each in one place: rule (names, texts),       │
//!  │ report (panic or collect), objects, pool, data, clone, irql         │
//!  └──────────────────────────────────┬──────────────────────────────────┘
//!                                     ▼
//!  ┌─────────────────────────────────────────────────────────────────────┐
//!  │ model/  objects and their transitions: the registry (mod), block,   │
//!  │ objects, records, pool, nbl, nb, mdl, context, clone, retreat,      │
//!  │ injection, lent, callout, irql (each thread's IRQL)                 │
//!  └─────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The model knows no rule: a transition assumes checked arguments. The
//! verifier reads the model and, where a rule and a transition are one
//! step (the stack regaining a lent NBL), calls it. A DDI is its checks
//! then its transition; nothing imports `ddi/`: the DDIs the engine and
//! the filter stack add sit in their own `ddi` modules (`wfp/ddi.rs`,
//! `wfp/mgmt.rs`, `lwf/ddi.rs`) at the same top layer, and the DDIs of
//! `ddi/` call into the engine (a callout's unregistration, a Send1
//! injection's parameters), never the reverse. `session`, `stack`,
//! `leaks` and `draw` use the verifier and the model, never the DDIs. To
//! check: `grep -rn "use crate::" ndis-sim/src/model` names only `model`
//! modules, `…/src/verifier` only `model` and `verifier` ones, and no file
//! outside `src/ddi/` and `lib.rs` names `crate::ddi`.

#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "the simulator's job is raw reads and writes of C records: `*ACCESSOR(p)` is a call and a \
              dereference under one argument; every block still carries its SAFETY comment"
)]

pub mod ddi;
pub mod draw;
mod leaks;
pub mod lwf;
mod model;
pub mod rng;

/// The IRQL of each thread: what the simulated stack runs callouts at, and
/// what a test raises and lowers (see the module's functions).
pub mod irql {
    pub use crate::model::irql::*;
}
mod session;
mod stack;
mod verifier;
pub mod wfp;

/// The NDIS net-buffer DDIs (ndis-sys' functions), as `ndis-sys` declares
/// them; each is defined in its family's module of [`ddi`].
pub mod ndis {
    pub use crate::ddi::clone::*;
    pub use crate::ddi::context::*;
    pub use crate::ddi::data::*;
    pub use crate::ddi::mdl::*;
    pub use crate::ddi::nb::*;
    pub use crate::ddi::nbl::*;
    pub use crate::ddi::pool::*;
    pub use crate::ddi::retreat::*;
    pub use crate::lwf::ddi::*;
    pub use crate::lwf::oid::{
        NdisAllocateCloneOidRequest, NdisFCancelOidRequest, NdisFOidRequest, NdisFOidRequestComplete,
        NdisFreeCloneOidRequest,
    };
    pub use crate::lwf::status::{NdisFDevicePnPEventNotify, NdisFIndicateStatus, NdisFNetPnPEvent};
}

/// The WFP net-buffer, clone, reference, injection and callout DDIs
/// (fwps-sys' functions), and the control a test has over the simulated
/// stack; each DDI is defined in its family's module of [`ddi`].
pub mod fwps {
    pub use crate::ddi::fwps_callout::*;
    pub use crate::ddi::fwps_inject::*;
    pub use crate::ddi::fwps_nbl::*;
    pub use crate::stack::{
        ClassifyMetadata, InjectionMode, classify, complete_all, complete_next, pending_injections,
        registered_callouts, set_injection_mode,
    };
    pub use crate::wfp::ddi::*;
    pub use crate::wfp::header::*;
    pub use crate::wfp::mgmt::*;
}

/// Draws an NBL chain as text (see [`draw`](mod@draw)).
///
/// # Safety
///
/// `nbl` is NULL or a live NBL whose NBs and MDLs are live.
pub unsafe fn draw(nbl: *mut ndis_sys::NET_BUFFER_LIST) -> String {
    // SAFETY: the caller's guarantee is the callee's.
    unsafe { draw::draw(nbl) }
}

pub use leaks::{Leak, LeakReport};
pub use model::nbl::NET_BUFFER_LIST_SIZE;
pub use session::{Session, untracked};
pub use stack::{
    ClassifyMetadata, InjectionMode, StackNbl, classify, complete_all, complete_next, pending_injections,
    registered_callouts, set_injection_mode,
};
pub use verifier::{Rule, Violation};
