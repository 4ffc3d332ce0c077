//! NDIS lightweight filters: a [`Filter`] trait whose handlers are typed,
//! registered by [`FilterDriver::register`], with the send and receive
//! chains as owned values that go back exactly once per NBL.
//!
//! ```text
//!        protocol (TCP/IP)
//!   send ↓   ↑ complete   indicate ↑   ↓ return
//!   ┌───────────────────────────────────────────┐
//!   │ Filter::send(SendChain)   Filter::receive(RecvChain)
//!   │   .send_down() / .complete(status)   .indicate_up() / .give_back()
//!   │   own NBLs: OwnChain → own_completed / own_returned (as owned Nbl)
//!   └───────────────────────────────────────────┘
//!   send ↓   ↑ complete   indicate ↑   ↓ return
//!        miniport
//! ```
//!
//! The library provides the `extern "system"` handlers NDIS calls; they
//! build the typed values, call the [`Filter`]'s methods, and do what a
//! pass-through filter must do with the rest: NBLs this filter sent down
//! come back to its send-complete handler, where the library completes the
//! ones it passed through up and hands its own ones (recognised by
//! `SourceHandle`, checked against its own pool) back to
//! [`Filter::own_completed`] as the [`Nbl`]s they were; the
//! same on the receive side with [`Filter::own_returned`].
//!
//! # Module state
//!
//! A module (one attachment) is [`Paused`](ModuleState::Paused) after
//! attach, [`Restarting`](ModuleState::Restarting) in its restart
//! handler, [`Running`](ModuleState::Running) after it, and
//! [`Pausing`](ModuleState::Pausing) from its pause handler until its own
//! NBLs are back. The library checks the state where the types cannot,
//! with one load and one compare per handler call (the check NDIS asks of
//! every filter, which a raw filter makes too): a send or receive
//! arriving while not running is completed with `NDIS_STATUS_PAUSED` or
//! given back without calling the filter; own NBLs are sent or indicated
//! only by a running module (else the [`OwnChain`] comes back as `Err`);
//! a restart of a module that is not paused fails.
//!
//! # Pause
//!
//! The pause completes — `NDIS_STATUS_SUCCESS` from the pause handler, or
//! `NdisFPauseComplete` — exactly once, when the last of the module's
//! *own* NBLs (sent down or indicated up through an [`OwnChain`]) is back.
//! NBLs the module passes through are not counted, per NDIS's pause
//! contract ("Pausing a Driver Stack", "Pausing a Filter Module" and
//! `FILTER_PAUSE` in the NDIS documentation): NDIS pauses the overlying
//! drivers first — the protocol binding's pause completes only when all
//! its sends are complete and it has returned the receives indicated to
//! it, and each filter above pauses only when its own NBLs are back — so
//! by the time a filter's pause handler runs, every NBL it passed through
//! is back already; a pausing filter must wait only for the send and
//! receive operations it *originated*, and give back what it holds (a
//! typed filter holds nothing past a handler call). The count is kept per
//! chain (one atomic add when an own chain goes, one subtract when it comes
//! back), not per NBL, and not at all for a filter without own NBLs.
//!
//! Receive *calls* are counted too, for their duration: receives come from
//! below, where the miniport still runs while the module pauses, so a
//! receive handler that found the module running may still be passing its
//! chain up when the pause handler runs; the pause then completes when
//! that call ends, never while it can still indicate (ndis-sim reports an
//! indication from a paused module, `FilterPaused`). Send calls need no
//! count: the overlying driver's pause waits for its sends, so none is in
//! a send handler when the module's pause starts.
//!
//! The library relies on NDIS for one more thing, as every filter does: a
//! module's context stays valid for the whole of each handler call, so the
//! detach handler (which frees the module and the filter value) never runs
//! while a send, receive, completion or return handler of the module is
//! still running — even one that has already handed its last NBL on. The
//! library does not count handler calls to enforce that itself (it would
//! cost an atomic add and subtract on every call); the WDK's own filter
//! sample makes the same assumption (its receive handler reads its context after
//! `NdisFIndicateReceiveNetBufferLists` returns).
//!
//! # Own NBLs are a compile-time fact
//!
//! [`Filter::OWN_NBLS`] (false by default) says whether the filter sends
//! or indicates NBLs of its own. Without them, the library's send-complete
//! and return handlers are one call each — everything back is passed
//! through, handed back as it came — and an [`OwnChain`] cannot be made
//! (a compile-time error). With them, what comes back is split by
//! `SourceHandle`: the filter's own NBLs go to [`Filter::own_completed`] or
//! [`Filter::own_returned`] apart from the passed-through ones.
//!
//! # Chains end inside the handler call
//!
//! A [`SendChain`] or [`RecvChain`] carries the handler call's lifetime
//! (invariant): it cannot be stored in the filter (a `'static` type) nor
//! sent to another thread past the call, so every NBL handed to a handler
//! is ended — passed on, completed or given back — before the handler
//! returns, or leaked. That is the leak rule (DESIGN §6 rule 9) applied to
//! pause: a queue of held chains that a pause had to wait for would let a
//! forgotten chain hang the pause; with chains ended in the call, the
//! pause waits only for what NDIS holds, which nothing can forget. For
//! `NDIS_RECEIVE_FLAGS_RESOURCES` (the miniport is low on buffers and lends
//! the NBLs for the call only) this is also what NDIS requires. A filter
//! that must delay frames copies them into its own NBLs ([`OwnChain`]),
//! which it owns and may keep.
//!
//! # Flags and counts
//!
//! A chain passed on whole goes with the flags its handler was given
//! (`SendFlags`, `ReceiveFlags`, the completion's and return's flags), as
//! a raw pass-through filter passes them; a chain with own NBLs joined
//! keeps only the dispatch-level bit (the others described the chain NDIS
//! handed over). Own chains sent on their own
//! ([`OwnChain::send_down`], [`OwnChain::indicate_up`]) go with the
//! dispatch-level flag clear, which the DDIs allow of a caller that does
//! not know its IRQL. The chains are counted only where a DDI needs a
//! count it is not given: a receive keeps the `NumberOfNetBufferLists`
//! NDIS gave (and splits count as they walk); a send chain is not counted
//! (`NdisFSendNetBufferLists` takes no count; [`SendChain::len`] walks).
//!
//! # Leaks
//!
//! | type | leaked |
//! |---|---|
//! | [`SendChain`] | its NBLs are never completed (the protocol above never gets them back) |
//! | [`RecvChain`] | its NBLs are never returned (the miniport never gets them back); a low-resources chain leaks nothing |
//! | [`OwnChain`] | its NBLs are never freed, and their pool leaks (it stays counted); dropped, it frees them |
//! | [`FilterDriver`] | never deregistered: the driver cannot unload |
//! | [`Module`], [`AttachParameters`] | cannot be leaked: only borrowed |
//! | [`OidRequest`], [`OidHandled`] | cannot be leaked by a handler that returns: it must return the [`OidHandled`] only ending the request gives |
//! | [`StatusIndication`], [`NetPnPEvent`], [`DevicePnPEvent`] | cannot be leaked: only borrowed |
//!
//! Nothing is ever completed or returned twice: each chain is consumed by
//! the call that ends it. A chain *dropped* without an end is ended by
//! its `Drop` — sends completed with `NDIS_STATUS_REQUEST_ABORTED`,
//! receives given back — as a convenience that nothing rests on.
//!
//! # OID requests, status and PnP
//!
//! The library registers `FilterOidRequest`, `FilterOidRequestComplete`,
//! `FilterCancelOidRequest`, `FilterStatus`, `FilterNetPnPEvent` and
//! `FilterDevicePnPEventNotify`. An OID request is an owned
//! [`OidRequest`] handed to [`Filter::oid_request`], passed down (a clone
//! the library issues and completes back into the original, exactly once:
//! the default) or answered by the filter ([`OidRequest::answer_query`],
//! checking the buffer's length and setting `BytesNeeded`); it ends inside
//! the call, which returns the [`OidHandled`] the end gives. Status indications and PnP events are passed
//! on unless the filter's handler, which sees them through typed views
//! ([`StatusIndication`], [`NetPnPEvent`], [`DevicePnPEvent`]), says
//! [`Forward::Absorb`]. See [`OidRequest`] and the leak table: a request
//! cannot be forgotten by a handler that returns (it has no
//! [`OidHandled`] to return), nor completed twice. Direct OID requests
//! are not registered: NDIS passes them by the filter.
//!
//! # Out-of-band data
//!
//! [`info`] reads `NET_BUFFER_LIST_INFO` typed per kind (checksum, large
//! send, 802.1Q, RSS hash) from any NBL, and writes it, or copies it from
//! an NBL the filter was handed, into the filter's own NBLs.

mod chain;
mod driver;
pub mod info;
mod module;
mod oid;
mod status;

pub use chain::{Iter, OwnChain, RecvChain, SendChain};
#[doc(hidden)]
pub use driver::__ascii_to_utf16;
pub use driver::{FilterDriver, Name, Registration};
pub use module::{Module, ModuleState};
pub use oid::{OidHandled, OidKind, OidRequest};
pub use status::{DevicePnPEvent, Forward, NetPnPEvent, StatusIndication};

use crate::context::ContextArea;
use crate::error::Status;
use crate::nbl::Nbl;
use crate::pool::{NblPool, Tag, prealloc::WithData};

/// What NDIS tells the attach handler about the miniport below.
///
/// # Invariants
///
/// `raw` is NDIS's attach parameters, valid for the attach call.
pub struct AttachParameters<'a> {
    raw: &'a ndis_sys::NDIS_FILTER_ATTACH_PARAMETERS,
}

impl core::fmt::Debug for AttachParameters<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttachParameters")
            .field("miniport_if_index", &self.miniport_if_index())
            .field("media_type", &self.media_type())
            .field("mac_address", &self.mac_address())
            .finish()
    }
}

impl AttachParameters<'_> {
    /// Wraps NDIS's parameters.
    ///
    /// # Safety
    ///
    /// `raw` is valid for `'a`.
    #[allow(unsafe_code, reason = "the raw record NDIS passes")]
    pub(crate) unsafe fn from_raw<'a>(raw: *const ndis_sys::NDIS_FILTER_ATTACH_PARAMETERS) -> AttachParameters<'a> {
        // SAFETY: the caller's guarantee.
        AttachParameters { raw: unsafe { &*raw } }
    }

    /// The miniport's interface index (`BaseMiniportIfIndex`).
    pub fn miniport_if_index(&self) -> u32 {
        self.raw.BaseMiniportIfIndex
    }

    /// `MiniportMediaType` (`NdisMedium802_3` for Ethernet).
    pub fn media_type(&self) -> i32 {
        self.raw.MiniportMediaType
    }

    /// The miniport's current MAC address.
    pub fn mac_address(&self) -> &[u8] {
        let n = usize::from(self.raw.MacAddressLength).min(self.raw.CurrentMacAddress.len());
        self.raw.CurrentMacAddress.get(..n).unwrap_or(&[])
    }

    /// The raw record, for fields this type does not name.
    pub fn as_raw(&self) -> &ndis_sys::NDIS_FILTER_ATTACH_PARAMETERS {
        self.raw
    }
}

/// A lightweight filter: one value per module (attachment), made by
/// [`Filter::attach`] and dropped at detach; its methods are the handlers.
///
/// Every method but `attach` has a default: the pass-through filter of the
/// WDK's sample. The library stores the value in NDIS memory (tag
/// [`Filter::TAG`]) between attach and detach.
pub trait Filter: Sized + Send + Sync + 'static {
    /// The context area of the filter's own NBLs ([`Filter::own_pool`]).
    type Own: ContextArea;

    /// Whether the filter sends or indicates NBLs of its own
    /// ([`OwnChain`], from [`Filter::own_pool`]). False (the default): the
    /// send-complete and return handlers hand everything back unsplit, one
    /// DDI call each, and making an [`OwnChain`] is a compile-time error.
    const OWN_NBLS: bool = false;

    /// The pool tag of the module's memory.
    const TAG: Tag;

    /// A module attaches: make its state (pools, counters). It starts
    /// paused; `Err` fails the attach.
    fn attach(module: &Module<Self>, params: &AttachParameters<'_>) -> Result<Self, Status>;

    /// The module detaches (paused, nothing in flight): the value is
    /// dropped after this.
    fn detach(self, _module: &Module<Self>) {}

    /// The module restarts (data will flow). `Err` leaves it paused.
    fn restart(&self, _module: &Module<Self>) -> Result<(), Status> {
        Ok(())
    }

    /// The module pauses: stop originating NBLs (an [`OwnChain`] sent from
    /// now on is refused). The library completes the pause when the
    /// module's own NBLs in flight are back.
    fn pause(&self, _module: &Module<Self>) {}

    /// Sends from above: pass them down, complete them, or split and do
    /// both. Called only while running.
    fn send<'c>(&'c self, _module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        chain.send_down();
    }

    /// Receives from below: indicate them up, give them back, or split and
    /// do both. Called only while running.
    fn receive<'c>(&'c self, _module: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        chain.indicate_up();
    }

    /// The pool the filter's own NBLs come from (NDIS-allocated data, so
    /// that no caller memory has to outlive an NBL NDIS holds). An own NBL
    /// is one of this pool with `SourceHandle` the module's handle. Read
    /// only when [`Filter::OWN_NBLS`] is true.
    fn own_pool(&self) -> Option<&NblPool<Self::Own, WithData>> {
        None
    }

    /// An own NBL sent down is back (its `status()` says how it went);
    /// dropping it frees it.
    fn own_completed<'c>(&'c self, _module: &'c Module<Self>, nbl: Nbl<'c, Self::Own>) {
        drop(nbl);
    }

    /// An own NBL indicated up is back; dropping it frees it.
    fn own_returned<'c>(&'c self, _module: &'c Module<Self>, nbl: Nbl<'c, Self::Own>) {
        drop(nbl);
    }

    // OID requests, status indications and PnP events (oid.rs, status.rs).

    /// An OID request from above: pass it down (the default: a clone is
    /// issued and completed back into it) or answer it. It ends in the
    /// call, which returns the proof of its end; while paused too (NDIS
    /// sends OIDs to paused modules).
    fn oid_request<'c>(&'c self, _module: &'c Module<Self>, request: OidRequest<'c, Self>) -> OidHandled<'c> {
        request.pass_down()
    }

    /// A status indication from below: passed up unless this says
    /// [`Forward::Absorb`].
    fn status(&self, _module: &Module<Self>, _indication: &StatusIndication<'_>) -> Forward {
        Forward::Pass
    }

    /// A network PnP or power event: forwarded up (and the answer of the
    /// drivers above returned) on `Ok(Forward::Pass)`; answered
    /// `NDIS_STATUS_SUCCESS` on `Ok(Forward::Absorb)`, or the error on
    /// `Err`, without forwarding.
    fn net_pnp_event(&self, _module: &Module<Self>, _event: &NetPnPEvent<'_>) -> Result<Forward, Status> {
        Ok(Forward::Pass)
    }

    /// A device PnP or power event: forwarded down unless this says
    /// [`Forward::Absorb`].
    fn device_pnp_event(&self, _module: &Module<Self>, _event: &DevicePnPEvent<'_>) -> Forward {
        Forward::Pass
    }
}
