//! The NBL chains a filter is handed and hands on: owned for the handler
//! call, ended exactly once per NBL, split and joined without allocation.
//!
//! A chain handed to a handler is its head (and, on receive, the count
//! NDIS gave): nothing walks it unless the filter splits, joins, counts or
//! completes it with a status. Passed on whole, it costs what the raw
//! handler's DDI call costs.
#![allow(unsafe_code, reason = "chains relink NET_BUFFER_LISTs and hand them to the NdisF* DDIs")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::AtomicUsize;

use ndis_sys::{NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL, NDIS_RECEIVE_FLAGS_RESOURCES, NET_BUFFER_LIST};

use super::{Filter, Module};
use crate::error::Status;
use crate::nbl::Nbl;
use crate::view::NetBufferList;

/// An invariant lifetime: `'c`, the handler call's.
type Call<'c> = PhantomData<fn(&'c ()) -> &'c ()>;

/// A singly linked run of NBLs with its tail and count.
///
/// # Invariants
///
/// `head` to `tail` by `Next` is `count` NBLs whose last `Next` is NULL;
/// `head` is `None` exactly when `count` is 0. [`Links::split`] and
/// [`Links::set_status`] follow `Next` from `head` alone, so a run known
/// only by its head (`tail` `None`, `count` 0) may be split or have its
/// status set.
#[derive(Clone, Copy)]
pub(crate) struct Links {
    pub(crate) head: Option<NonNull<NET_BUFFER_LIST>>,
    tail: Option<NonNull<NET_BUFFER_LIST>>,
    pub(crate) count: u32,
}

impl Links {
    pub(crate) const EMPTY: Links = Links { head: None, tail: None, count: 0 };

    /// A run known by its head alone, to split or set the status of.
    #[inline(always)]
    pub(crate) fn head(head: *mut NET_BUFFER_LIST) -> Links {
        Links { head: NonNull::new(head), tail: None, count: 0 }
    }

    /// The chain NDIS handed over, counted (its last `Next` is NULL).
    ///
    /// # Safety
    ///
    /// `head` is NULL or a chain of live NBLs ending in NULL.
    pub(crate) unsafe fn walk(head: *mut NET_BUFFER_LIST) -> Links {
        let mut links = Links::EMPTY;
        let mut at = NonNull::new(head);
        while let Some(nbl) = at {
            // SAFETY: a live NBL of the chain (the caller's guarantee).
            at = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
            links.tail = Some(nbl);
            links.count += 1;
        }
        links.head = NonNull::new(head);
        links
    }

    /// Appends one NBL (its `Next` is cleared).
    ///
    /// # Safety
    ///
    /// `nbl` is live, owned by the caller, and in no chain.
    pub(crate) unsafe fn push(&mut self, nbl: NonNull<NET_BUFFER_LIST>) {
        // SAFETY: the caller owns `nbl`.
        unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) = core::ptr::null_mut() };
        match self.tail {
            // SAFETY: the tail is an NBL of this chain, owned with it.
            Some(t) => unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(t.as_ptr()) = nbl.as_ptr() },
            None => self.head = Some(nbl),
        }
        self.tail = Some(nbl);
        self.count += 1;
    }

    /// Splits into (those `keep` accepts, the rest), each in order.
    ///
    /// # Safety
    ///
    /// The run is owned by the caller.
    pub(crate) unsafe fn split(self, mut keep: impl FnMut(&NetBufferList) -> bool) -> (Links, Links) {
        let (mut yes, mut no) = (Links::EMPTY, Links::EMPTY);
        let mut at = self.head;
        while let Some(nbl) = at {
            // SAFETY: an NBL of the run, owned; read before relinking.
            at = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
            // SAFETY: live and owned; `keep` sees it only for its call.
            let view = unsafe { NetBufferList::from_raw(nbl) };
            // SAFETY: owned, and now in neither output run.
            unsafe { if keep(view) { yes.push(nbl) } else { no.push(nbl) } }
        }
        (yes, no)
    }

    /// The head as the DDIs take it.
    pub(crate) fn raw(&self) -> *mut NET_BUFFER_LIST {
        self.head.map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    /// Sets every NBL's `Status`.
    ///
    /// # Safety
    ///
    /// The run is owned by the caller.
    pub(crate) unsafe fn set_status(&self, status: i32) {
        let mut at = self.head;
        while let Some(nbl) = at {
            // SAFETY: owned NBLs of the run.
            unsafe {
                *ndis_sys::NET_BUFFER_LIST_STATUS(nbl.as_ptr()) = status;
                at = NonNull::new(*ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()));
            }
        }
    }
}

/// The NBLs of a chain, in order.
pub struct Iter<'s> {
    at: Option<NonNull<NET_BUFFER_LIST>>,
    _s: PhantomData<&'s NetBufferList>,
}

impl<'s> Iterator for Iter<'s> {
    type Item = &'s NetBufferList;

    #[inline]
    fn next(&mut self) -> Option<&'s NetBufferList> {
        let nbl = self.at?;
        // SAFETY: an NBL of a chain borrowed for 's, owned by it; its last
        // `Next` is NULL.
        self.at = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
        // SAFETY: live while the chain is borrowed.
        Some(unsafe { NetBufferList::from_raw(nbl) })
    }
}

/// The number of NBLs from `head` (walked).
///
/// # Safety
///
/// `head` is `None` or a chain of owned, live NBLs ending in NULL.
unsafe fn count(head: Option<NonNull<NET_BUFFER_LIST>>) -> u32 {
    // SAFETY: the caller's guarantee.
    unsafe { Links::walk(head.map_or(core::ptr::null_mut(), NonNull::as_ptr)) }.count
}

/// `a` then `b`, as one run (walks `a` to its tail).
///
/// # Safety
///
/// Both are `None` or disjoint chains of owned, live NBLs ending in NULL.
unsafe fn append(
    a: Option<NonNull<NET_BUFFER_LIST>>,
    b: Option<NonNull<NET_BUFFER_LIST>>,
) -> Option<NonNull<NET_BUFFER_LIST>> {
    // SAFETY: the caller's guarantee.
    let first = unsafe { Links::walk(a.map_or(core::ptr::null_mut(), NonNull::as_ptr)) };
    match (first.tail, b) {
        // SAFETY: the tail of an owned run; `b` is disjoint from it.
        (Some(t), Some(b)) => unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(t.as_ptr()) = b.as_ptr() },
        (None, b) => return b,
        (Some(_), None) => {}
    }
    a
}

/// The dispatch-level bit (bit 0 in every `NDIS_*_FLAGS_*` family) of a
/// handler's flags: what is passed with NBLs that are not the chain the
/// handler was given as it was given (own NBLs joined, a completion of a
/// refused chain).
#[inline(always)]
fn dispatch_only(flags: u32) -> u32 {
    flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL
}

/// Own NBLs the filter made, from its own pool ([`Filter::own_pool`]), on
/// their way down ([`OwnChain::send_down`], [`SendChain::send_down_with`])
/// or up ([`OwnChain::indicate_up`], [`RecvChain::indicate_up_with`]),
/// through the module the chain was made for. They come back to
/// [`Filter::own_completed`] or [`Filter::own_returned`] as the owned
/// [`Nbl`]s they were. Only a filter that declares
/// [`Filter::OWN_NBLS`] can make one (a compile-time error otherwise).
///
/// A chain is tied to the handler call it is made in (`'c`, invariant), so
/// it cannot be kept for another module's call; it goes only through its
/// own module (the `_with` joins of another module's chain refuse it).
/// Own NBLs go only from a running module: a chain refused because the
/// module is pausing or paused comes back as `Err`.
///
/// # Invariants
///
/// `links` are NBLs of the module's own pool, owned by this value, with
/// `SourceHandle` set to the module's handle; `counter` is that pool's
/// outstanding counter (set with the first NBL), which still counts each
/// (they were given up with `into_parts`).
///
/// # Leaks
///
/// An own chain dropped frees its NBLs; one forgotten leaks them (and so
/// their pool, which stays counted).
pub struct OwnChain<'c, F: Filter> {
    links: Links,
    module: &'c Module<F>,
    counter: Option<&'c AtomicUsize>,
    _call: Call<'c>,
}

impl<'c, F: Filter> OwnChain<'c, F> {
    /// An empty chain for `module`.
    #[inline]
    pub fn new(module: &'c Module<F>) -> Self {
        const {
            assert!(F::OWN_NBLS, "a filter that makes own NBL chains declares `const OWN_NBLS: bool = true`");
        }
        OwnChain { links: Links::EMPTY, module, counter: None, _call: PhantomData }
    }

    /// Appends an NBL of the module's own pool; `Err` gives it back when it
    /// is from another pool (the library could not give it back as itself).
    #[inline]
    pub fn push(&mut self, nbl: Nbl<'c, F::Own>) -> Result<(), Nbl<'c, F::Own>> {
        // SAFETY: a live NBL.
        let pool = unsafe { ndis_sys::NdisGetPoolFromNetBufferList(nbl.as_ptr()) };
        if pool.is_null() || pool != self.module.own_pool {
            return Err(nbl);
        }
        let (ptr, counter) = nbl.into_parts();
        self.counter = Some(counter);
        // SAFETY: ours (just given up by its owner), in no chain.
        unsafe {
            (*ptr.as_ptr()).SourceHandle = self.module.as_raw();
            self.links.push(ptr);
        }
        Ok(())
    }

    /// How many NBLs.
    #[inline]
    pub fn len(&self) -> u32 {
        self.links.count
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.links.count == 0
    }

    /// Sends the NBLs down through their module (`NdisFSendNetBufferLists`,
    /// dispatch-level flag clear: the caller's IRQL is not known here, which
    /// the DDI allows). `Err` gives the chain back when the module is not
    /// running.
    #[inline]
    pub fn send_down(self, port: u32) -> Result<(), Self> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.module.hold(self.links.count) {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: own NBLs, SourceHandle set, counted; handed over once.
        unsafe { ndis_sys::NdisFSendNetBufferLists(this.module.as_raw(), this.links.raw(), port, 0) };
        Ok(())
    }

    /// Indicates the NBLs up through their module
    /// (`NdisFIndicateReceiveNetBufferLists`, without
    /// `NDIS_RECEIVE_FLAGS_RESOURCES`: they come back to
    /// [`Filter::own_returned`]). `Err` gives the chain back when the module
    /// is not running.
    #[inline]
    pub fn indicate_up(self, port: u32) -> Result<(), Self> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.module.hold(self.links.count) {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: own NBLs, SourceHandle set, counted; the chain and its
        // true count, handed over once.
        unsafe {
            ndis_sys::NdisFIndicateReceiveNetBufferLists(
                this.module.as_raw(),
                this.links.raw(),
                port,
                this.links.count,
                0,
            )
        };
        Ok(())
    }

    /// Takes the run out for a join with a handler's chain of the same
    /// module, counted as in flight: `Err` gives the chain back when it is
    /// another module's or the module is not running.
    #[inline]
    fn take_for(self, module: &Module<F>) -> Result<Links, Self> {
        if !core::ptr::eq(self.module, module) || !self.module.hold(self.links.count) {
            return Err(self);
        }
        Ok(ManuallyDrop::new(self).links)
    }
}

/// Frees the NBLs of a chain that was not sent.
impl<F: Filter> Drop for OwnChain<'_, F> {
    fn drop(&mut self) {
        let Some(counter) = self.counter else { return };
        let mut at = self.links.head;
        while let Some(nbl) = at {
            // SAFETY: an NBL of the run, owned; read before it is freed.
            at = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
            // SAFETY: given up by an `Nbl<F::Own>` of the pool `counter`
            // counts (the invariant), never handed to NDIS; rebuilt once.
            drop(unsafe { Nbl::<'_, F::Own>::from_parts(nbl, counter) });
        }
    }
}

/// The NBLs handed to [`Filter::send`]: owned for the handler call, and
/// ended exactly once each — passed down ([`SendChain::send_down`]) or
/// completed up ([`SendChain::complete`]) — both consuming the chain.
///
/// The chain is its head: passed down whole it is handed on as it came,
/// with the handler's `SendFlags`, without a walk. [`SendChain::len`],
/// [`SendChain::split`], [`SendChain::join`] and [`SendChain::complete`]
/// walk it.
///
/// # Invariants
///
/// `head` is `None` or NBLs NDIS handed this module's send handler, which
/// runs for `'c`, linked and ending in NULL; no other value holds them.
/// `flags` are the handler's `SendFlags` (for a chain with own NBLs
/// joined, only their dispatch-level bit).
///
/// # Leaks
///
/// A forgotten chain's NBLs are never completed: the sending protocol
/// never gets them back (the simulator lists them as never returned). They
/// are never completed twice.
#[must_use = "every NBL goes down or is completed, once"]
pub struct SendChain<'c, F: Filter> {
    head: Option<NonNull<NET_BUFFER_LIST>>,
    module: &'c Module<F>,
    port: u32,
    flags: u32,
    _call: Call<'c>,
}

impl<'c, F: Filter> SendChain<'c, F> {
    /// The chain NDIS handed to the send handler.
    ///
    /// # Safety
    ///
    /// `head` is the handler's `NetBufferList` (live, ending in NULL),
    /// handed to this module for the call; `flags` its `SendFlags`.
    #[inline(always)]
    pub(crate) unsafe fn new(module: &'c Module<F>, head: NonNull<NET_BUFFER_LIST>, port: u32, flags: u32) -> Self {
        SendChain { head: Some(head), module, port, flags, _call: PhantomData }
    }

    /// How many NBLs (walks the chain).
    #[inline]
    pub fn len(&self) -> u32 {
        // SAFETY: the chain's own NBLs.
        unsafe { count(self.head) }
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The NBLs, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter { at: self.head, _s: PhantomData }
    }

    /// The NDIS port the sends are for.
    #[inline]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Takes the NBLs out (no drop runs).
    #[inline(always)]
    fn take(self) -> (Option<NonNull<NET_BUFFER_LIST>>, &'c Module<F>, u32, u32) {
        let this = ManuallyDrop::new(self);
        (this.head, this.module, this.port, this.flags)
    }

    /// Splits the chain in two without allocating: (the NBLs `keep`
    /// accepts, the rest), each in the order they came.
    #[inline]
    pub fn split(self, keep: impl FnMut(&NetBufferList) -> bool) -> (Self, Self) {
        let (head, module, port, flags) = self.take();
        let links = Links { head, ..Links::EMPTY };
        // SAFETY: the chain owned its NBLs.
        let (yes, no) = unsafe { links.split(keep) };
        let make = |links: Links| SendChain { head: links.head, module, port, flags, _call: PhantomData };
        (make(yes), make(no))
    }

    /// Joins another chain of the same call onto this one.
    #[inline]
    pub fn join(&mut self, other: Self) {
        let (head, ..) = other.take();
        // SAFETY: both own their (disjoint) NBLs.
        self.head = unsafe { append(self.head, head) };
    }

    /// Passes the chain down (`NdisFSendNetBufferLists`, with the
    /// `SendFlags` the handler was given).
    #[inline(always)]
    pub fn send_down(self) {
        let (head, module, port, flags) = self.take();
        if let Some(head) = head {
            // SAFETY: an attached module's handle; NBLs from above,
            // SourceHandle untouched; handed over once.
            unsafe { ndis_sys::NdisFSendNetBufferLists(module.as_raw(), head.as_ptr(), port, flags) };
        }
    }

    /// Passes the chain down with the filter's own NBLs after it, in one
    /// `NdisFSendNetBufferLists` call (with only the dispatch-level flag:
    /// the handler's other flags described its chain, not own NBLs). `Err`
    /// gives the own chain back — the rest is sent down all the same — when
    /// the module is not running or the own chain is another module's.
    #[inline]
    pub fn send_down_with(mut self, own: OwnChain<'c, F>) -> Result<(), OwnChain<'c, F>> {
        if own.is_empty() {
            self.send_down();
            return Ok(());
        }
        match own.take_for(self.module) {
            Ok(links) => {
                // SAFETY: disjoint owned runs.
                self.head = unsafe { append(self.head, links.head) };
                self.flags = dispatch_only(self.flags);
                self.send_down();
                Ok(())
            }
            Err(own) => {
                self.send_down();
                Err(own)
            }
        }
    }

    /// Completes the chain up with `status` in every NBL
    /// (`NdisFSendNetBufferListsComplete`): dropped sends
    /// (`Status::FAILURE`, or what the filter decides).
    #[inline]
    pub fn complete(self, status: Status) {
        let (head, module, _, flags) = self.take();
        // SAFETY: owned NBLs, handed back once.
        unsafe { complete_with(module, head, status.raw(), flags) };
    }
}

/// A chain dropped without an explicit end is completed up with
/// `NDIS_STATUS_REQUEST_ABORTED` (dropped sends). Nothing rests on this:
/// a chain forgotten instead leaks its NBLs.
impl<F: Filter> Drop for SendChain<'_, F> {
    fn drop(&mut self) {
        // SAFETY: owned NBLs (the chain is being dropped), handed back once.
        unsafe { complete_with(self.module, self.head, ndis_sys::NDIS_STATUS_REQUEST_ABORTED, self.flags) };
    }
}

/// Sets `status` in every NBL from `head` and completes them up
/// (`NdisFSendNetBufferListsComplete`, the dispatch-level bit of `flags`).
///
/// # Safety
///
/// `head` is `None` or a run of NBLs the module holds from above (or got
/// back from below), owned by the caller and handed back here once.
pub(crate) unsafe fn complete_with<F: Filter>(
    module: &Module<F>,
    head: Option<NonNull<NET_BUFFER_LIST>>,
    status: i32,
    flags: u32,
) {
    let Some(h) = head else { return };
    let links = Links { head, ..Links::EMPTY };
    // SAFETY: owned NBLs (the caller's guarantee).
    unsafe { links.set_status(status) };
    // SAFETY: an attached module's handle; NBLs it holds, handed back once.
    unsafe { ndis_sys::NdisFSendNetBufferListsComplete(module.as_raw(), h.as_ptr(), dispatch_only(flags)) };
}

/// `NdisFReturnNetBufferLists` of an owned run (the dispatch-level bit of
/// `flags`).
///
/// # Safety
///
/// `head` is `None` or a run of NBLs indicated to the module (and not lent
/// for the call only), owned by the caller and handed back here once.
pub(crate) unsafe fn return_down<F: Filter>(module: &Module<F>, head: Option<NonNull<NET_BUFFER_LIST>>, flags: u32) {
    let Some(h) = head else { return };
    // SAFETY: an attached module's handle; the caller's NBLs, handed back once.
    unsafe { ndis_sys::NdisFReturnNetBufferLists(module.as_raw(), h.as_ptr(), dispatch_only(flags)) };
}

/// The NBLs handed to [`Filter::receive`]: owned (or, with
/// `NDIS_RECEIVE_FLAGS_RESOURCES`, lent) for the handler call, and ended
/// exactly once each — indicated up ([`RecvChain::indicate_up`]) or given
/// back down ([`RecvChain::give_back`]) — both consuming the chain.
///
/// With `NDIS_RECEIVE_FLAGS_RESOURCES` the miniport regains the NBLs when
/// the handler returns: `indicate_up` passes the flag on (the layers above
/// copy what they keep) and `give_back` calls nothing (the DDI must not be
/// called for them). Either way the chain cannot outlive the call: its
/// lifetime is the call's (see the module docs).
///
/// The chain is its head and the count NDIS gave
/// (`NumberOfNetBufferLists`): indicated up whole it is handed on as it
/// came, with the handler's `ReceiveFlags`, without a walk.
///
/// # Invariants
///
/// `head` is `None` or NBLs NDIS indicated to this module's receive
/// handler, which runs for `'c`, linked and ending in NULL, `count` of
/// them; no other value holds them. `flags` are the handler's
/// `ReceiveFlags` (for a chain with own NBLs joined, only their
/// dispatch-level bit).
///
/// # Leaks
///
/// A forgotten chain's NBLs are never returned: the miniport never gets
/// them back (the simulator lists them as never returned). A forgotten
/// lent chain leaks nothing: the miniport regains its NBLs when the handler
/// returns.
#[must_use = "every NBL goes up or is given back, once"]
pub struct RecvChain<'c, F: Filter> {
    head: Option<NonNull<NET_BUFFER_LIST>>,
    count: u32,
    module: &'c Module<F>,
    port: u32,
    flags: u32,
    _call: Call<'c>,
}

impl<'c, F: Filter> RecvChain<'c, F> {
    /// The chain NDIS indicated.
    ///
    /// # Safety
    ///
    /// `head` is the handler's `NetBufferLists` (live, ending in NULL),
    /// `count` of them, indicated to this module for the call; `flags` its
    /// `ReceiveFlags`.
    #[inline(always)]
    pub(crate) unsafe fn new(
        module: &'c Module<F>,
        head: NonNull<NET_BUFFER_LIST>,
        port: u32,
        count: u32,
        flags: u32,
    ) -> Self {
        RecvChain { head: Some(head), count, module, port, flags, _call: PhantomData }
    }

    /// How many NBLs (the count the DDIs take).
    #[inline]
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The NBLs, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter { at: self.head, _s: PhantomData }
    }

    /// The NDIS port the frames came in on.
    #[inline]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Whether the miniport lent the NBLs for the call only
    /// (`NDIS_RECEIVE_FLAGS_RESOURCES`: it is low on receive buffers).
    #[inline]
    pub fn low_resources(&self) -> bool {
        self.flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0
    }

    /// Takes the NBLs out (no drop runs).
    #[inline(always)]
    fn take(self) -> (Option<NonNull<NET_BUFFER_LIST>>, u32, &'c Module<F>, u32, u32) {
        let this = ManuallyDrop::new(self);
        (this.head, this.count, this.module, this.port, this.flags)
    }

    /// Splits the chain in two without allocating: (the NBLs `keep`
    /// accepts, the rest), each in the order they came.
    #[inline]
    pub fn split(self, keep: impl FnMut(&NetBufferList) -> bool) -> (Self, Self) {
        let (head, _, module, port, flags) = self.take();
        let links = Links { head, ..Links::EMPTY };
        // SAFETY: the chain owned its NBLs.
        let (yes, no) = unsafe { links.split(keep) };
        let make = |l: Links| RecvChain { head: l.head, count: l.count, module, port, flags, _call: PhantomData };
        (make(yes), make(no))
    }

    /// Joins another chain of the same call onto this one.
    #[inline]
    pub fn join(&mut self, other: Self) {
        let (head, count, ..) = other.take();
        // SAFETY: both own their (disjoint) NBLs.
        self.head = unsafe { append(self.head, head) };
        self.count += count;
    }

    /// Indicates the chain up (`NdisFIndicateReceiveNetBufferLists` with
    /// its count and the `ReceiveFlags` the handler was given).
    #[inline(always)]
    pub fn indicate_up(self) {
        let (head, count, module, port, flags) = self.take();
        if let Some(head) = head {
            // SAFETY: an attached module's handle; NBLs indicated to us,
            // handed on once, with their count and the flags we got.
            unsafe { ndis_sys::NdisFIndicateReceiveNetBufferLists(module.as_raw(), head.as_ptr(), port, count, flags) };
        }
    }

    /// Indicates the chain up, then the filter's own NBLs (in a second call
    /// when the chain is lent for the call only: own NBLs are never lent;
    /// joined, with only the dispatch-level flag, otherwise). `Err` gives
    /// the own chain back — the rest is indicated all the same — when the
    /// module is not running or the own chain is another module's.
    #[inline]
    pub fn indicate_up_with(mut self, own: OwnChain<'c, F>) -> Result<(), OwnChain<'c, F>> {
        if own.is_empty() {
            self.indicate_up();
            return Ok(());
        }
        let links = match own.take_for(self.module) {
            Ok(links) => links,
            Err(own) => {
                self.indicate_up();
                return Err(own);
            }
        };
        if self.low_resources() {
            let (module, port, flags) = (self.module, self.port, dispatch_only(self.flags));
            self.indicate_up();
            // SAFETY: own NBLs (SourceHandle set, counted), handed on once.
            unsafe {
                ndis_sys::NdisFIndicateReceiveNetBufferLists(module.as_raw(), links.raw(), port, links.count, flags)
            };
        } else {
            // SAFETY: disjoint owned runs.
            self.head = unsafe { append(self.head, links.head) };
            self.count += links.count;
            self.flags = dispatch_only(self.flags);
            self.indicate_up();
        }
        Ok(())
    }

    /// Gives the NBLs back down without indicating them (dropped frames):
    /// `NdisFReturnNetBufferLists`, or nothing for a lent chain, which the
    /// miniport regains when the handler returns.
    #[inline]
    pub fn give_back(self) {
        drop(self);
    }
}

/// A chain dropped without an explicit end is given back
/// ([`RecvChain::give_back`]: dropped frames). Nothing rests on this: a
/// chain forgotten instead leaks its NBLs.
impl<F: Filter> Drop for RecvChain<'_, F> {
    fn drop(&mut self) {
        if self.flags & NDIS_RECEIVE_FLAGS_RESOURCES == 0 {
            // SAFETY: owned NBLs indicated to us (not lent), handed back once.
            unsafe { return_down(self.module, self.head, self.flags) };
        }
    }
}
