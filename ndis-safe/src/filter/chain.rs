//! The NBL chains a filter is handed and hands on: owned for the handler
//! call, ended exactly once per NBL, split and joined without allocation.
#![allow(unsafe_code, reason = "chains relink NET_BUFFER_LISTs and hand them to the NdisF* DDIs")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::{NDIS_RECEIVE_FLAGS_RESOURCES, NET_BUFFER_LIST};

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
/// `head` is `None` exactly when `count` is 0.
#[derive(Clone, Copy)]
pub(crate) struct Links {
    pub(crate) head: Option<NonNull<NET_BUFFER_LIST>>,
    tail: Option<NonNull<NET_BUFFER_LIST>>,
    pub(crate) count: u32,
}

impl Links {
    pub(crate) const EMPTY: Links = Links { head: None, tail: None, count: 0 };

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

    /// Appends another run.
    ///
    /// # Safety
    ///
    /// Both runs are owned by the caller and disjoint.
    pub(crate) unsafe fn join(&mut self, other: Links) {
        let Some(h) = other.head else { return };
        match self.tail {
            // SAFETY: the tail is an NBL of this chain, owned with it.
            Some(t) => unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(t.as_ptr()) = h.as_ptr() },
            None => self.head = Some(h),
        }
        self.tail = other.tail;
        self.count += other.count;
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
    left: u32,
    _s: PhantomData<&'s NetBufferList>,
}

impl<'s> Iterator for Iter<'s> {
    type Item = &'s NetBufferList;

    #[inline]
    fn next(&mut self) -> Option<&'s NetBufferList> {
        let nbl = self.at.filter(|_| self.left > 0)?;
        self.left -= 1;
        // SAFETY: an NBL of a chain borrowed for 's, owned by it.
        self.at = NonNull::new(unsafe { *ndis_sys::NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
        // SAFETY: live while the chain is borrowed.
        Some(unsafe { NetBufferList::from_raw(nbl) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

fn iter(links: &Links) -> Iter<'_> {
    Iter { at: links.head, left: links.count, _s: PhantomData }
}

/// The NDIS flags word with `DISPATCH_LEVEL` (bit 0 in every `NDIS_*_FLAGS_*`
/// family) as the handler call was told.
#[inline(always)]
fn dispatch(at_dispatch: bool) -> u32 {
    u32::from(at_dispatch)
}

/// Sends sent down by `module` (counted first).
///
/// # Safety
///
/// The run is owned and ready for NDIS (SourceHandle as NDIS needs).
unsafe fn send_down<F: Filter>(module: &Module<F>, links: Links, port: u32, at_dispatch: bool) {
    if links.count == 0 {
        return;
    }
    module.hold(links.count as usize);
    // SAFETY: an attached module's handle; a chain it owns, handed over once.
    unsafe { ndis_sys::NdisFSendNetBufferLists(module.as_raw(), links.raw(), port, dispatch(at_dispatch)) };
}

/// Own NBLs the filter made, from its own pool ([`Filter::own_pool`]), on
/// their way down (in a [`SendChain::send_down_with`] or
/// [`Module::send_own`]) or up ([`RecvChain::indicate_up_with`],
/// [`Module::indicate_own`]). They come back to
/// [`Filter::own_completed`] or [`Filter::own_returned`] as the owned
/// [`Nbl`]s they were.
///
/// # Invariants
///
/// `links` are NBLs of the module's own pool, owned by this value, with
/// `SourceHandle` set to the module's handle; the pool's counter still
/// counts each (they were given up with `into_raw`).
///
/// # Leaks
///
/// An own chain dropped or forgotten before it is sent leaks its NBLs (and
/// so their pool, which stays counted): push NBLs only when sending them.
pub struct OwnChain<'c, F: Filter> {
    links: Links,
    module: &'c Module<F>,
    _call: Call<'c>,
}

impl<'c, F: Filter> OwnChain<'c, F> {
    /// An empty chain for `module`.
    #[inline]
    pub fn new(module: &'c Module<F>) -> Self {
        OwnChain { links: Links::EMPTY, module, _call: PhantomData }
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
        let ptr = nbl.into_raw();
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
}

impl<F: Filter> Module<F> {
    /// Sends own NBLs down (`NdisFSendNetBufferLists`, dispatch-level flag
    /// clear: the caller's IRQL is not known here, which the DDI allows).
    #[inline]
    pub fn send_own(&self, own: OwnChain<'_, F>, port: u32) {
        // SAFETY: own NBLs, SourceHandle set; handed over once.
        unsafe { send_down(self, own.links, port, false) };
    }

    /// Indicates own NBLs up (`NdisFIndicateReceiveNetBufferLists`,
    /// without `NDIS_RECEIVE_FLAGS_RESOURCES`: they come back to
    /// [`Filter::own_returned`]).
    #[inline]
    pub fn indicate_own(&self, own: OwnChain<'_, F>, port: u32) {
        // SAFETY: own NBLs, SourceHandle set; handed over once.
        unsafe { indicate_up(self, own.links, port, 0) };
    }
}

/// Indicates NBLs up; counted first unless NDIS gives them back when the
/// call returns (`NDIS_RECEIVE_FLAGS_RESOURCES`).
///
/// # Safety
///
/// The run is owned by the caller (or lent to it for the call, with
/// `RESOURCES` in `flags`).
unsafe fn indicate_up<F: Filter>(module: &Module<F>, links: Links, port: u32, flags: u32) {
    if links.count == 0 {
        return;
    }
    let lent = flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0;
    if !lent {
        module.hold(links.count as usize);
    }
    // SAFETY: an attached module's handle; the chain and its true count.
    unsafe { ndis_sys::NdisFIndicateReceiveNetBufferLists(module.as_raw(), links.raw(), port, links.count, flags) };
}

/// The NBLs handed to [`Filter::send`]: owned for the handler call, and
/// ended exactly once each — passed down ([`SendChain::send_down`]) or
/// completed up ([`SendChain::complete`]) — both consuming the chain.
///
/// # Invariants
///
/// `links` are NBLs NDIS handed this module's send handler, which runs for
/// `'c`; no other value holds them. `at_dispatch` is what the handler's
/// `SendFlags` said.
///
/// # Leaks
///
/// A forgotten chain's NBLs are never completed: the sending protocol
/// never gets them back (the simulator lists them as never returned). They
/// are never completed twice.
#[must_use = "every NBL goes down or is completed, once"]
pub struct SendChain<'c, F: Filter> {
    links: Links,
    module: &'c Module<F>,
    port: u32,
    at_dispatch: bool,
    _call: Call<'c>,
}

impl<'c, F: Filter> SendChain<'c, F> {
    /// The chain NDIS handed to the send handler.
    ///
    /// # Safety
    ///
    /// `head` is the handler's `NetBufferList` (live, ending in NULL),
    /// handed to this module for the call.
    pub(crate) unsafe fn new(module: &'c Module<F>, head: *mut NET_BUFFER_LIST, port: u32, at_dispatch: bool) -> Self {
        // SAFETY: the caller's guarantee.
        SendChain { links: unsafe { Links::walk(head) }, module, port, at_dispatch, _call: PhantomData }
    }

    /// How many NBLs (the count the DDIs take).
    #[inline]
    pub fn len(&self) -> u32 {
        self.links.count
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.links.count == 0
    }

    /// The NBLs, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        iter(&self.links)
    }

    /// The NDIS port the sends are for.
    #[inline]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Takes the NBLs out (the chain's drop then does nothing).
    #[inline(always)]
    fn take(mut self) -> (Links, &'c Module<F>, u32, bool) {
        let links = core::mem::replace(&mut self.links, Links::EMPTY);
        (links, self.module, self.port, self.at_dispatch)
    }

    /// Splits the chain in two without allocating: (the NBLs `keep`
    /// accepts, the rest), each in the order they came.
    #[inline]
    pub fn split(self, keep: impl FnMut(&NetBufferList) -> bool) -> (Self, Self) {
        let (links, module, port, at_dispatch) = self.take();
        // SAFETY: the chain owned its NBLs.
        let (yes, no) = unsafe { links.split(keep) };
        let make = |links| SendChain { links, module, port, at_dispatch, _call: PhantomData };
        (make(yes), make(no))
    }

    /// Joins another chain of the same call onto this one.
    #[inline]
    pub fn join(&mut self, other: Self) {
        let (links, ..) = other.take();
        // SAFETY: both own their (disjoint) NBLs.
        unsafe { self.links.join(links) };
    }

    /// Passes the chain down (`NdisFSendNetBufferLists`, with the
    /// dispatch-level flag the handler was given).
    #[inline]
    pub fn send_down(self) {
        let (links, module, port, at_dispatch) = self.take();
        // SAFETY: NBLs from above, SourceHandle untouched; handed over once.
        unsafe { send_down(module, links, port, at_dispatch) };
    }

    /// Passes the chain down with the filter's own NBLs after it, in one
    /// `NdisFSendNetBufferLists` call.
    #[inline]
    pub fn send_down_with(mut self, own: OwnChain<'c, F>) {
        // SAFETY: disjoint owned runs; `own` is consumed.
        unsafe { self.links.join(own.links) };
        self.send_down();
    }

    /// Completes the chain up with `status` in every NBL
    /// (`NdisFSendNetBufferListsComplete`): dropped sends
    /// (`Status::FAILURE`, or what the filter decides).
    #[inline]
    pub fn complete(self, status: Status) {
        let (links, module, _, at_dispatch) = self.take();
        // SAFETY: owned NBLs.
        unsafe { links.set_status(status.raw()) };
        complete_up(module, links, at_dispatch);
    }
}

/// A chain dropped without an explicit end is completed up with
/// `NDIS_STATUS_REQUEST_ABORTED` (dropped sends). Nothing rests on this:
/// a chain forgotten instead leaks its NBLs.
impl<F: Filter> Drop for SendChain<'_, F> {
    fn drop(&mut self) {
        let links = core::mem::replace(&mut self.links, Links::EMPTY);
        // SAFETY: owned NBLs.
        unsafe { links.set_status(ndis_sys::NDIS_STATUS_REQUEST_ABORTED) };
        complete_up(self.module, links, self.at_dispatch);
    }
}

/// `NdisFSendNetBufferListsComplete` of an owned run.
pub(crate) fn complete_up<F: Filter>(module: &Module<F>, links: Links, at_dispatch: bool) {
    if links.count == 0 {
        return;
    }
    // SAFETY: an attached module's handle; NBLs it holds from above (or
    // got back from below), handed back once.
    unsafe { ndis_sys::NdisFSendNetBufferListsComplete(module.as_raw(), links.raw(), dispatch(at_dispatch)) };
}

/// `NdisFReturnNetBufferLists` of an owned run.
pub(crate) fn return_down<F: Filter>(module: &Module<F>, links: Links, at_dispatch: bool) {
    if links.count == 0 {
        return;
    }
    // SAFETY: an attached module's handle; NBLs indicated to it (and not
    // lent for the call only), handed back once.
    unsafe { ndis_sys::NdisFReturnNetBufferLists(module.as_raw(), links.raw(), dispatch(at_dispatch)) };
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
/// # Invariants
///
/// `links` are NBLs NDIS indicated to this module's receive handler, which
/// runs for `'c`; no other value holds them. `flags` are the handler's
/// `ReceiveFlags` (only `DISPATCH_LEVEL` and `RESOURCES` are passed on).
///
/// # Leaks
///
/// A forgotten chain's NBLs are never returned: the miniport never gets
/// them back (the simulator lists them as never returned). A forgotten
/// lent chain leaks nothing: the miniport regains its NBLs when the handler
/// returns.
#[must_use = "every NBL goes up or is given back, once"]
pub struct RecvChain<'c, F: Filter> {
    links: Links,
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
    /// indicated to this module for the call.
    pub(crate) unsafe fn new(module: &'c Module<F>, head: *mut NET_BUFFER_LIST, port: u32, flags: u32) -> Self {
        let flags = flags & (ndis_sys::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL | NDIS_RECEIVE_FLAGS_RESOURCES);
        // SAFETY: the caller's guarantee.
        RecvChain { links: unsafe { Links::walk(head) }, module, port, flags, _call: PhantomData }
    }

    /// How many NBLs (the count the DDIs take).
    #[inline]
    pub fn len(&self) -> u32 {
        self.links.count
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.links.count == 0
    }

    /// The NBLs, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        iter(&self.links)
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

    /// Takes the NBLs out (the chain's drop then does nothing).
    #[inline(always)]
    fn take(mut self) -> (Links, &'c Module<F>, u32, u32) {
        let links = core::mem::replace(&mut self.links, Links::EMPTY);
        (links, self.module, self.port, self.flags)
    }

    /// Splits the chain in two without allocating: (the NBLs `keep`
    /// accepts, the rest), each in the order they came.
    #[inline]
    pub fn split(self, keep: impl FnMut(&NetBufferList) -> bool) -> (Self, Self) {
        let (links, module, port, flags) = self.take();
        // SAFETY: the chain owned its NBLs.
        let (yes, no) = unsafe { links.split(keep) };
        let make = |links| RecvChain { links, module, port, flags, _call: PhantomData };
        (make(yes), make(no))
    }

    /// Joins another chain of the same call onto this one.
    #[inline]
    pub fn join(&mut self, other: Self) {
        let (links, ..) = other.take();
        // SAFETY: both own their (disjoint) NBLs.
        unsafe { self.links.join(links) };
    }

    /// Indicates the chain up (`NdisFIndicateReceiveNetBufferLists` with
    /// its true count and the handler's dispatch-level and resources flags).
    #[inline]
    pub fn indicate_up(self) {
        let (links, module, port, flags) = self.take();
        // SAFETY: indicated to us; handed on once, with the flags we got.
        unsafe { indicate_up(module, links, port, flags) };
    }

    /// Indicates the chain up, then the filter's own NBLs (in a second call
    /// when the chain is lent for the call only: own NBLs are never lent).
    #[inline]
    pub fn indicate_up_with(mut self, own: OwnChain<'c, F>) {
        if self.low_resources() {
            let (links, module, port, flags) = self.take();
            // SAFETY: indicated to us, then own NBLs (SourceHandle set); each handed on once.
            unsafe {
                indicate_up(module, links, port, flags);
                indicate_up(module, own.links, port, flags & !NDIS_RECEIVE_FLAGS_RESOURCES);
            }
        } else {
            // SAFETY: disjoint owned runs; `own` is consumed.
            unsafe { self.links.join(own.links) };
            self.indicate_up();
        }
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
        let links = core::mem::replace(&mut self.links, Links::EMPTY);
        if self.flags & NDIS_RECEIVE_FLAGS_RESOURCES == 0 {
            return_down(self.module, links, self.flags & ndis_sys::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL != 0);
        }
    }
}
