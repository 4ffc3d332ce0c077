//! Callouts as types, registered as owned values.
//!
//! A callout is a type implementing [`Callout`]: its layer, its classify
//! (which gets a typed [`Classify`] and an [`Action`] and must return the
//! [`Decided`] of that call), and optionally its notify and flow-delete
//! handlers. [`Registration::register`] registers it with
//! `FwpsCalloutRegister0`–`3` (the [`Version`] picks the DDI and so the
//! classify signature the engine calls): the library's own `extern
//! "system"` functions, generic over the callout, are what the engine
//! calls, so driver code has no `unsafe`.
//!
//! # One layer, or one classify for several layers
//!
//! A [`Callout`] has one layer: its classify gets a
//! [`Classify`] of that layer, whose fields and data offset are known at
//! compile time, and the engine calls a classify function made for it
//! alone. That is the form for a callout whose work differs from layer to
//! layer (an ALE connect firewall, a stream inspector).
//!
//! A callout that does the same work at several layers — the inspect
//! pattern at the four transport layers, a logger at both families of an
//! ALE layer — is a [`MultiLayerCallout`]: its classify gets a
//! [`Classify`] of a layer *set* ([`TransportLayers`](crate::wfp::layer::TransportLayers), …),
//! which knows its layer at run time from `inFixedValues->layerId` (read
//! once), reads the fields all the layers have through the set's index
//! table (type tags checked as ever), and the fields of one layer as
//! `None` at the others. It is registered once per layer, as
//! [`Registration<At<M, L>>`](At) for each layer `L` of the set (each under
//! its own callout key, each an ordinary registration that filters and
//! flow contexts name), and every one of them registers the *same*
//! classify function — as a C driver registers one `classifyFn` for
//! several callouts and switches on the layer id — so the driver carries
//! one classify, not one per layer. [`Registration::register_each`]
//! registers them in one loop (all or none) and
//! [`Registration::into_layer`] gives each its layer's type.
//!
//! Unregistration: `FwpsCalloutUnregisterById0` returns
//! `STATUS_DEVICE_BUSY` while filters reference the callout or classifies
//! are in progress. [`Registration::unregister`] hands the registration
//! back in [`Busy`] then, for the driver to delete its filters (or wait)
//! and retry; unload must not finish before it succeeds. Dropping a
//! registration tries once and ignores the result; leaking one leaves the
//! callout registered (its functions are the driver's `'static` code), a
//! leak the simulator lists.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;

use fwps_sys::*;

use crate::error::{Error, Result, Status};
use crate::wfp::classify::{Classify, FilterInfo};
use crate::wfp::decision::{Action, Decided};
use crate::wfp::layer::{Layer, Layers, MemberOf};

/// `STATUS_DEVICE_BUSY`.
pub const STATUS_DEVICE_BUSY: i32 = 0x8000_0011_u32 as i32;

/// A callout driver's callout.
pub trait Callout: Sized + 'static {
    /// The layer it is registered at (the filters that use it must be
    /// added there; a classify at another layer is left untouched).
    type Layer: Layer;

    /// Classifies one packet or connection: reads `classify`, decides
    /// through `action`, and returns the proof.
    fn classify<'c>(classify: Classify<'c, Self::Layer>, action: Action<'c>) -> Decided<'c>;

    /// A filter using the callout was added or deleted. An `Err` refuses
    /// the filter's addition.
    #[inline]
    fn notify(_event: Notify, _filter_id: u64) -> core::result::Result<(), Status> {
        Ok(())
    }

    /// Whether it associates flow contexts (`FwpsFlowAssociateContext0`,
    /// [`FlowTable`](crate::wfp::flow::FlowTable)). `false` registers no
    /// `flowDeleteFn` (NULL, as a C callout without flow contexts does) and
    /// `flow_delete` is never called: say so only of a callout that
    /// associates none ([`FlowTable::associate`](crate::wfp::flow::FlowTable::associate)
    /// refuses such a callout: a context would have nothing to free it
    /// when its flow ends). Known at compile time; `true` unless the
    /// callout says otherwise.
    const FLOW_CONTEXTS: bool = true;

    /// A flow with a context from this callout ended
    /// (`flowDeleteFn`); `context` is what was associated.
    #[inline]
    fn flow_delete(_layer: u16, _context: u64) {}

    /// The functions registered for it: its own classify, notify and
    /// flow-delete functions, or, for an [`At`], those its
    /// [`MultiLayerCallout`] shares among its layers.
    #[doc(hidden)]
    const ENTRY: Entry = Entry::of::<trampolines::Single<Self>>();
}

/// A callout that does the same work at several layers, with one classify
/// function for all of them (see the [module documentation](self)): its
/// classify gets a [`Classify`] of the layer set `Layers`. Registered once
/// per layer as [`At<Self, L>`](At).
///
/// Its classify is called from one place, the classify function every
/// registration shares: marking it `#[inline(always)]` compiles it into
/// that function (the typed view then lives in registers, not copied to
/// the stack for a call), as the WDK sample's one `classifyFn` is one
/// function.
pub trait MultiLayerCallout: Sized + 'static {
    /// The layers it is registered at ([`TransportLayers`](crate::wfp::layer::TransportLayers), …).
    type Layers: Layers;

    /// Classifies one packet or connection at one of the layers
    /// ([`Classify::layer_id`], [`Classify::is`]): reads `classify`,
    /// decides through `action`, and returns the proof.
    fn classify<'c>(classify: Classify<'c, Self::Layers>, action: Action<'c>) -> Decided<'c>;

    /// A filter using one of its registrations was added or deleted. An
    /// `Err` refuses the filter's addition.
    #[inline]
    fn notify(_event: Notify, _filter_id: u64) -> core::result::Result<(), Status> {
        Ok(())
    }

    /// Whether its registrations associate flow contexts (`FwpsFlowAssociateContext0`,
    /// [`FlowTable`](crate::wfp::flow::FlowTable)). `false` registers no
    /// `flowDeleteFn` (NULL, as a C callout without flow contexts does) and
    /// `flow_delete` is never called: say so only of a callout that
    /// associates none at any of its layers
    /// ([`FlowTable::associate`](crate::wfp::flow::FlowTable::associate)
    /// refuses its registrations: a context would have nothing to free it
    /// when its flow ends). Known at compile time; `true` unless the
    /// callout says otherwise.
    const FLOW_CONTEXTS: bool = true;

    /// A flow with a context from one of its registrations ended
    /// (`flowDeleteFn`) at `layer`; `context` is what was associated.
    #[inline]
    fn flow_delete(_layer: u16, _context: u64) {}
}

/// The multi-layer callout `M` at its layer `L`: what is registered (one
/// [`Registration<At<M, L>>`](Registration) per layer, each under its own
/// key) and what filters name. Every `At<M, _>` registers the same classify
/// function, `M`'s. Uninhabited.
pub struct At<M, L> {
    _never: core::convert::Infallible,
    _p: PhantomData<fn() -> (M, L)>,
}

impl<M: MultiLayerCallout, L: MemberOf<M::Layers>> Callout for At<M, L> {
    type Layer = L;

    #[inline]
    fn classify<'c>(classify: Classify<'c, L>, action: Action<'c>) -> Decided<'c> {
        M::classify(classify.into_set(), action)
    }

    #[inline]
    fn notify(event: Notify, filter_id: u64) -> core::result::Result<(), Status> {
        M::notify(event, filter_id)
    }

    #[inline]
    fn flow_delete(layer: u16, context: u64) {
        M::flow_delete(layer, context)
    }

    const FLOW_CONTEXTS: bool = M::FLOW_CONTEXTS;

    const ENTRY: Entry = Entry::of::<trampolines::Shared<M>>();
}

/// The functions a registration gives the engine, for each registration
/// DDI. Made by the library only.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Entry {
    classify0: FWPS_CALLOUT_CLASSIFY_FN0,
    classify1: FWPS_CALLOUT_CLASSIFY_FN1,
    classify2: FWPS_CALLOUT_CLASSIFY_FN2,
    classify3: FWPS_CALLOUT_CLASSIFY_FN3,
    notify0: FWPS_CALLOUT_NOTIFY_FN0,
    notify1: FWPS_CALLOUT_NOTIFY_FN1,
    notify2: FWPS_CALLOUT_NOTIFY_FN2,
    notify3: FWPS_CALLOUT_NOTIFY_FN3,
    flow_delete: FWPS_CALLOUT_FLOW_DELETE_NOTIFY_FN0,
}

impl Entry {
    const fn of<H: trampolines::Handler>() -> Entry {
        use trampolines::*;
        Entry {
            classify0: Some(classify0::<H>),
            classify1: Some(classify1::<H>),
            classify2: Some(classify2::<H>),
            classify3: Some(classify3::<H>),
            notify0: Some(notify0::<H>),
            notify1: Some(notify1::<H>),
            notify2: Some(notify2::<H>),
            notify3: Some(notify3::<H>),
            flow_delete: if H::FLOW_CONTEXTS { Some(flow_delete::<H>) } else { None },
        }
    }
}

/// What a notify reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// `FWPS_CALLOUT_NOTIFY_ADD_FILTER`.
    AddFilter,
    /// `FWPS_CALLOUT_NOTIFY_DELETE_FILTER`.
    DeleteFilter,
    /// `FWPS_CALLOUT_NOTIFY_ADD_FILTER_POST_COMMIT`.
    AddFilterPostCommit,
    /// Another value.
    Other(i32),
}

impl Notify {
    fn from_raw(raw: FWPS_CALLOUT_NOTIFY_TYPE) -> Notify {
        match raw {
            FWPS_CALLOUT_NOTIFY_ADD_FILTER => Notify::AddFilter,
            FWPS_CALLOUT_NOTIFY_DELETE_FILTER => Notify::DeleteFilter,
            FWPS_CALLOUT_NOTIFY_ADD_FILTER_POST_COMMIT => Notify::AddFilterPostCommit,
            other => Notify::Other(other),
        }
    }
}

/// Which registration DDI, and so which classify signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `FwpsCalloutRegister0` (`classifyFn0`: no classify context, so no
    /// classify-handle pends).
    V0,
    /// `FwpsCalloutRegister1` (`classifyFn1`, `FWPS_FILTER1`).
    V1,
    /// `FwpsCalloutRegister2` (`classifyFn2`, `FWPS_FILTER2`).
    V2,
    /// `FwpsCalloutRegister3` (`classifyFn3`, `FWPS_FILTER3`).
    V3,
}

/// `FWP_CALLOUT_FLAG_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CalloutFlags(pub u32);

impl CalloutFlags {
    /// No flags.
    pub const NONE: CalloutFlags = CalloutFlags(0);
    /// `FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW`: called only for flows with a context.
    pub const CONDITIONAL_ON_FLOW: CalloutFlags = CalloutFlags(FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW);
    /// `FWP_CALLOUT_FLAG_ALLOW_OFFLOAD`.
    pub const ALLOW_OFFLOAD: CalloutFlags = CalloutFlags(FWP_CALLOUT_FLAG_ALLOW_OFFLOAD);
    /// `FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION`.
    pub const ALLOW_MID_STREAM_INSPECTION: CalloutFlags = CalloutFlags(FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION);
    /// `FWP_CALLOUT_FLAG_ALLOW_RECLASSIFY`.
    pub const ALLOW_RECLASSIFY: CalloutFlags = CalloutFlags(FWP_CALLOUT_FLAG_ALLOW_RECLASSIFY);
}

impl core::ops::BitOr for CalloutFlags {
    type Output = CalloutFlags;
    fn bitor(self, rhs: CalloutFlags) -> CalloutFlags {
        CalloutFlags(self.0 | rhs.0)
    }
}

/// The driver's device object, which the registration DDIs take.
///
/// # Invariants
///
/// Points to the driver's `DEVICE_OBJECT`, live while callouts are
/// registered.
#[derive(Debug, Clone, Copy)]
pub struct DeviceObject(NonNull<c_void>);

// SAFETY: a device object is a kernel object usable from any thread.
unsafe impl Send for DeviceObject {}
// SAFETY: as above.
unsafe impl Sync for DeviceObject {}

impl DeviceObject {
    /// Wraps the driver's device object (from `IoCreateDevice` or
    /// `WdfDeviceWdmGetDeviceObject`, in DriverEntry).
    ///
    /// # Safety
    ///
    /// `ptr` is the driver's device object, and outlives every callout
    /// registered with it.
    #[allow(unsafe_code, reason = "the constructor's contract")]
    #[inline]
    pub unsafe fn from_raw(ptr: NonNull<c_void>) -> DeviceObject {
        DeviceObject(ptr)
    }

    /// The pointer.
    #[inline]
    pub fn as_ptr(self) -> *mut c_void {
        self.0.as_ptr()
    }
}

/// A registered callout, unregistered by [`Registration::unregister`] (or,
/// ignoring the result, on drop).
///
/// It keeps the run-time id only — what unregistration, flow contexts and
/// a classify need. The callout key it was registered under is the
/// driver's (a constant, as in a C driver): the management objects that
/// name the callout take it where they are added
/// ([`FilterAction::callout`](crate::wfp::mgmt::FilterAction::callout),
/// [`CalloutObject::add`](crate::wfp::mgmt::CalloutObject::add)), so a
/// driver whose filters are added from user mode stores no key.
///
/// # Invariants
///
/// `id` is the run-time id the engine gave `C`'s registration, which this
/// value has not unregistered.
pub struct Registration<C: Callout> {
    id: u32,
    _c: PhantomData<fn() -> C>,
}

/// The callout is still referenced (`STATUS_DEVICE_BUSY`): delete the
/// filters that use it, let classifies in progress finish, and retry.
pub struct Busy<C: Callout> {
    /// The registration, still registered.
    pub registration: Registration<C>,
}

impl<C: Callout> core::fmt::Debug for Busy<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Busy(callout {})", self.registration.id)
    }
}

impl<C: Callout> Registration<C> {
    /// Registers `C` under `key` with the DDI `version` names.
    pub fn register(device: DeviceObject, key: GUID, flags: CalloutFlags, version: Version) -> Result<Self> {
        let mut id = 0u32;
        let status = trampolines::register(device.as_ptr(), key, flags.0, version, &C::ENTRY, &mut id);
        Status::result(status).map_err(Error::Status)?;
        Ok(Registration { id, _c: PhantomData })
    }

    /// Registers `C` under each of `keys` (one callout per key, all with
    /// `C`'s functions), in one loop: all of them, or — when one
    /// registration fails — none (those made already are unregistered).
    /// With an [`At`], the way to register a multi-layer callout at every
    /// layer of its set: one registration per layer, each turned to its
    /// layer's type with [`Registration::into_layer`].
    pub fn register_each<const N: usize>(
        device: DeviceObject,
        keys: [GUID; N],
        flags: CalloutFlags,
        version: Version,
    ) -> Result<[Self; N]> {
        let mut ids = [0u32; N];
        for (n, (key, id)) in keys.iter().zip(ids.iter_mut()).enumerate() {
            let status = trampolines::register(device.as_ptr(), *key, flags.0, version, &C::ENTRY, id);
            if let Err(e) = Status::result(status) {
                for made in ids.iter().take(n) {
                    let _ = trampolines::unregister(*made);
                }
                return Err(Error::Status(e));
            }
        }
        Ok(ids.map(|id| Registration { id, _c: PhantomData }))
    }

    /// The run-time callout id (what `FWPM_ACTION0::calloutId` resolves to).
    #[inline]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `FwpsCalloutUnregisterById0`. `Err(Busy)` gives the registration
    /// back when filters still reference the callout or classifies are in
    /// progress.
    pub fn unregister(self) -> core::result::Result<(), Busy<C>> {
        let status = trampolines::unregister(self.id);
        if status == STATUS_DEVICE_BUSY {
            return Err(Busy { registration: self });
        }
        core::mem::forget(self);
        Ok(())
    }
}

impl<M: MultiLayerCallout, L: MemberOf<M::Layers>> Registration<At<M, L>> {
    /// The same registration as `M`'s at another layer `L2` of its set: the
    /// engine's registration is of the classify function, which `M`'s
    /// layers share, not of a layer; the type says at which layer the
    /// filters that name it are added.
    #[inline]
    pub fn into_layer<L2: MemberOf<M::Layers>>(self) -> Registration<At<M, L2>> {
        let me = core::mem::ManuallyDrop::new(self);
        Registration { id: me.id, _c: PhantomData }
    }
}

impl<C: Callout> Drop for Registration<C> {
    fn drop(&mut self) {
        let _ = trampolines::unregister(self.id);
    }
}

#[allow(unsafe_code, reason = "the engine's callbacks: raw pointers in, a typed classify out")]
mod trampolines {
    use super::*;

    /// What the engine's functions call: a callout's own functions, or
    /// those a multi-layer callout shares among its layers.
    pub(crate) trait Handler: 'static {
        type L: Layers;
        const FLOW_CONTEXTS: bool;
        fn classify<'c>(classify: Classify<'c, Self::L>, action: Action<'c>) -> Decided<'c>;
        fn notify(event: Notify, filter_id: u64) -> core::result::Result<(), Status>;
        fn flow_delete(layer: u16, context: u64);
    }

    /// A [`Callout`]'s own functions.
    pub(crate) struct Single<C>(PhantomData<fn() -> C>);

    impl<C: Callout> Handler for Single<C> {
        type L = C::Layer;
        const FLOW_CONTEXTS: bool = C::FLOW_CONTEXTS;
        #[inline(always)]
        fn classify<'c>(classify: Classify<'c, C::Layer>, action: Action<'c>) -> Decided<'c> {
            C::classify(classify, action)
        }
        #[inline(always)]
        fn notify(event: Notify, filter_id: u64) -> core::result::Result<(), Status> {
            C::notify(event, filter_id)
        }
        #[inline(always)]
        fn flow_delete(layer: u16, context: u64) {
            C::flow_delete(layer, context)
        }
    }

    /// A [`MultiLayerCallout`]'s functions, one set for all its layers.
    pub(crate) struct Shared<M>(PhantomData<fn() -> M>);

    impl<M: MultiLayerCallout> Handler for Shared<M> {
        type L = M::Layers;
        const FLOW_CONTEXTS: bool = M::FLOW_CONTEXTS;
        #[inline(always)]
        fn classify<'c>(classify: Classify<'c, M::Layers>, action: Action<'c>) -> Decided<'c> {
            M::classify(classify, action)
        }
        #[inline(always)]
        fn notify(event: Notify, filter_id: u64) -> core::result::Result<(), Status> {
            M::notify(event, filter_id)
        }
        #[inline(always)]
        fn flow_delete(layer: u16, context: u64) {
            M::flow_delete(layer, context)
        }
    }

    #[inline(always)]
    pub(super) fn unregister(id: u32) -> i32 {
        // SAFETY: any id may be passed; the engine checks it.
        unsafe { FwpsCalloutUnregisterById0(id) }
    }

    fn filter_info(id: u64, flags: u16, context: u64, sublayer_weight: u16) -> FilterInfo {
        FilterInfo { id, flags, context, sublayer_weight }
    }

    /// One classify, whatever the signature.
    ///
    /// The pointers are not tested for NULL (but the layer data and the
    /// classify context): the filter engine always passes a classify
    /// function its incoming values, its metadata, the filter and the
    /// classify out (the `classifyFn` contract; only `layerData` and
    /// `classifyContext` may be NULL), and a C callout dereferences them as
    /// given, as the raw twins in this repository do.
    ///
    /// # Safety
    ///
    /// The engine's pointers for one classify call.
    #[inline(always)]
    unsafe fn run<H: Handler>(
        values: *const FWPS_INCOMING_VALUES0,
        meta: *const FWPS_INCOMING_METADATA_VALUES0,
        layer_data: *mut c_void,
        classify_context: *const c_void,
        filter: FilterInfo,
        flow_context: u64,
        out: *mut FWPS_CLASSIFY_OUT0,
    ) {
        // SAFETY: the engine's classify out, valid for the call, never NULL.
        let out = unsafe { &mut *out };
        // SAFETY: the engine's pointers for this call.
        let classify =
            unsafe { Classify::<H::L>::from_raw(values, meta, layer_data, classify_context, filter, flow_context) };
        if let Some(classify) = classify {
            let action = Action::new(out, filter.flags, filter.id);
            let _: Decided<'_> = H::classify(classify, action);
        }
    }

    macro_rules! classify_fn {
        ($name:ident, $filter:ty, ctx) => {
            pub(crate) unsafe extern "system" fn $name<H: Handler>(
                values: *const FWPS_INCOMING_VALUES0,
                meta: *const FWPS_INCOMING_METADATA_VALUES0,
                layer_data: *mut c_void,
                classify_context: *const c_void,
                filter: *const $filter,
                flow_context: u64,
                out: *mut FWPS_CLASSIFY_OUT0,
            ) {
                // SAFETY: the engine's filter for the call, never NULL (see `run`).
                let f = unsafe { &*filter };
                let f = filter_info(f.filterId, f.flags, f.context, f.subLayerWeight);
                // SAFETY: the engine's pointers for this call.
                unsafe { run::<H>(values, meta, layer_data, classify_context, f, flow_context, out) }
            }
        };
    }

    /// `classifyFn0`.
    pub(crate) unsafe extern "system" fn classify0<H: Handler>(
        values: *const FWPS_INCOMING_VALUES0,
        meta: *const FWPS_INCOMING_METADATA_VALUES0,
        layer_data: *mut c_void,
        filter: *const FWPS_FILTER0,
        flow_context: u64,
        out: *mut FWPS_CLASSIFY_OUT0,
    ) {
        // SAFETY: the engine's filter for the call, never NULL (see `run`).
        let f = unsafe { &*filter };
        let f = filter_info(f.filterId, f.flags, f.context, f.subLayerWeight);
        // SAFETY: the engine's pointers for this call; no classify context.
        unsafe { run::<H>(values, meta, layer_data, core::ptr::null(), f, flow_context, out) }
    }
    classify_fn!(classify1, FWPS_FILTER1, ctx);
    classify_fn!(classify2, FWPS_FILTER2, ctx);
    classify_fn!(classify3, FWPS_FILTER3, ctx);

    macro_rules! notify_fn {
        ($name:ident, $filter:ty) => {
            pub(crate) unsafe extern "system" fn $name<H: Handler>(
                kind: FWPS_CALLOUT_NOTIFY_TYPE,
                _key: *const GUID,
                filter: *mut $filter,
            ) -> NTSTATUS {
                // SAFETY: the engine's filter for the call, or NULL.
                let id = unsafe { filter.as_ref() }.map_or(0, |f| f.filterId);
                match H::notify(Notify::from_raw(kind), id) {
                    Ok(()) => 0,
                    Err(s) => s.raw(),
                }
            }
        };
    }
    notify_fn!(notify0, FWPS_FILTER0);
    notify_fn!(notify1, FWPS_FILTER1);
    notify_fn!(notify2, FWPS_FILTER2);
    notify_fn!(notify3, FWPS_FILTER3);

    pub(crate) unsafe extern "system" fn flow_delete<H: Handler>(layer: u16, _callout: u32, context: u64) {
        H::flow_delete(layer, context);
    }

    /// Registers `entry`'s functions under `key` with the DDI `version`
    /// names.
    #[inline]
    pub(super) fn register(
        device: *mut c_void,
        key: GUID,
        flags: u32,
        version: Version,
        entry: &Entry,
        id: &mut u32,
    ) -> i32 {
        macro_rules! reg {
            ($rec:ident, $ddi:ident, $classify:ident, $notify:ident) => {{
                let rec = $rec {
                    calloutKey: key,
                    flags,
                    classifyFn: entry.$classify,
                    notifyFn: entry.$notify,
                    flowDeleteFn: entry.flow_delete,
                };
                // SAFETY: a complete registration record of functions that
                // live as long as the driver; `id` is writable.
                unsafe { $ddi(device, &rec, id) }
            }};
        }
        match version {
            Version::V0 => reg!(FWPS_CALLOUT0, FwpsCalloutRegister0, classify0, notify0),
            Version::V1 => reg!(FWPS_CALLOUT1, FwpsCalloutRegister1, classify1, notify1),
            Version::V2 => reg!(FWPS_CALLOUT2, FwpsCalloutRegister2, classify2, notify2),
            Version::V3 => reg!(FWPS_CALLOUT3, FwpsCalloutRegister3, classify3, notify3),
        }
    }
}
