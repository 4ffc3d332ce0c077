//! `FwpsInjectTransportSendAsync1`: a transport send with the remote
//! address, scope and control data the stack reads until the completion —
//! which an outbound callout takes from its classify (`remote` from the
//! incoming values, scope and control data from the metadata) so that the
//! packet goes where the application sent it.
//!
//! What the stack reads after the call returns lives in a [`SendSlot`], a
//! `static` the driver provides (no allocation): the
//! `FWPS_TRANSPORT_SEND_PARAMS1` record, the remote address, a copy of the
//! control data (the classify's own does not outlive the classify; at most
//! [`SEND_CONTROL_MAX`] bytes), and what the completion needs to give the
//! packet back. A slot is busy from the injection to its completion;
//! injecting through a busy slot is refused (`Rejected`, the packet back),
//! so a driver keeps as many slots as it allows sends in flight.
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
use ndis_sys::BOOLEAN;

use crate::error::{Error, Status};
use crate::wfp::{Completed, Injectable, InjectionHandle, Parts, Rejected};

/// Storage for one send injection's parameters, from the injection to its
/// completion.
///
/// # Invariants
///
/// While `busy`, the cells are the pending injection's: written before the
/// DDI call by the injection that set `busy`, read by its completion, which
/// clears `busy` last.
pub struct SendSlot {
    busy: AtomicBool,
    params: UnsafeCell<MaybeUninit<FWPS_TRANSPORT_SEND_PARAMS1>>,
    remote: UnsafeCell<[u8; 16]>,
    control: UnsafeCell<[u8; SEND_CONTROL_MAX]>,
    parts: UnsafeCell<MaybeUninit<Parts>>,
    done: UnsafeCell<*mut c_void>,
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
            parts: UnsafeCell::new(MaybeUninit::uninit()),
            done: UnsafeCell::new(core::ptr::null_mut()),
        }
    }

    /// Whether an injection through it is pending.
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

/// The completion of a Send1 injection.
///
/// # Safety
///
/// `ctx` is the `SendSlot` the injection filled for this NBL.
unsafe extern "system" fn completion<T: Injectable>(ctx: *mut c_void, nbl: *mut NET_BUFFER_LIST, dispatch: BOOLEAN) {
    let (Some(nbl), Some(slot)) = (NonNull::new(nbl), NonNull::new(ctx.cast::<SendSlot>())) else { return };
    // SAFETY: the caller's guarantee: the slot is this injection's, busy.
    let slot = unsafe { slot.as_ref() };
    // SAFETY: the invariant: written by the injection before the DDI call.
    let (parts, done, status) = unsafe {
        (
            (*slot.parts.get()).assume_init_read(),
            core::mem::transmute::<*mut c_void, fn(Completed<T>)>(*slot.done.get()),
            *ndis_sys::NET_BUFFER_LIST_STATUS(nbl.as_ptr()),
        )
    };
    slot.busy.store(false, Ordering::Release);
    let dispatch = dispatch != 0;
    // SAFETY: the parts `into_parts` gave for this NBL.
    let packet = unsafe { T::from_parts(nbl, parts, dispatch) };
    done(Completed { packet, status, dispatch });
}

impl InjectionHandle {
    /// `FwpsInjectTransportSendAsync1` of `packet` to `to`, from
    /// `endpoint` (0 for none) in `compartment`, with its parameters in
    /// `slot` until the completion, which gives the packet back to `done`.
    pub fn inject_transport_send1<T: Injectable>(
        &self,
        packet: T,
        slot: &'static SendSlot,
        endpoint: u64,
        compartment: i32,
        to: SendTo<'_>,
        done: fn(Completed<T>),
    ) -> Result<(), Rejected<T>> {
        if to.control.len() > SEND_CONTROL_MAX {
            return Err(Rejected { error: Error::InvalidArgument, packet });
        }
        let control_len = to.control.len() as u32;
        if slot.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(Rejected { error: Error::NoResources, packet });
        }
        let family = match to.remote {
            IpAddr::V4(_) => AF_INET,
            IpAddr::V6(_) => AF_INET6,
        };
        let (nbl, parts) = packet.into_parts();
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
            (*slot.parts.get()).write(parts);
            *slot.done.get() = done as *mut c_void;
            (*slot.params.get()).write(FWPS_TRANSPORT_SEND_PARAMS1 {
                remoteAddress: remote.as_mut_ptr(),
                remoteScopeId: scope,
                controlData: if to.control.is_empty() { core::ptr::null_mut() } else { control.as_mut_ptr().cast() },
                controlDataLength: control_len,
                headerIncludeHeader: core::ptr::null_mut(),
                headerIncludeHeaderLength: 0,
            })
        };
        // SAFETY: a live handle; the NBL goes to the stack and comes back
        // through `completion::<T>` with the slot, whose parameters (remote
        // address and control data copies included) stay valid and
        // unchanged until then.
        let status = unsafe {
            FwpsInjectTransportSendAsync1(
                self.as_raw(),
                core::ptr::null_mut(),
                endpoint,
                0,
                params,
                family,
                compartment,
                nbl.as_ptr(),
                Some(completion::<T>),
                core::ptr::from_ref(slot).cast_mut().cast(),
            )
        };
        if let Err(s) = Status::result(status) {
            // Refused: the completion will not run; take the packet back.
            // SAFETY: the parts written above, read once.
            let parts = unsafe { (*slot.parts.get()).assume_init_read() };
            slot.busy.store(false, Ordering::Release);
            // SAFETY: the parts `into_parts` gave for this NBL, which is ours again.
            let packet = unsafe { T::from_parts(nbl, parts, false) };
            return Err(Rejected { error: Error::Status(s), packet });
        }
        Ok(())
    }
}
