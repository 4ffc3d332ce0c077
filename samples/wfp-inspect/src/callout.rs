//! The callout, registered at the four transport layers with one classify
//! function, on ndis-safe's typed callout API (a
//! [`MultiLayerCallout`] over [`TransportLayers`]): typed classify inputs,
//! the decision as a value, and the state it keeps.
//!
//! Inbound (the inbound transport layers), the stack lends the datagram
//! with its data at the payload — after the IP *and* the transport header,
//! the layer's documented offset — so the clone is made after retreating
//! by [`Classify::bytes_to_ip_header`] (both headers), and injected with
//! `FwpsInjectTransportReceiveAsync0` on the interface and sub-interface
//! the layer's incoming values name. Outbound, the data starts at the
//! transport header and the clone is injected with
//! `FwpsInjectTransportSendAsync1`, its send parameters (remote address
//! from the incoming values, remote scope and control data from the
//! metadata) kept in a [`SendSlot`] until the completion. Whatever the
//! callout cannot read (a size or an index the engine did not pass) or
//! cannot do (no clone, no free slot, a refused injection) lets the packet
//! pass uninspected: an inspection callout does not drop traffic it cannot
//! inspect.

use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use fwps_sys::GUID;
use ndis_safe::clone::{Fwps, Unmodifiable};
use ndis_safe::wfp::callout::{At, CalloutFlags, DeviceObject, MultiLayerCallout, Registration, Version};
use ndis_safe::wfp::classify::Classify;
use ndis_safe::wfp::decision::{Action, Decided, Writable};
use ndis_safe::wfp::layer::{
    InboundTransportV4, InboundTransportV6, OutboundTransportV4, OutboundTransportV6, TransportLayers,
};
use ndis_safe::wfp::send::{SendSlot, SendTo};
use ndis_safe::wfp::{ClonedPacket, Completed, InjectionHandle};
use ndis_safe::{BorrowedNbl, ContextArea, NblPool};

/// The inbound callouts' key (filters name it at the inbound transport
/// layers).
pub const CALLOUT_KEY: GUID = crate::callout_key();

/// The outbound callouts' key.
pub const OUTBOUND_KEY: GUID = GUID { Data1: CALLOUT_KEY.Data1 ^ 1, ..CALLOUT_KEY };

/// What each injected clone carries, in its context area: no heap.
#[derive(ContextArea, Debug, Clone, Copy)]
#[context_area(injectable)]
#[repr(C)]
pub struct Flow {
    /// The packet's number, in classify order.
    pub seq: u64,
    /// The layer it was classified at.
    pub layer: u64,
}

/// A clone the callout injects.
pub type Inspected = ClonedPacket<Fwps, Flow, Unmodifiable>;

/// Send injections in flight at most: each holds a slot until its
/// completion; with none free the injection is refused, and the outbound
/// packet passes uninspected.
pub const SEND_SLOTS: usize = 8;

static SLOTS: [SendSlot; SEND_SLOTS] = [const { SendSlot::new() }; SEND_SLOTS];

/// What classify needs: the pool its clones come from and the handle it
/// injects with. Fields drop in order: the injection handle first (which
/// waits for pending injections), then the pool.
pub struct Inspector {
    /// The injection handle.
    pub injection: InjectionHandle,
    /// The clones' pool.
    pub pool: NblPool<Flow>,
    /// Packets injected so far.
    pub injected: AtomicU64,
    /// Packets completed so far.
    pub completed: AtomicU64,
}

impl Inspector {
    /// Makes the pool and the injection handle with the driver's NDIS
    /// handle.
    pub fn new(owner: &ndis_safe::NdisHandle) -> Option<Inspector> {
        let pool = NblPool::new(owner, ndis_safe::NblPoolOptions::new(ndis_safe::Tag(*b"Insp"))).ok()?;
        let injection = InjectionHandle::new(0, ndis_safe::wfp::InjectionTypes::TRANSPORT).ok()?;
        Some(Inspector { injection, pool, injected: AtomicU64::new(0), completed: AtomicU64::new(0) })
    }
}

static INSPECTOR: AtomicPtr<Inspector> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `inspector` the state classify uses. The driver keeps it alive
/// until unload has unregistered the callouts and [`uninstall`]ed it.
pub fn install(inspector: &'static Inspector) {
    INSPECTOR.store(core::ptr::from_ref(inspector).cast_mut(), Ordering::Release);
}

/// Stops classify from using the state.
pub fn uninstall() {
    INSPECTOR.store(core::ptr::null_mut(), Ordering::Release);
}

#[allow(unsafe_code, reason = "the installed state is a `&'static` stored as a pointer")]
fn inspector() -> Option<&'static Inspector> {
    let p = INSPECTOR.load(Ordering::Acquire);
    // SAFETY: only `install` stores a non-NULL pointer, from a `&'static`.
    unsafe { p.as_ref() }
}

fn injected(c: Completed<Inspected>) {
    if let Some(ins) = inspector() {
        ins.completed.fetch_add(1, Ordering::Relaxed);
    }
    // Dropped: the clone is freed, then the reference on the original released.
    drop(c);
}

/// Where the clone goes.
enum To {
    /// Up the receive path, on the interface and sub-interface.
    Receive(u32, u32),
    /// Down the send path, to this remote address (the rest of the send
    /// parameters are read from the classify at the injection).
    Send(core::net::IpAddr),
}

/// The callout: one classify function for the four transport layers, as
/// the WDK's inspect sample registers one `classifyFn` for its callouts and
/// switches on the layer.
pub enum Inspect {}

impl MultiLayerCallout for Inspect {
    type Layers = TransportLayers;

    /// It keeps no flow contexts: no `flowDeleteFn` is registered.
    const FLOW_CONTEXTS: bool = false;

    /// Inbound: the bytes back to the IP header (past both headers) and the
    /// layer's interface indices. Outbound: the send parameters from the
    /// classify. Then the work every layer shares.
    #[inline(always)]
    fn classify<'c>(mut c: Classify<'c, TransportLayers>, action: Action<'c>) -> Decided<'c> {
        let w = match action {
            Action::Writable(w) => w,
            Action::ReadOnly(r) => return r.leave(), // a higher filter decided
        };
        let inbound = c.is::<InboundTransportV4>() || c.is::<InboundTransportV6>();
        let (back, to) = if inbound {
            let (Some(back), Some(interface), Some(sub_interface)) = (
                c.bytes_to_ip_header(),
                c.get(TransportLayers::INTERFACE_INDEX),
                c.get(TransportLayers::SUB_INTERFACE_INDEX),
            ) else {
                return w.continue_(); // cannot reach the IP header: pass uninspected
            };
            (back, To::Receive(interface, sub_interface))
        } else {
            let Some(remote) = c.get(TransportLayers::IP_REMOTE_ADDRESS) else { return w.continue_() };
            (0, To::Send(remote))
        };
        let lent = c.take_data();
        inspect(lent, w, &c, back, to)
    }
}

/// The work of every layer: a packet the driver injected is permitted; any
/// other is cloned `back` bytes before its data, the clone injected `to`
/// where it goes, and the original absorbed. Whatever fails lets the
/// original pass.
#[inline(always)]
fn inspect<'c>(
    lent: Option<BorrowedNbl<'c>>,
    w: Writable<'c>,
    c: &Classify<'c, TransportLayers>,
    back: u32,
    to: To,
) -> Decided<'c> {
    let (layer, family) = (c.layer_id(), c.family().af());
    let (Some(ins), Some(mut lent)) = (inspector(), lent) else { return w.continue_() };
    if ins.injection.state(&lent).is_self_injected() {
        return w.permit(); // ours, back again
    }
    let seq = ins.injected.fetch_add(1, Ordering::Relaxed);
    let flow = Flow { seq, layer: u64::from(layer) };
    let Ok(packet) = lent.reference_and_clone_unmodifiable::<Fwps, Flow>(back, Some(&ins.pool), flow) else {
        return w.continue_(); // could not clone: let it pass uninspected
    };
    let compartment = c.compartment_id().map_or(fwps_sys::DEFAULT_COMPARTMENT_ID, |id| id as i32);
    let injection = &ins.injection;
    // A refused clone is freed at once (its reference on the original
    // released), and the original passes.
    let result = match to {
        To::Send(remote) => {
            // The send parameters the classify gave: the slot keeps a copy.
            let to =
                SendTo { remote, scope: c.remote_scope_id().unwrap_or(0), control: c.control_data().unwrap_or(&[]) };
            let endpoint = c.transport_endpoint_handle().unwrap_or(0);
            injection.inject_transport_send1_or_free(packet, &SLOTS, endpoint, compartment, to, injected)
        }
        To::Receive(interface, sub) => {
            injection.inject_transport_receive_or_free(packet, family, compartment, interface, sub, injected)
        }
    };
    match result {
        Ok(()) => w.absorb(), // the clone goes on in its place
        Err(_) => w.continue_(),
    }
}

/// The callout at `FWPS_LAYER_INBOUND_TRANSPORT_V4`.
pub type InboundV4 = At<Inspect, InboundTransportV4>;
/// The callout at `FWPS_LAYER_INBOUND_TRANSPORT_V6`.
pub type InboundV6 = At<Inspect, InboundTransportV6>;
/// The callout at `FWPS_LAYER_OUTBOUND_TRANSPORT_V4`.
pub type OutboundV4 = At<Inspect, OutboundTransportV4>;
/// The callout at `FWPS_LAYER_OUTBOUND_TRANSPORT_V6`.
pub type OutboundV6 = At<Inspect, OutboundTransportV6>;

/// The four callouts, registered (`FwpsCalloutRegister1`), all with
/// [`Inspect`]'s one classify function; dropping it unregisters them.
pub struct Callouts {
    /// At `FWPS_LAYER_INBOUND_TRANSPORT_V4`.
    pub inbound_v4: Registration<InboundV4>,
    /// At `FWPS_LAYER_INBOUND_TRANSPORT_V6`.
    pub inbound_v6: Registration<InboundV6>,
    /// At `FWPS_LAYER_OUTBOUND_TRANSPORT_V4`.
    pub outbound_v4: Registration<OutboundV4>,
    /// At `FWPS_LAYER_OUTBOUND_TRANSPORT_V6`.
    pub outbound_v6: Registration<OutboundV6>,
}

/// The callout key of each layer: the inbound ones share
/// [`CALLOUT_KEY`]'s first word, the outbound ones [`OUTBOUND_KEY`]'s;
/// the last byte is the family (4 or 6).
pub const fn key(outbound: bool, v6: bool) -> GUID {
    let base = if outbound { OUTBOUND_KEY } else { CALLOUT_KEY };
    let mut data4 = base.Data4;
    data4[7] = if v6 { 6 } else { 4 };
    GUID { Data4: data4, ..base }
}

impl Callouts {
    /// Registers the four callouts with `device`, in one loop (one
    /// registration per layer, all with [`Inspect`]'s functions); on an
    /// error, those registered already are unregistered.
    pub fn register(device: DeviceObject) -> ndis_safe::Result<Callouts> {
        let keys = [key(false, false), key(false, true), key(true, false), key(true, true)];
        let [inbound_v4, inbound_v6, outbound_v4, outbound_v6] =
            Registration::<InboundV4>::register_each(device, keys, CalloutFlags::NONE, Version::V1)?;
        Ok(Callouts {
            inbound_v4,
            inbound_v6: inbound_v6.into_layer(),
            outbound_v4: outbound_v4.into_layer(),
            outbound_v6: outbound_v6.into_layer(),
        })
    }

    /// Unregisters the four callouts; `false` when one was still
    /// referenced by filters (`FwpsCalloutUnregisterById0` said
    /// `STATUS_DEVICE_BUSY`; the unload must delete the filters first).
    pub fn unregister(self) -> bool {
        let a = self.inbound_v4.unregister().is_ok();
        let b = self.inbound_v6.unregister().is_ok();
        let c = self.outbound_v4.unregister().is_ok();
        let d = self.outbound_v6.unregister().is_ok();
        a && b && c && d
    }
}
