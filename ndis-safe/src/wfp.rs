//! The WFP packet path: reference a packet classify was given, clone it,
//! change the clone, inject it, and get it back — as an owned value, with
//! its status — in a completion routine that restores and frees it.
//!
//! ```
//! use ndis_safe::clone::Fwps;
//! use ndis_safe::wfp::{Completed, InjectionHandle, InjectionTypes, Transport};
//! use ndis_safe::{BorrowedNbl, NoContext};
//!
//! fn done(completed: Completed<ndis_safe::wfp::ClonedPacket<Fwps>>) {
//!     assert!(completed.status().is_ok());
//!     // dropped here: the clone's changes undone, the clone freed, then
//!     // the reference on the original released
//! }
//!
//! # let _sim = ndis_sim::Session::new();
//! let handle = InjectionHandle::new(ndis_safe::wfp::AF_INET, InjectionTypes::TRANSPORT)?;
//! let indicated = ndis_sim::StackNbl::indicate(&[0x45; 40], 20); // what classify is given
//! // SAFETY: the stack lends the NBL for this classify call.
//! let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
//! if handle.state(&lent).is_self_injected() {
//!     return Ok(()); // our own packet, back again: let it pass
//! }
//! let mut packet = lent.reference_and_clone::<Fwps, NoContext>(20, None, NoContext)?;
//! packet.modify(|mut c| c.advance(4).map(drop))?; // the change travels with it
//! handle.inject(packet, Transport::receive(ndis_safe::wfp::AF_INET), done).map_err(|r| r.error)?;
//! indicated.complete(); // classify returns; the reference keeps the original
//! ndis_sim::complete_all(0); // the stack completes the injection: `done` runs
//! # Ok::<(), ndis_safe::Error>(())
//! ```
//!
//! # Callouts: one layer, or one classify for several
//!
//! A [`callout::Callout`] has one layer and the engine calls a classify
//! function made for it: use it when the work differs from layer to layer.
//! A [`callout::MultiLayerCallout`] does the same work at several layers
//! (a [`layer::Layers`] set such as [`layer::TransportLayers`]) with *one*
//! classify function, registered at each layer as a
//! [`callout::At`]`<M, L>` — what a C driver does when it registers one
//! `classifyFn` for several callouts and switches on the layer id: its
//! classify knows the layer at run time, reads the fields every layer of
//! the set has through the set's index table, and a single layer's fields
//! as `None` at the others. The driver then carries one classify, not one
//! per layer. The [`callout`] module says more.
//!
//! # A refused injection
//!
//! An injection the DDI refuses synchronously gives the packet back
//! ([`Rejected`]; its completion never runs). A caller that would drop it
//! at once — an inspection callout lets the original pass instead — calls
//! the `_or_free` variant
//! ([`InjectionHandle::inject_transport_receive_or_free`],
//! [`InjectionHandle::inject_transport_send1_or_free`]): the packet is
//! freed there, with the DDI calls inline as a C driver's failure path
//! makes them (for a clone: its changes undone, the clone freed, the
//! reference on its parent released), and only the error comes back.
#![allow(unsafe_code, reason = "references, injection and completions are raw-pointer work")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

pub mod callout;
pub mod classify;
pub mod decision;
pub mod fields;
pub mod flow;
pub mod header;
pub mod layer;
pub mod mgmt;
pub mod pend;
pub mod redirect;
pub mod send;
pub mod value;

use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::AtomicUsize;

use fwps_sys::{FWPS_TRANSPORT_SEND_PARAMS0, HANDLE};
use ndis_sys::{BOOLEAN, NET_BUFFER_LIST};

use crate::clone::{Flavor, Log, NblClone, Record, Unmodifiable};
use crate::context::{ContextArea, NoContext};
use crate::error::{Error, Result, Status};
use crate::nbl::{Allocator, BorrowedNbl, NetBufferListOwned};
use crate::pool::NblPool;
use crate::view::NetBufferList;

/// `AF_INET`.
pub const AF_INET: u16 = fwps_sys::AF_INET;
/// `AF_INET6`.
pub const AF_INET6: u16 = fwps_sys::AF_INET6;

// ---- references ----

/// A reference on an NBL the stack lent (`FwpsReferenceNetBufferList0`,
/// with intent to modify), released by `FwpsDereferenceNetBufferList0` on
/// drop: the stack does not complete the NBL before that.
///
/// # Invariants
///
/// `ptr` is a live NBL on which this value holds one reference.
pub struct NblReference {
    ptr: NonNull<NET_BUFFER_LIST>,
    dispatch: bool,
}

// SAFETY: a reference may be released from any thread.
unsafe impl Send for NblReference {}
// SAFETY: it gives no access to the NBL through &self.
unsafe impl Sync for NblReference {}

impl Drop for NblReference {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we hold one reference; released once.
        unsafe { fwps_sys::FwpsDereferenceNetBufferList0(self.ptr.as_ptr(), u8::from(self.dispatch)) }
    }
}

impl BorrowedNbl<'_> {
    /// `FwpsReferenceNetBufferList0` (intent to modify): keeps the NBL from
    /// being completed until the reference is dropped, past this call.
    #[inline]
    pub fn reference(&self) -> NblReference {
        // SAFETY: the NBL is lent to us and live.
        unsafe { fwps_sys::FwpsReferenceNetBufferList0(self.as_ptr(), 1) };
        // FALSE: classify runs at IRQL <= DISPATCH_LEVEL and the reference
        // may be released on any thread, so DISPATCH_LEVEL is not known.
        // SAFETY: the view's pointer is never NULL.
        NblReference { ptr: unsafe { NonNull::new_unchecked(self.as_ptr()) }, dispatch: false }
    }

    /// The inspect pattern, for a packet that outlives the classify call:
    /// reference the lent NBL, retreat it by `delta` bytes (over the headers
    /// the stack advanced past), clone it with `K`'s DDI (from `pool`, with
    /// its context area set to `init`), and advance it back. The clone and
    /// the reference travel together and are released in that order.
    #[inline]
    pub fn reference_and_clone<K: Flavor, C: ContextArea>(
        &mut self,
        delta: u32,
        pool: Option<&'static NblPool<C>>,
        init: C,
    ) -> Result<ClonedPacket<K, C>> {
        self.reference_and_clone_as::<K, C, Log>(delta, pool, init)
    }

    /// [`BorrowedNbl::reference_and_clone`] for a clone that is never
    /// changed: it carries no change log and no undo code (a driver that
    /// only reinjects what it inspects needs no more).
    #[inline]
    pub fn reference_and_clone_unmodifiable<K: Flavor, C: ContextArea>(
        &mut self,
        delta: u32,
        pool: Option<&'static NblPool<C>>,
        init: C,
    ) -> Result<ClonedPacket<K, C, Unmodifiable>> {
        self.reference_and_clone_as::<K, C, Unmodifiable>(delta, pool, init)
    }

    #[inline(always)]
    fn reference_and_clone_as<K: Flavor, C: ContextArea, L: Record>(
        &mut self,
        delta: u32,
        pool: Option<&'static NblPool<C>>,
        init: C,
    ) -> Result<ClonedPacket<K, C, L>> {
        let reference = self.reference();
        // `retreat_and_clone_as` ties the clone to the loan; the reference
        // extends its parent's life past it, so the clone is re-tied to the
        // reference below (same NBL). On failure the reference is dropped.
        // A `'static` pool is never freed, so the clone is not counted on it.
        let handle = pool.map_or(core::ptr::null_mut(), NblPool::as_raw);
        let clone = self.retreat_and_clone_as::<K, C, L>(delta, handle, None, init)?;
        let (ptr, log) = clone.into_parts();
        // SAFETY: the clone's parent is held by `reference`, which the
        // packet drops after the clone.
        let clone = unsafe { NblClone::<'static, K, C, L>::from_parts(ptr, log) };
        Ok(ClonedPacket { clone: ManuallyDrop::new(clone), parent: ManuallyDrop::new(reference) })
    }
}

impl NblReference {
    /// Clones the referenced NBL with `K`'s DDI (from `pool`, or the DDI's
    /// own when `None`, with its context area set to `init`); the clone and
    /// the reference travel together.
    #[inline]
    pub fn into_clone<K: Flavor, C: ContextArea>(
        self,
        pool: Option<&'static NblPool<C>>,
        init: C,
    ) -> Result<ClonedPacket<K, C>> {
        let handle = pool.map_or(core::ptr::null_mut(), NblPool::as_raw);
        // SAFETY: the reference keeps the parent alive; the pool (if any) is
        // typed C and static (never freed, so the clone is not counted on it).
        let clone = unsafe { NblClone::<'static, K, C>::new_raw(self.ptr, handle, None, init)? };
        Ok(ClonedPacket { clone: ManuallyDrop::new(clone), parent: ManuallyDrop::new(self) })
    }
}

/// A clone and the reference on its parent, released in that order: the
/// clone (its changes undone, then freed), then the reference.
///
/// # Invariants
///
/// `clone` is a clone of the NBL `parent` references.
pub struct ClonedPacket<K: Flavor, C: ContextArea = NoContext, L: Record = Log> {
    clone: ManuallyDrop<NblClone<'static, K, C, L>>,
    parent: ManuallyDrop<NblReference>,
}

impl<K: Flavor, C: ContextArea, L: Record> ClonedPacket<K, C, L> {
    /// The clone's context area.
    #[inline(always)]
    pub fn context(&self) -> &C {
        self.clone.context()
    }

    /// The clone's context area, to change.
    #[inline(always)]
    pub fn context_mut(&mut self) -> &mut C {
        self.clone.context_mut()
    }
}

impl<K: Flavor, C: ContextArea> ClonedPacket<K, C, Log> {
    /// Undoes the clone's changes, last first (dropping the packet does it too).
    #[inline]
    pub fn undo_all(&mut self) {
        self.clone.undo_all();
    }

    /// Changes the clone: see [`NblClone::modify`].
    #[inline]
    pub fn modify<R>(&mut self, f: impl for<'id> FnOnce(crate::clone::Changes<'id, '_, 'static>) -> R) -> R {
        self.clone.modify(f)
    }
}

impl<K: Flavor, C: ContextArea, L: Record> Deref for ClonedPacket<K, C, L> {
    type Target = NetBufferList;

    #[inline(always)]
    fn deref(&self) -> &NetBufferList {
        &self.clone
    }
}

impl<K: Flavor, C: ContextArea, L: Record> Drop for ClonedPacket<K, C, L> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: each dropped once, the clone before its parent's reference.
        unsafe {
            ManuallyDrop::drop(&mut self.clone);
            ManuallyDrop::drop(&mut self.parent);
        }
    }
}

// ---- what can be injected ----

/// What an injection leaves with the NBL to rebuild its owner on completion.
#[derive(Clone, Copy)]
#[doc(hidden)]
pub struct Parts {
    log: Option<Log>,
    parent: Option<NonNull<NET_BUFFER_LIST>>,
    pool_count: *const AtomicUsize,
}

/// An owner of an NBL that can be injected and given back.
///
/// # Safety
///
/// `into_parts` gives up the NBL without freeing it, and `from_parts`
/// rebuilds exactly the owner `into_parts` took apart.
pub unsafe trait Injectable: Sized + Send + 'static {
    /// Takes the owner apart.
    #[doc(hidden)]
    fn into_parts(self) -> (NonNull<NET_BUFFER_LIST>, Parts);
    /// Rebuilds it.
    ///
    /// # Safety
    ///
    /// As the trait says.
    #[doc(hidden)]
    unsafe fn from_parts(nbl: NonNull<NET_BUFFER_LIST>, parts: Parts, dispatch: bool) -> Self;
    /// Frees the owner `into_parts` took apart, as dropping the rebuilt
    /// owner does (a refused injection's packet, for a caller that would
    /// drop it at once).
    ///
    /// # Safety
    ///
    /// As `from_parts` (a reference is released saying `DispatchLevel`
    /// FALSE, right at any IRQL).
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn free_parts(nbl: NonNull<NET_BUFFER_LIST>, parts: Parts) {
        // SAFETY: the caller's guarantee.
        drop(unsafe { Self::from_parts(nbl, parts, false) });
    }
}

// SAFETY: the clone's parts and the parent's pointer are all it is.
unsafe impl<K: Flavor, C: ContextArea, L: Record> Injectable for ClonedPacket<K, C, L> {
    #[inline]
    fn into_parts(self) -> (NonNull<NET_BUFFER_LIST>, Parts) {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: taken once; `me` is never dropped.
        let (clone, parent) = unsafe { (ManuallyDrop::take(&mut me.clone), ManuallyDrop::take(&mut me.parent)) };
        let (ptr, log) = clone.into_parts();
        let parent = ManuallyDrop::new(parent);
        (ptr, Parts { log: log.into_log(), parent: Some(parent.ptr), pool_count: core::ptr::null() })
    }

    #[inline]
    unsafe fn from_parts(nbl: NonNull<NET_BUFFER_LIST>, parts: Parts, _dispatch: bool) -> Self {
        // SAFETY: the caller's guarantee: these are the parts of a packet.
        let clone = unsafe { NblClone::from_parts(nbl, L::from_log(parts.log)) };
        // The completion's `dispatchLevel` holds only during the completion,
        // and the packet may outlive it (`Completed::into_packet`), moving to
        // a thread below DISPATCH_LEVEL: the reference is released saying
        // FALSE, what FwpsDereferenceNetBufferList0 asks of a caller that
        // does not know it runs at DISPATCH_LEVEL.
        let parent = NblReference { ptr: parts.parent.unwrap_or(nbl), dispatch: false };
        ClonedPacket { clone: ManuallyDrop::new(clone), parent: ManuallyDrop::new(parent) }
    }

    /// The clone freed, then the reference on its parent released — what
    /// the drop does, inline (the drop glue, on the cold refused path, is
    /// left out of line).
    #[inline(always)]
    unsafe fn free_parts(nbl: NonNull<NET_BUFFER_LIST>, parts: Parts) {
        // SAFETY: the caller's guarantee: these are the parts of a packet.
        let clone = unsafe { NblClone::<'static, K, C, L>::from_parts(nbl, L::from_log(parts.log)) };
        clone.free_now();
        let parent = parts.parent.unwrap_or(nbl);
        // SAFETY: the reference the packet held on its parent, released
        // once, after the clone (as `from_parts` and the drop would).
        unsafe { fwps_sys::FwpsDereferenceNetBufferList0(parent.as_ptr(), 0) };
    }
}

// SAFETY: the NBL and its pool's counter are all it is.
unsafe impl<A: Allocator, C: ContextArea> Injectable for NetBufferListOwned<'static, A, C> {
    #[inline]
    fn into_parts(self) -> (NonNull<NET_BUFFER_LIST>, Parts) {
        let (ptr, count) = NetBufferListOwned::into_parts(self);
        (ptr, Parts { log: None, parent: None, pool_count: count })
    }

    #[inline]
    unsafe fn from_parts(nbl: NonNull<NET_BUFFER_LIST>, parts: Parts, _dispatch: bool) -> Self {
        // SAFETY: the caller's guarantee: the counter is the static pool's.
        unsafe { NetBufferListOwned::from_parts(nbl, &*parts.pool_count) }
    }
}

// ---- injection ----

/// The injection types of a handle (`FWPS_INJECTION_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectionTypes(pub u32);

impl InjectionTypes {
    /// `FWPS_INJECTION_TYPE_TRANSPORT`
    pub const TRANSPORT: InjectionTypes = InjectionTypes(fwps_sys::FWPS_INJECTION_TYPE_TRANSPORT);
    /// `FWPS_INJECTION_TYPE_NETWORK`
    pub const NETWORK: InjectionTypes = InjectionTypes(fwps_sys::FWPS_INJECTION_TYPE_NETWORK);
    /// `FWPS_INJECTION_TYPE_FORWARD`
    pub const FORWARD: InjectionTypes = InjectionTypes(fwps_sys::FWPS_INJECTION_TYPE_FORWARD);
}

/// An injection handle (`FwpsInjectionHandleCreate0`), destroyed on drop
/// by `FwpsInjectionHandleDestroy0`, which returns only once every pending
/// injection has completed.
///
/// # Invariants
///
/// `raw` is a live injection handle.
pub struct InjectionHandle {
    raw: HANDLE,
}

// SAFETY: injection handles are used from any thread.
unsafe impl Send for InjectionHandle {}
// SAFETY: as above.
unsafe impl Sync for InjectionHandle {}

/// What `FwpsQueryPacketInjectionState0` says of an NBL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectionState {
    /// Not injected.
    NotInjected,
    /// Injected by this handle, with the injection context given then.
    InjectedBySelf(usize),
    /// Injected by another handle.
    InjectedByOther,
    /// Injected by this handle earlier, then changed by someone.
    PreviouslyInjectedBySelf,
}

impl InjectionState {
    /// Whether this handle injected it (now or earlier): a callout lets
    /// such packets pass, so as not to process its own packets twice.
    #[inline]
    pub fn is_self_injected(self) -> bool {
        matches!(self, InjectionState::InjectedBySelf(_) | InjectionState::PreviouslyInjectedBySelf)
    }
}

/// Where to inject, and the parameters of that DDI.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    /// `FwpsInjectTransportSendAsync0`.
    TransportSend {
        /// The endpoint (0 for none).
        endpoint: u64,
        /// `AF_INET` or `AF_INET6`.
        family: u16,
        /// The compartment (`DEFAULT_COMPARTMENT_ID` for the default).
        compartment: i32,
        /// The remote address (4 or 16 bytes used) and scope, which the
        /// stack reads after the call returns: it is kept with the NBL.
        remote: Option<([u8; 16], u32)>,
    },
    /// `FwpsInjectTransportReceiveAsync0`.
    TransportReceive {
        /// `AF_INET` or `AF_INET6`.
        family: u16,
        /// The compartment.
        compartment: i32,
        /// The interface.
        interface: u32,
        /// The sub-interface.
        sub_interface: u32,
    },
    /// `FwpsInjectNetworkSendAsync0`.
    NetworkSend {
        /// The compartment.
        compartment: i32,
    },
    /// `FwpsInjectNetworkReceiveAsync0`.
    NetworkReceive {
        /// The compartment.
        compartment: i32,
        /// The interface.
        interface: u32,
        /// The sub-interface.
        sub_interface: u32,
    },
    /// `FwpsInjectForwardAsync0`.
    Forward {
        /// `AF_INET` or `AF_INET6`.
        family: u16,
        /// The compartment.
        compartment: i32,
        /// The interface to forward to.
        interface: u32,
    },
}

impl Transport {
    /// A transport-layer send with no endpoint, in the default compartment.
    #[inline]
    pub fn send(family: u16, remote: Option<([u8; 16], u32)>) -> Transport {
        Transport::TransportSend { endpoint: 0, family, compartment: fwps_sys::DEFAULT_COMPARTMENT_ID, remote }
    }

    /// A transport-layer receive in the default compartment.
    #[inline]
    pub fn receive(family: u16) -> Transport {
        Transport::TransportReceive {
            family,
            compartment: fwps_sys::DEFAULT_COMPARTMENT_ID,
            interface: 0,
            sub_interface: 0,
        }
    }
}

/// An injected packet back from the stack, with the completion status.
/// Dropping it drops the packet (a clone is restored and freed, then the
/// reference on its parent released).
pub struct Completed<T: Injectable> {
    packet: T,
    status: i32,
    dispatch: bool,
}

impl<T: Injectable> Completed<T> {
    /// `NET_BUFFER_LIST_STATUS`: how the injection went.
    #[inline]
    pub fn status(&self) -> core::result::Result<(), Status> {
        Status::result(self.status)
    }

    /// Whether the completion runs at `DISPATCH_LEVEL`.
    #[inline]
    pub fn at_dispatch(&self) -> bool {
        self.dispatch
    }

    /// The packet.
    #[inline]
    pub fn packet(&mut self) -> &mut T {
        &mut self.packet
    }

    /// The packet, to keep.
    #[inline]
    pub fn into_packet(self) -> T {
        self.packet
    }
}

/// An injection the DDI refused synchronously: the packet is the caller's
/// again; the completion never runs.
pub struct Rejected<T> {
    /// Why.
    pub error: Error,
    /// The packet, given back.
    pub packet: T,
}

impl<T> core::fmt::Debug for Rejected<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rejected").field("error", &self.error).finish_non_exhaustive()
    }
}

/// What an injection keeps in the NBL's own context area until its
/// completion, when the NBL alone cannot tell: the owner's parts (a clone's
/// change log, an owned NBL's pool counter) and the send parameters the stack
/// reads after the call returns. A clone with no changes and no send
/// parameters needs none: its parent is its `ParentNetBufferList`.
#[repr(C)]
struct Pending {
    parts: Parts,
    send: FWPS_TRANSPORT_SEND_PARAMS0,
    remote: [u8; 16],
}

/// The context size a record takes: a multiple of 16, so that a
/// MEMORY_ALLOCATION_ALIGNMENT backfill holds it exactly.
const RECORD: u16 = {
    let n = size_of::<Pending>().next_multiple_of(16);
    assert!(n <= u16::MAX as usize);
    n as u16
};

/// The bytes an injection may push on the NBL's context: a context type
/// derived with `#[context_area(injectable)]` reserves this much backfill,
/// so injecting a clone from its pool needs no allocation.
pub const INJECTION_CONTEXT: u16 = RECORD;

const TAG: u32 = u32::from_le_bytes(*b"Injc");

impl Parts {
    /// Whether the NBL alone cannot rebuild the owner.
    #[inline(always)]
    fn needs_record(&self) -> bool {
        self.log.is_some_and(|l| !l.is_empty()) || !self.pool_count.is_null()
    }
}

/// A driver's completion routine for an injected `T`: a function item
/// (`fn done(c: Completed<T>)`, passed as `done`) or a closure that captures
/// nothing. It is a type, not a pointer: the routine WFP calls is
/// instantiated for it, so the driver's code is called directly (and usually
/// inlined there) rather than through a pointer carried as the completion
/// context. A function pointer (`fn(Completed<T>)`, a value known only at
/// run time) or a closure that captures something is refused when the
/// injection is built (it would need storage that lives until the
/// completion): a build error, which `cargo check` does not report, since
/// it is found when the call is instantiated.
///
/// ```compile_fail,E0080
/// use ndis_safe::clone::Fwps;
/// use ndis_safe::wfp::{ClonedPacket, Completed, InjectionHandle, Transport, AF_INET};
///
/// fn done(_: Completed<ClonedPacket<Fwps>>) {}
///
/// fn inject(handle: &InjectionHandle, packet: ClonedPacket<Fwps>) {
///     // A pointer: which function only the run time knows. Refused.
///     let done: fn(Completed<ClonedPacket<Fwps>>) = done;
///     let _ = handle.inject(packet, Transport::receive(AF_INET), done);
/// }
/// # fn main() { let _: fn(&InjectionHandle, ClonedPacket<Fwps>) = inject; }
/// ```
pub trait Completion<T: Injectable>: FnOnce(Completed<T>) + Copy + Send + Sync + 'static {}

impl<T: Injectable, F: FnOnce(Completed<T>) + Copy + Send + Sync + 'static> Completion<T> for F {}

/// The routine `D` is, for the completion WFP calls.
///
/// # Safety
///
/// A value of `D` was given to the injection this completion ends (so `D`
/// is inhabited) and `D` is zero-sized (`inject_with` checks it at compile
/// time).
#[inline(always)]
unsafe fn done_of<T: Injectable, D: Completion<T>>() -> D {
    // SAFETY: a zero-sized read from an aligned, non-null pointer is valid;
    // `D` is `Copy` and a value of it existed, so making one more is what
    // copying it would do.
    unsafe { NonNull::<D>::dangling().as_ptr().read() }
}

/// The completion WFP calls for an injection without a record: the parent
/// is the clone's `ParentNetBufferList`.
unsafe extern "system" fn completion_plain<T: Injectable, D: Completion<T>>(
    ctx: *mut c_void,
    nbl: *mut NET_BUFFER_LIST,
    dispatch: BOOLEAN,
) {
    // SAFETY: `ctx` is NULL or the send slot the injection claimed; the
    // stack is done with the parameters in it.
    unsafe { send::release(ctx) };
    // SAFETY: WFP completes the NBL it was given, never NULL.
    let nbl = unsafe { NonNull::new_unchecked(nbl) };
    // SAFETY: the NBL is ours again; `D` is the routine `inject_with` was given.
    let (status, parent, done) = unsafe {
        (
            *ndis_sys::NET_BUFFER_LIST_STATUS(nbl.as_ptr()),
            *ndis_sys::NET_BUFFER_LIST_PARENT(nbl.as_ptr()),
            done_of::<T, D>(),
        )
    };
    let parts = Parts { log: None, parent: NonNull::new(parent), pool_count: core::ptr::null() };
    let dispatch = dispatch != 0;
    // SAFETY: the parts are those of the packet `inject_with` took apart
    // (it had no changes and no pool counter, so nothing else is needed).
    let packet = unsafe { T::from_parts(nbl, parts, dispatch) };
    done(Completed { packet, status, dispatch });
}

/// The completion WFP calls for an injection with a record: pops it.
unsafe extern "system" fn completion_recorded<T: Injectable, D: Completion<T>>(
    ctx: *mut c_void,
    nbl: *mut NET_BUFFER_LIST,
    dispatch: BOOLEAN,
) {
    // SAFETY: as in `completion_plain`.
    unsafe { send::release(ctx) };
    // SAFETY: WFP completes the NBL it was given, never NULL.
    let nbl = unsafe { NonNull::new_unchecked(nbl) };
    // SAFETY: the NBL is ours again; its current context is the record
    // `inject_with` pushed (pushes of the stack's are popped by now); `D`
    // is the routine it was given.
    let (record, status, done) = unsafe {
        let r = ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(nbl.as_ptr()).cast::<Pending>().read_unaligned();
        ndis_sys::NdisFreeNetBufferListContext(nbl.as_ptr(), RECORD);
        (r, *ndis_sys::NET_BUFFER_LIST_STATUS(nbl.as_ptr()), done_of::<T, D>())
    };
    let dispatch = dispatch != 0;
    // SAFETY: the parts are those `inject_with` took apart.
    let packet = unsafe { T::from_parts(nbl, record.parts, dispatch) };
    done(Completed { packet, status, dispatch });
}

impl InjectionHandle {
    /// `FwpsInjectionHandleCreate0` for `family` (`AF_INET`, `AF_INET6`, or
    /// 0 for both) and the injection `types`.
    #[inline]
    pub fn new(family: u16, types: InjectionTypes) -> Result<InjectionHandle> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: `raw` is writable.
        Status::result(unsafe { fwps_sys::FwpsInjectionHandleCreate0(family, types.0, &mut raw) })?;
        // On success the DDI has written a handle to `raw`.
        Ok(InjectionHandle { raw })
    }

    /// The raw handle.
    #[inline(always)]
    pub fn as_raw(&self) -> HANDLE {
        self.raw
    }

    /// `FwpsQueryPacketInjectionState0`.
    #[inline]
    pub fn state(&self, nbl: &NetBufferList) -> InjectionState {
        let mut ctx = core::ptr::null_mut();
        // SAFETY: a live handle and NBL; `ctx` is writable.
        let s = unsafe { fwps_sys::FwpsQueryPacketInjectionState0(self.raw, nbl.as_ptr(), &mut ctx) };
        match s {
            fwps_sys::FWPS_PACKET_INJECTED_BY_SELF => InjectionState::InjectedBySelf(ctx as usize),
            fwps_sys::FWPS_PACKET_INJECTED_BY_OTHER => InjectionState::InjectedByOther,
            fwps_sys::FWPS_PACKET_PREVIOUSLY_INJECTED_BY_SELF => InjectionState::PreviouslyInjectedBySelf,
            _ => InjectionState::NotInjected,
        }
    }

    /// Injects `packet` where `to` says: one of the `inject_*` methods,
    /// chosen at run time (a driver that knows the path at compile time
    /// calls that method, and links only that DDI). The stack owns the
    /// packet until `done` runs (possibly before this returns), given it back
    /// with the status. On a synchronous failure the packet comes straight
    /// back and `done` never runs.
    pub fn inject<T: Injectable>(
        &self,
        packet: T,
        to: Transport,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        match to {
            Transport::TransportSend { endpoint, family, compartment, remote } => {
                self.inject_transport_send(packet, endpoint, family, compartment, remote, done)
            }
            Transport::TransportReceive { family, compartment, interface, sub_interface } => {
                self.inject_transport_receive(packet, family, compartment, interface, sub_interface, done)
            }
            Transport::NetworkSend { compartment } => self.inject_network_send(packet, compartment, done),
            Transport::NetworkReceive { compartment, interface, sub_interface } => {
                self.inject_network_receive(packet, compartment, interface, sub_interface, done)
            }
            Transport::Forward { family, compartment, interface } => {
                self.inject_forward(packet, family, compartment, interface, done)
            }
        }
    }

    /// `FwpsInjectTransportSendAsync0`. `remote` (address, scope), read by
    /// the stack after the call returns, is kept with the NBL until the
    /// completion. See [`InjectionHandle::inject`].
    pub fn inject_transport_send<T: Injectable>(
        &self,
        packet: T,
        endpoint: u64,
        family: u16,
        compartment: i32,
        remote: Option<([u8; 16], u32)>,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        let raw = self.raw;
        self.inject_with::<T, _>(
            packet,
            remote,
            done,
            core::ptr::null_mut(),
            #[inline(always)]
            |nbl, complete, ctx, send| {
                // SAFETY: a live handle; the NBL goes to the stack, and comes back
                // through `complete`; `send` (if used) is NULL or points into the
                // NBL's record, valid until the completion.
                unsafe {
                    fwps_sys::FwpsInjectTransportSendAsync0(
                        raw,
                        core::ptr::null_mut(),
                        endpoint,
                        0,
                        send,
                        family,
                        compartment,
                        nbl,
                        complete,
                        ctx,
                    )
                }
            },
        )
    }

    /// `FwpsInjectTransportReceiveAsync0`. See [`InjectionHandle::inject`].
    pub fn inject_transport_receive<T: Injectable>(
        &self,
        packet: T,
        family: u16,
        compartment: i32,
        interface: u32,
        sub_interface: u32,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        let call = self.receive_call(family, compartment, interface, sub_interface);
        self.inject_with::<T, _>(packet, None, done, core::ptr::null_mut(), call)
    }

    /// As [`InjectionHandle::inject_transport_receive`], but a packet the
    /// DDI refuses is freed here (for a clone: freed, then the reference on
    /// its parent released) and only the error is returned: for a caller
    /// that would drop the [`Rejected`] packet at once, as an inspection
    /// callout does before letting the original pass. The same work as
    /// dropping it, without the drop glue a compiler keeps out of line on
    /// the refused path.
    #[inline(always)]
    pub fn inject_transport_receive_or_free<T: Injectable>(
        &self,
        packet: T,
        family: u16,
        compartment: i32,
        interface: u32,
        sub_interface: u32,
        done: impl Completion<T>,
    ) -> Result<()> {
        let call = self.receive_call(family, compartment, interface, sub_interface);
        self.inject_or_free_with::<T, _>(packet, None, done, core::ptr::null_mut(), call)
    }

    /// The `FwpsInjectTransportReceiveAsync0` call of an injection.
    #[inline(always)]
    fn receive_call(
        &self,
        family: u16,
        compartment: i32,
        interface: u32,
        sub_interface: u32,
    ) -> impl FnOnce(*mut NET_BUFFER_LIST, fwps_sys::FWPS_INJECT_COMPLETE0, HANDLE, *mut FWPS_TRANSPORT_SEND_PARAMS0) -> i32
    {
        let raw = self.raw;
        #[inline(always)]
        move |nbl, complete, ctx, _| {
            // SAFETY: a live handle; no injection context, no flags; the NBL goes
            // to the stack and comes back through `complete` with `ctx`, both
            // valid until then.
            unsafe {
                fwps_sys::FwpsInjectTransportReceiveAsync0(
                    raw,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    0,
                    family,
                    compartment,
                    interface,
                    sub_interface,
                    nbl,
                    complete,
                    ctx,
                )
            }
        }
    }

    /// `FwpsInjectNetworkSendAsync0`. See [`InjectionHandle::inject`].
    pub fn inject_network_send<T: Injectable>(
        &self,
        packet: T,
        compartment: i32,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        let raw = self.raw;
        self.inject_with::<T, _>(
            packet,
            None,
            done,
            core::ptr::null_mut(),
            #[inline(always)]
            |nbl, complete, ctx, _| {
                // SAFETY: a live handle; no injection context, no flags; the NBL goes
                // to the stack and comes back through `complete` with `ctx`, both
                // valid until then.
                unsafe {
                    fwps_sys::FwpsInjectNetworkSendAsync0(
                        raw,
                        core::ptr::null_mut(),
                        0,
                        compartment,
                        nbl,
                        complete,
                        ctx,
                    )
                }
            },
        )
    }

    /// `FwpsInjectNetworkReceiveAsync0`. See [`InjectionHandle::inject`].
    pub fn inject_network_receive<T: Injectable>(
        &self,
        packet: T,
        compartment: i32,
        interface: u32,
        sub_interface: u32,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        let raw = self.raw;
        self.inject_with::<T, _>(
            packet,
            None,
            done,
            core::ptr::null_mut(),
            #[inline(always)]
            |nbl, complete, ctx, _| {
                // SAFETY: a live handle; no injection context, no flags; the NBL goes
                // to the stack and comes back through `complete` with `ctx`, both
                // valid until then.
                unsafe {
                    fwps_sys::FwpsInjectNetworkReceiveAsync0(
                        raw,
                        core::ptr::null_mut(),
                        0,
                        compartment,
                        interface,
                        sub_interface,
                        nbl,
                        complete,
                        ctx,
                    )
                }
            },
        )
    }

    /// `FwpsInjectForwardAsync0`. See [`InjectionHandle::inject`].
    pub fn inject_forward<T: Injectable>(
        &self,
        packet: T,
        family: u16,
        compartment: i32,
        interface: u32,
        done: impl Completion<T>,
    ) -> core::result::Result<(), Rejected<T>> {
        let raw = self.raw;
        self.inject_with::<T, _>(
            packet,
            None,
            done,
            core::ptr::null_mut(),
            #[inline(always)]
            |nbl, complete, ctx, _| {
                // SAFETY: a live handle; no injection context, no flags; the NBL goes
                // to the stack and comes back through `complete` with `ctx`, both
                // valid until then.
                unsafe {
                    fwps_sys::FwpsInjectForwardAsync0(
                        raw,
                        core::ptr::null_mut(),
                        0,
                        family,
                        compartment,
                        interface,
                        nbl,
                        complete,
                        ctx,
                    )
                }
            },
        )
    }

    /// The common path of every injection (Send1's too), as
    /// [`InjectionHandle::inject_parts`], the packet given back on a
    /// synchronous refusal.
    #[inline(always)]
    pub(crate) fn inject_with<T: Injectable, D: Completion<T>>(
        &self,
        packet: T,
        remote: Option<([u8; 16], u32)>,
        done: D,
        ctx: *mut c_void,
        call: impl FnOnce(
            *mut NET_BUFFER_LIST,
            fwps_sys::FWPS_INJECT_COMPLETE0,
            HANDLE,
            *mut FWPS_TRANSPORT_SEND_PARAMS0,
        ) -> i32,
    ) -> core::result::Result<(), Rejected<T>> {
        let (nbl, parts) = packet.into_parts();
        self.inject_parts::<T, D>(nbl, parts, remote, done, ctx, call).map_err(|error| {
            // SAFETY: the parts were just taken apart and the NBL is ours
            // again (refused: the completion will not run).
            let packet = unsafe { T::from_parts(nbl, parts, false) };
            Rejected { error, packet }
        })
    }

    /// As [`InjectionHandle::inject_with`], a refused packet freed at once
    /// (with the DDIs inline) rather than given back.
    #[inline(always)]
    pub(crate) fn inject_or_free_with<T: Injectable, D: Completion<T>>(
        &self,
        packet: T,
        remote: Option<([u8; 16], u32)>,
        done: D,
        ctx: *mut c_void,
        call: impl FnOnce(
            *mut NET_BUFFER_LIST,
            fwps_sys::FWPS_INJECT_COMPLETE0,
            HANDLE,
            *mut FWPS_TRANSPORT_SEND_PARAMS0,
        ) -> i32,
    ) -> Result<()> {
        let (nbl, parts) = packet.into_parts();
        let result = self.inject_parts::<T, D>(nbl, parts, remote, done, ctx, call);
        if result.is_err() {
            // SAFETY: the parts were just taken apart and the NBL is ours
            // again (refused: the completion will not run).
            unsafe { T::free_parts(nbl, parts) };
        }
        result
    }

    /// The common path of every injection, on a packet taken apart
    /// ([`Injectable::into_parts`]): pushes a record if the completion will
    /// need one, and calls the DDI with the completion made for `D` and
    /// `ctx` (a claimed [`send::SendSlot`], which the completion frees, or
    /// NULL): one completion routine per packet type and driver routine,
    /// whichever DDI injected it. On `Err` (refused synchronously) the
    /// record is popped again and the parts are the caller's, unchanged.
    #[inline(always)]
    pub(crate) fn inject_parts<T: Injectable, D: Completion<T>>(
        &self,
        nbl: NonNull<NET_BUFFER_LIST>,
        parts: Parts,
        remote: Option<([u8; 16], u32)>,
        done: D,
        ctx: *mut c_void,
        call: impl FnOnce(
            *mut NET_BUFFER_LIST,
            fwps_sys::FWPS_INJECT_COMPLETE0,
            HANDLE,
            *mut FWPS_TRANSPORT_SEND_PARAMS0,
        ) -> i32,
    ) -> Result<()> {
        const {
            assert!(
                size_of::<D>() == 0,
                "an injection's completion must be a function item or a closure that captures nothing"
            );
        }
        // Zero-sized and `Copy`: the completion makes its own (`done_of`).
        let _ = done;
        let recorded = parts.needs_record() || remote.is_some();
        let mut send_args: *mut FWPS_TRANSPORT_SEND_PARAMS0 = core::ptr::null_mut();
        if recorded {
            // SAFETY: the NBL is ours; RECORD is a multiple of 16.
            let pushed = unsafe { ndis_sys::NdisAllocateNetBufferListContext(nbl.as_ptr(), RECORD, 0, TAG) };
            Status::result(pushed)?;
            // SAFETY: the pushed context holds RECORD bytes, ours.
            let slot = unsafe { ndis_sys::NET_BUFFER_LIST_CONTEXT_DATA_START(nbl.as_ptr()).cast::<Pending>() };
            let record = Pending {
                parts,
                // SAFETY: all-zero is valid for this record (null pointers, zero lengths).
                send: unsafe { core::mem::zeroed() },
                remote: remote.map_or([0; 16], |(addr, _)| addr),
            };
            // SAFETY: `slot` holds RECORD bytes, possibly unaligned.
            unsafe { slot.write_unaligned(record) };
            if let Some((_, scope)) = remote {
                // The address points into the NBL's context, which lives
                // until the completion: the stack may read it after we return.
                // SAFETY: in-bounds projections of the pushed record.
                unsafe {
                    (&raw mut (*slot).send.remoteScopeId.__bindgen_anon_1.Value).write_unaligned(scope);
                    (&raw mut (*slot).send.remoteAddress).write_unaligned((&raw mut (*slot).remote).cast());
                    send_args = &raw mut (*slot).send;
                }
            }
        }
        let complete = if recorded {
            completion_recorded::<T, D> as unsafe extern "system" fn(*mut c_void, *mut NET_BUFFER_LIST, BOOLEAN)
        } else {
            completion_plain::<T, D>
        };
        let status = call(nbl.as_ptr(), Some(complete), ctx, send_args);
        match Status::result(status) {
            Ok(()) => Ok(()),
            Err(e) => {
                if recorded {
                    // Refused: the completion will not run; the NBL is ours.
                    // SAFETY: our pushed record is the current context.
                    unsafe { ndis_sys::NdisFreeNetBufferListContext(nbl.as_ptr(), RECORD) };
                }
                Err(e.into())
            }
        }
    }
}

impl Drop for InjectionHandle {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: a live handle, destroyed once; the DDI returns only once
        // every pending injection has completed.
        let _ = unsafe { fwps_sys::FwpsInjectionHandleDestroy0(self.raw) };
    }
}
