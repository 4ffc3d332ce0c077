//! `FwpsInjectTransportSendAsync1`: a transport send with the remote
//! address, scope and control data the stack reads until the completion —
//! which an outbound callout takes from its classify (`remote` from the
//! incoming values, scope and control data from the metadata) so that the
//! packet goes where the application sent it.
//!
//! What the stack reads after the call returns lives in a [`SendSlot`], a
//! `static` the driver provides (no allocation): the
//! `FWPS_TRANSPORT_SEND_PARAMS1` record, the remote address and a copy of
//! the control data (the classify's own does not outlive the classify; at
//! most [`SEND_CONTROL_MAX`] bytes). A slot is busy from the injection to
//! its completion; injecting through a busy slot is refused (`Rejected`,
//! the packet back), so a driver keeps as many slots as it allows sends in
//! flight.
//!
//! Send1 and the other injections share one path: the packet is taken
//! apart, a record pushed on the NBL only when its owner cannot be rebuilt
//! from the NBL alone, and the completion routine made for the driver's
//! [`Completion`] gives it back — Send1's frees the slot first (the slot is
//! the completion context). [`InjectionHandle::inject_transport_send`]
//! (`FwpsInjectTransportSendAsync0`) keeps its remote address in that NBL
//! record instead, with no slot: it takes no control data, which is what
//! a slot is for.
//!
//! Leaks: a packet whose injection never completes keeps its slot busy;
//! nothing else depends on a destructor.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::net::IpAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use fwps_sys::*;
use ndis_sys::NET_BUFFER_LIST;

use crate::error::Error;
use crate::wfp::{Completion, Injectable, InjectionHandle, Parts, Rejected};

/// Storage for one send injection's parameters, from the injection to its
/// completion.
///
/// # Invariants
///
/// While `busy`, the cells are the pending injection's: written before the
/// DDI call by the injection that set `busy`, read by the stack until the
/// injection's completion, which clears `busy`.
pub struct SendSlot {
    busy: AtomicBool,
    params: UnsafeCell<MaybeUninit<FWPS_TRANSPORT_SEND_PARAMS1>>,
    remote: UnsafeCell<[u8; 16]>,
    control: UnsafeCell<[u8; SEND_CONTROL_MAX]>,
}

// SAFETY: the cells are used by one injection at a time (the invariant).
unsafe impl Sync for SendSlot {}

impl Default for SendSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl SendSlot {
    /// A free slot (`const`, for a `static`).
    pub const fn new() -> SendSlot {
        SendSlot {
            busy: AtomicBool::new(false),
            params: UnsafeCell::new(MaybeUninit::uninit()),
            remote: UnsafeCell::new([0; 16]),
            control: UnsafeCell::new([0; SEND_CONTROL_MAX]),
        }
    }

    /// Claims a free slot of `slots` for an injection: the first that reads
    /// free, taken atomically; `None` when none reads free, or when another
    /// injection took that one between the read and the claim (the
    /// injection is refused then, as with no free slot, rather than
    /// searching again: a refused send lets the packet pass). The search is
    /// inline, the reads unrolled over a `static`'s slots — the same
    /// instructions as a C driver's search of its own array.
    #[inline(always)]
    fn claim_first(slots: &'static [SendSlot]) -> Option<&'static SendSlot> {
        let slot = slots.iter().find(|s| !s.busy.load(Ordering::Relaxed))?;
        slot.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok().then_some(slot)
    }

    /// Whether an injection through it is pending.
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }
}

/// The most control data a [`SendSlot`] keeps.
pub const SEND_CONTROL_MAX: usize = 256;

/// Where a send goes: the remote address and scope, and the socket's
/// control data (`WSACMSGHDR`s), as the outbound classify gave them
/// ([`Classify::control_data`](crate::wfp::classify::Classify::control_data)):
/// the slot keeps a copy until the completion.
#[derive(Debug, Clone, Copy)]
pub struct SendTo<'a> {
    /// The remote address (its family is the injection's).
    pub remote: IpAddr,
    /// The remote scope id (`remoteScopeId`), 0 for none.
    pub scope: u32,
    /// The control data (at most [`SEND_CONTROL_MAX`] bytes).
    pub control: &'a [u8],
}

/// Frees the slot an injection claimed, at its completion (none: NULL).
///
/// # Safety
///
/// `ctx` is NULL or the `SendSlot` the completing injection claimed.
#[inline(always)]
pub(crate) unsafe fn release(ctx: *mut c_void) {
    // SAFETY: the caller's guarantee; a `SendSlot` is `'static`.
    if let Some(slot) = unsafe { ctx.cast::<SendSlot>().as_ref() } {
        slot.busy.store(false, Ordering::Release);
    }
}

impl InjectionHandle {
    /// `FwpsInjectTransportSendAsync1` of `packet` to `to`, from
    /// `endpoint` (0 for none) in `compartment`, with its parameters in a
    /// free slot of `slots` (claimed atomically: see below) until the
    /// completion, which frees the slot and gives the packet back to `done`
    /// (see [`InjectionHandle::inject`]; the same completion routines as
    /// every other injection, with the slot as their context). No free slot
    /// ([`Error::NoResources`]) or more than [`SEND_CONTROL_MAX`] bytes of
    /// control data ([`Error::InvalidArgument`]) is refused before the DDI
    /// is called. One slot is `core::slice::from_ref(&SLOT)`.
    ///
    /// The slot is the first of `slots` that reads free, then claimed with
    /// one atomic exchange; if another processor claimed it in between, the
    /// injection is refused ([`Error::NoResources`]) rather than the search
    /// repeated — a C driver's search of its array does the same work.
    #[inline(always)]
    pub fn inject_transport_send1<T: Injectable>(
        &self,
        packet: T,
        slots: &'static [SendSlot],
        endpoint: u64,
        compartment: i32,
        to: SendTo<'_>,
        done: impl Completion<T>,
    ) -> Result<(), Rejected<T>> {
        let (nbl, parts) = packet.into_parts();
        self.send1_parts(nbl, parts, slots, endpoint, compartment, to, done).map_err(|error| {
            // SAFETY: the parts were just taken apart and the NBL is ours
            // again (refused: no completion will run).
            let packet = unsafe { T::from_parts(nbl, parts, false) };
            Rejected { error, packet }
        })
    }

    /// As [`InjectionHandle::inject_transport_send1`], but a packet that is
    /// refused (no free slot, too much control data, or by the DDI) is
    /// freed here — for a clone: freed, then the reference on its parent
    /// released — and only the error is returned: for a caller that would
    /// drop the [`Rejected`] packet at once, as an inspection callout does
    /// before letting the original pass. The same work as dropping it,
    /// without the drop glue a compiler keeps out of line on the refused
    /// path.
    #[inline(always)]
    pub fn inject_transport_send1_or_free<T: Injectable>(
        &self,
        packet: T,
        slots: &'static [SendSlot],
        endpoint: u64,
        compartment: i32,
        to: SendTo<'_>,
        done: impl Completion<T>,
    ) -> Result<(), Error> {
        let (nbl, parts) = packet.into_parts();
        let result = self.send1_parts(nbl, parts, slots, endpoint, compartment, to, done);
        if result.is_err() {
            // SAFETY: the parts were just taken apart and the NBL is ours
            // again (refused: no completion will run).
            unsafe { T::free_parts(nbl, parts) };
        }
        result
    }

    /// Send1 of a packet taken apart; on `Err` the parts are the caller's,
    /// unchanged, and the slot (if one was claimed) is free again.
    #[allow(clippy::too_many_arguments, reason = "the DDI's parameters and the packet's parts")]
    #[inline(always)]
    fn send1_parts<T: Injectable, D: Completion<T>>(
        &self,
        nbl: NonNull<NET_BUFFER_LIST>,
        parts: Parts,
        slots: &'static [SendSlot],
        endpoint: u64,
        compartment: i32,
        to: SendTo<'_>,
        done: D,
    ) -> Result<(), Error> {
        if to.control.len() > SEND_CONTROL_MAX {
            return Err(Error::InvalidArgument);
        }
        let control_len = to.control.len() as u32;
        let Some(slot) = SendSlot::claim_first(slots) else {
            return Err(Error::NoResources);
        };
        let family = match to.remote {
            IpAddr::V4(_) => AF_INET,
            IpAddr::V6(_) => AF_INET6,
        };
        // SAFETY: the invariant: this injection set `busy`; nothing else
        // touches the cells until its completion.
        let params = unsafe {
            let remote = &mut *slot.remote.get();
            *remote = [0; 16];
            match to.remote {
                IpAddr::V4(a) => remote[..4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => *remote = a.octets(),
            }
            let control = &mut *slot.control.get();
            if let Some(c) = control.get_mut(..to.control.len()) {
                c.copy_from_slice(to.control);
            }
            let mut scope: SCOPE_ID = core::mem::zeroed();
            scope.__bindgen_anon_1.Value = to.scope;
            (*slot.params.get()).write(FWPS_TRANSPORT_SEND_PARAMS1 {
                remoteAddress: remote.as_mut_ptr(),
                remoteScopeId: scope,
                controlData: if to.control.is_empty() { core::ptr::null_mut() } else { control.as_mut_ptr().cast() },
                controlDataLength: control_len,
                headerIncludeHeader: core::ptr::null_mut(),
                headerIncludeHeaderLength: 0,
            }) as *mut FWPS_TRANSPORT_SEND_PARAMS1
        };
        let raw = self.as_raw();
        let result = self.inject_parts::<T, D>(
            nbl,
            parts,
            None,
            done,
            core::ptr::from_ref(slot).cast_mut().cast(),
            #[inline(always)]
            |nbl, complete, ctx, _| {
                // SAFETY: a live handle; the NBL goes to the stack and comes
                // back through `complete` with `ctx`, the slot, whose
                // parameters (remote address and control data copies
                // included) stay valid and unchanged until then.
                unsafe {
                    FwpsInjectTransportSendAsync1(
                        raw,
                        core::ptr::null_mut(),
                        endpoint,
                        0,
                        params,
                        family,
                        compartment,
                        nbl,
                        complete,
                        ctx,
                    )
                }
            },
        );
        if result.is_err() {
            // Refused: the completion will not run; the slot is free again.
            slot.busy.store(false, Ordering::Release);
        }
        result
    }
}
