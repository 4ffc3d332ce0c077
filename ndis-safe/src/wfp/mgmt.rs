//! The kernel-mode management API as owned objects: an [`Engine`] session
//! (closed on drop), transactions scoped to a closure (committed when it
//! returns `Ok`, aborted when it returns `Err`), and [`SubLayer`],
//! [`CalloutObject`] and [`Filter`] values that borrow their session and
//! delete what they added when dropped. Filters are typed by their layer:
//! their conditions are [`Condition`]s and their callout a
//! [`Registration`] at that layer, named by the key it was registered
//! under: a registration keeps only its run-time id, and the driver passes
//! its callout key (a constant, as a C driver fills `calloutKey`) where
//! the filter or callout object is added. A key that is not the
//! registration's names another callout (or none: the engine refuses the
//! filter) — a logic error the types do not catch, never a memory error.
//!
//! Leaks: a forgotten object stays in the engine (a filter keeps its
//! callout referenced, so the callout's unregistration is `Busy`); a
//! forgotten [`Engine`] is never closed (a dynamic session's objects stay).
//! Nothing depends on a destructor for safety: the handles are engine
//! cookies. A filter added in a transaction that is then aborted is gone;
//! its drop's delete finds nothing and is ignored.

use core::marker::PhantomData;
use core::net::{Ipv4Addr, Ipv6Addr};

use fwps_sys::*;

use crate::error::{Error, Result, Status};
use crate::wfp::callout::{Callout, Registration};
use crate::wfp::layer::{Family, Layer};

fn check(status: i32) -> Result<()> {
    Status::result(status).map_err(Error::Status)
}

/// A session with the filter engine (`FwpmEngineOpen0`), closed on drop
/// (`FwpmEngineClose0`).
///
/// # Invariants
///
/// `handle` is an open session this value owns.
pub struct Engine {
    handle: HANDLE,
}

// SAFETY: a session handle may be used and closed from any thread at PASSIVE_LEVEL.
unsafe impl Send for Engine {}
// SAFETY: the management DDIs serialize on the session themselves.
unsafe impl Sync for Engine {}

/// A transaction in progress on an [`Engine`]; objects are added through
/// its engine ([`Transaction::engine`]).
pub struct Transaction<'e> {
    engine: &'e Engine,
    _not_send: PhantomData<*const ()>,
}

impl<'e> Transaction<'e> {
    /// The session the transaction runs on.
    #[inline]
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }
}

#[allow(unsafe_code, reason = "the management DDIs")]
impl Engine {
    /// Opens a session; a `dynamic` one (`FWPM_SESSION_FLAG_DYNAMIC`)
    /// removes every object it added when it is closed.
    pub fn open(dynamic: bool) -> Result<Engine> {
        // SAFETY: an all-zero FWPM_SESSION0 is a valid default session.
        let mut session: FWPM_SESSION0 = unsafe { core::mem::zeroed() };
        if dynamic {
            session.flags = FWPM_SESSION_FLAG_DYNAMIC;
        }
        let mut handle: HANDLE = core::ptr::null_mut();
        // SAFETY: a local session record; `handle` is writable. RPC_C_AUTHN_DEFAULT.
        check(unsafe {
            FwpmEngineOpen0(core::ptr::null(), 0xFFFF_FFFF, core::ptr::null_mut(), &session, &mut handle)
        })?;
        Ok(Engine { handle })
    }

    /// The raw session handle.
    #[inline]
    pub fn as_raw(&self) -> HANDLE {
        self.handle
    }

    /// Runs `f` in a transaction: committed when `f` returns `Ok` (a failed
    /// commit is the error), aborted when it returns `Err`. The scope, not
    /// a guard, ends the transaction; an unwinding `f` aborts it too.
    pub fn transaction<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        // SAFETY: our open session.
        check(unsafe { FwpmTransactionBegin0(self.handle, 0) })?;
        struct Abort(HANDLE, bool);
        impl Drop for Abort {
            fn drop(&mut self) {
                if self.1 {
                    // SAFETY: the session's transaction in progress.
                    let _ = unsafe { FwpmTransactionAbort0(self.0) };
                }
            }
        }
        let mut abort = Abort(self.handle, true);
        let r = f(&Transaction { engine: self, _not_send: PhantomData });
        abort.1 = false;
        match r {
            Ok(v) => {
                // SAFETY: the session's transaction in progress.
                check(unsafe { FwpmTransactionCommit0(self.handle) })?;
                Ok(v)
            }
            Err(e) => {
                // SAFETY: as above.
                let _ = unsafe { FwpmTransactionAbort0(self.handle) };
                Err(e)
            }
        }
    }
}

impl Drop for Engine {
    #[allow(unsafe_code, reason = "closing the session")]
    fn drop(&mut self) {
        // SAFETY: the invariant: ours, closed once.
        let _ = unsafe { FwpmEngineClose0(self.handle) };
    }
}

/// A provider (`FwpmProviderAdd0`), deleted on drop.
pub struct Provider<'e> {
    engine: &'e Engine,
    key: GUID,
}

impl<'e> Provider<'e> {
    /// Adds provider `key`.
    pub fn add(engine: &'e Engine, key: GUID) -> Result<Provider<'e>> {
        // SAFETY: an all-zero FWPM_PROVIDER0 is valid (no display data, no service).
        let mut p: FWPM_PROVIDER0 = unsafe { core::mem::zeroed() };
        p.providerKey = key;
        // SAFETY: a complete local record; no security descriptor.
        check(unsafe { FwpmProviderAdd0(engine.handle, &p, core::ptr::null_mut()) })?;
        Ok(Provider { engine, key })
    }

    /// Its key.
    #[inline]
    pub fn key(&self) -> GUID {
        self.key
    }
}

impl Drop for Provider<'_> {
    fn drop(&mut self) {
        // SAFETY: the session is borrowed, so open; the key is ours.
        let _ = unsafe { FwpmProviderDeleteByKey0(self.engine.handle, &self.key) };
    }
}

/// A sublayer (`FwpmSubLayerAdd0`), deleted on drop.
pub struct SubLayer<'e> {
    engine: &'e Engine,
    key: GUID,
}

#[allow(unsafe_code, reason = "the management DDIs")]
impl<'e> SubLayer<'e> {
    /// Adds a sublayer `key` of `weight`.
    pub fn add(engine: &'e Engine, key: GUID, weight: u16) -> Result<SubLayer<'e>> {
        // SAFETY: an all-zero FWPM_SUBLAYER0 is valid (no display data, no provider).
        let mut s: FWPM_SUBLAYER0 = unsafe { core::mem::zeroed() };
        s.subLayerKey = key;
        s.weight = weight;
        // SAFETY: a complete local record; no security descriptor.
        check(unsafe { FwpmSubLayerAdd0(engine.handle, &s, core::ptr::null_mut()) })?;
        Ok(SubLayer { engine, key })
    }

    /// Its key.
    #[inline]
    pub fn key(&self) -> GUID {
        self.key
    }
}

impl Drop for SubLayer<'_> {
    #[allow(unsafe_code, reason = "deleting it")]
    fn drop(&mut self) {
        // SAFETY: the session is borrowed, so open; the key is ours.
        let _ = unsafe { FwpmSubLayerDeleteByKey0(self.engine.handle, &self.key) };
    }
}

/// The management object of a registered callout (`FwpmCalloutAdd0` at
/// its layer), deleted on drop.
pub struct CalloutObject<'e> {
    engine: &'e Engine,
    key: GUID,
}

#[allow(unsafe_code, reason = "the management DDIs")]
impl<'e> CalloutObject<'e> {
    /// Adds the callout object of `registration`, registered under `key`,
    /// at its layer.
    pub fn add<C: Callout>(engine: &'e Engine, registration: &Registration<C>, key: GUID) -> Result<CalloutObject<'e>> {
        let _ = registration;
        // SAFETY: an all-zero FWPM_CALLOUT0 is valid.
        let mut c: FWPM_CALLOUT0 = unsafe { core::mem::zeroed() };
        c.calloutKey = key;
        c.applicableLayer = C::Layer::KEY;
        // SAFETY: a complete local record.
        check(unsafe { FwpmCalloutAdd0(engine.handle, &c, core::ptr::null_mut(), core::ptr::null_mut()) })?;
        Ok(CalloutObject { engine, key: c.calloutKey })
    }
}

impl Drop for CalloutObject<'_> {
    #[allow(unsafe_code, reason = "deleting it")]
    fn drop(&mut self) {
        // SAFETY: the session is borrowed, so open.
        let _ = unsafe { FwpmCalloutDeleteByKey0(self.engine.handle, &self.key) };
    }
}

/// A filter condition at layer `L`: the field must equal the value.
pub struct Condition<L: Layer> {
    key: GUID,
    value: ConditionValue,
    _l: PhantomData<fn() -> L>,
}

#[derive(Clone, Copy)]
enum ConditionValue {
    U8(u8),
    U16(u16),
    U32(u32),
    V6([u8; 16]),
}

impl<L: Layer> Condition<L> {
    fn new(key: GUID, value: ConditionValue) -> Self {
        Condition { key, value, _l: PhantomData }
    }

    /// `FWPM_CONDITION_IP_PROTOCOL`.
    pub fn protocol(p: u8) -> Self {
        Self::new(FWPM_CONDITION_IP_PROTOCOL, ConditionValue::U8(p))
    }
    /// `FWPM_CONDITION_IP_LOCAL_PORT`.
    pub fn local_port(p: u16) -> Self {
        Self::new(FWPM_CONDITION_IP_LOCAL_PORT, ConditionValue::U16(p))
    }
    /// `FWPM_CONDITION_IP_REMOTE_PORT`.
    pub fn remote_port(p: u16) -> Self {
        Self::new(FWPM_CONDITION_IP_REMOTE_PORT, ConditionValue::U16(p))
    }
    /// `FWPM_CONDITION_INTERFACE_INDEX`.
    pub fn interface_index(i: u32) -> Self {
        Self::new(FWPM_CONDITION_INTERFACE_INDEX, ConditionValue::U32(i))
    }
    /// `FWPM_CONDITION_SUB_INTERFACE_INDEX`.
    pub fn sub_interface_index(i: u32) -> Self {
        Self::new(FWPM_CONDITION_SUB_INTERFACE_INDEX, ConditionValue::U32(i))
    }
}

/// Layers of a family take addresses of that family only.
pub trait AddressOf<L: Layer> {
    #[doc(hidden)]
    fn value(self) -> ConditionValueRepr;
}
#[doc(hidden)]
pub struct ConditionValueRepr(ConditionValue);

macro_rules! v4_layers {
    ($($l:ident),*) => {$(
        impl AddressOf<crate::wfp::layer::$l> for Ipv4Addr {
            fn value(self) -> ConditionValueRepr { ConditionValueRepr(ConditionValue::U32(u32::from(self))) }
        }
    )*};
}
macro_rules! v6_layers {
    ($($l:ident),*) => {$(
        impl AddressOf<crate::wfp::layer::$l> for Ipv6Addr {
            fn value(self) -> ConditionValueRepr { ConditionValueRepr(ConditionValue::V6(self.octets())) }
        }
    )*};
}
v4_layers!(
    InboundIppacketV4,
    OutboundIppacketV4,
    InboundTransportV4,
    OutboundTransportV4,
    DatagramDataV4,
    StreamV4,
    AleAuthConnectV4,
    AleAuthRecvAcceptV4,
    AleFlowEstablishedV4,
    AleConnectRedirectV4
);
v6_layers!(
    InboundIppacketV6,
    OutboundIppacketV6,
    InboundTransportV6,
    OutboundTransportV6,
    DatagramDataV6,
    StreamV6,
    AleAuthConnectV6,
    AleAuthRecvAcceptV6,
    AleFlowEstablishedV6,
    AleConnectRedirectV6
);

impl<L: Layer> Condition<L> {
    /// `FWPM_CONDITION_IP_REMOTE_ADDRESS`: an address of the layer's family.
    pub fn remote_address(a: impl AddressOf<L>) -> Self {
        Self::new(FWPM_CONDITION_IP_REMOTE_ADDRESS, a.value().0)
    }
    /// `FWPM_CONDITION_IP_LOCAL_ADDRESS`: an address of the layer's family.
    pub fn local_address(a: impl AddressOf<L>) -> Self {
        Self::new(FWPM_CONDITION_IP_LOCAL_ADDRESS, a.value().0)
    }
    /// The family the layer's addresses are of.
    pub fn family() -> Family {
        L::FAMILY
    }
}

/// What a filter at layer `L` does.
pub struct FilterAction<L: Layer> {
    kind: u32,
    key: GUID,
    _l: PhantomData<fn() -> L>,
}

impl<L: Layer> FilterAction<L> {
    /// `FWP_ACTION_PERMIT`.
    pub fn permit() -> Self {
        FilterAction { kind: FWP_ACTION_PERMIT, key: GUID::default(), _l: PhantomData }
    }
    /// `FWP_ACTION_BLOCK`.
    pub fn block() -> Self {
        FilterAction { kind: FWP_ACTION_BLOCK, key: GUID::default(), _l: PhantomData }
    }
    /// `FWP_ACTION_CALLOUT_TERMINATING`: the callout, registered at this
    /// layer under `key`, decides.
    pub fn callout<C: Callout<Layer = L>>(registration: &Registration<C>, key: GUID) -> Self {
        let _ = registration;
        FilterAction { kind: FWP_ACTION_CALLOUT_TERMINATING, key, _l: PhantomData }
    }
    /// `FWP_ACTION_CALLOUT_INSPECTION`: the callout, registered at this
    /// layer under `key`, inspects (it may only continue or block).
    pub fn inspect<C: Callout<Layer = L>>(registration: &Registration<C>, key: GUID) -> Self {
        let _ = registration;
        FilterAction { kind: FWP_ACTION_CALLOUT_INSPECTION, key, _l: PhantomData }
    }
}

/// A filter at layer `L` (`FwpmFilterAdd0`), deleted on drop
/// (`FwpmFilterDeleteById0`).
pub struct Filter<'e, L: Layer> {
    engine: &'e Engine,
    id: u64,
    _l: PhantomData<fn() -> L>,
}

#[allow(unsafe_code, reason = "the management DDIs")]
impl<'e, L: Layer> Filter<'e, L> {
    /// Adds a filter in `sublayer` of `weight` (an `FWP_UINT64` weight)
    /// matching all `conditions`, with `action`; `context` is its
    /// `rawContext`, which its callout reads
    /// ([`FilterInfo::context`](crate::wfp::classify::FilterInfo::context)).
    pub fn add(
        engine: &'e Engine,
        sublayer: &SubLayer<'_>,
        weight: u64,
        conditions: &[Condition<L>],
        action: FilterAction<L>,
        context: u64,
    ) -> Result<Filter<'e, L>> {
        /// At most this many conditions (on the stack, no allocation).
        const MAX: usize = 8;
        if conditions.len() > MAX {
            return Err(Error::InvalidArgument);
        }
        let mut v6 = [FWP_BYTE_ARRAY16::default(); MAX];
        // SAFETY: all-zero conditions are valid records (overwritten below).
        let mut raw: [FWPM_FILTER_CONDITION0; MAX] = unsafe { core::mem::zeroed() };
        for (c, (r, b)) in conditions.iter().zip(raw.iter_mut().zip(v6.iter_mut())) {
            r.fieldKey = c.key;
            r.matchType = FWP_MATCH_EQUAL;
            match c.value {
                ConditionValue::U8(x) => {
                    r.conditionValue.type_ = FWP_UINT8;
                    r.conditionValue.__bindgen_anon_1.uint8 = x;
                }
                ConditionValue::U16(x) => {
                    r.conditionValue.type_ = FWP_UINT16;
                    r.conditionValue.__bindgen_anon_1.uint16 = x;
                }
                ConditionValue::U32(x) => {
                    r.conditionValue.type_ = FWP_UINT32;
                    r.conditionValue.__bindgen_anon_1.uint32 = x;
                }
                ConditionValue::V6(x) => {
                    b.byteArray16 = x;
                    r.conditionValue.type_ = FWP_BYTE_ARRAY16_TYPE;
                    r.conditionValue.__bindgen_anon_1.byteArray16 = b;
                }
            }
        }
        // SAFETY: an all-zero FWPM_FILTER0 is valid (no display data, no provider).
        let mut f: FWPM_FILTER0 = unsafe { core::mem::zeroed() };
        let mut weight = weight;
        f.layerKey = L::KEY;
        f.subLayerKey = sublayer.key;
        f.weight.type_ = FWP_UINT64;
        f.weight.__bindgen_anon_1.uint64 = &mut weight;
        f.numFilterConditions = conditions.len() as u32;
        f.filterCondition = if conditions.is_empty() { core::ptr::null_mut() } else { raw.as_mut_ptr() };
        f.action.type_ = action.kind;
        f.action.__bindgen_anon_1.calloutKey = action.key;
        f.__bindgen_anon_1.rawContext = context;
        let mut id = 0u64;
        // SAFETY: a complete local record whose pointers (conditions, their
        // IPv6 values, the weight) live across the call.
        check(unsafe { FwpmFilterAdd0(engine.handle, &f, core::ptr::null_mut(), &mut id) })?;
        Ok(Filter { engine, id, _l: PhantomData })
    }

    /// Its run-time id (what classify's [`FilterInfo::id`](crate::wfp::classify::FilterInfo::id) says).
    #[inline]
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<L: Layer> Drop for Filter<'_, L> {
    #[allow(unsafe_code, reason = "deleting it")]
    fn drop(&mut self) {
        // SAFETY: the session is borrowed, so open.
        let _ = unsafe { FwpmFilterDeleteById0(self.engine.handle, self.id) };
    }
}
