//! Registration (`NdisFRegisterFilterDriver`) and the `extern "system"`
//! handlers NDIS calls, which call the [`Filter`]'s typed methods.
#![allow(unsafe_code, reason = "the handlers NDIS calls receive raw pointers; registration takes the driver object")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::*;

use super::chain::{Links, RecvChain, SendChain, complete_with, return_down};
use super::{AttachParameters, Filter, Module};
use crate::error::Status;
use crate::nbl::Nbl;

/// A static UTF-16 name for registration: `FriendlyName`, `UniqueName`
/// (the filter's GUID in braces, as its INF gives it) or `ServiceName`.
/// Make one with [`utf16!`](crate::utf16).
#[derive(Debug, Clone, Copy)]
pub struct Name(pub &'static [u16]);

impl Name {
    fn ndis_string(self) -> NDIS_STRING {
        let bytes = u16::try_from(self.0.len() * 2).unwrap_or(!1);
        NDIS_STRING { Length: bytes, MaximumLength: bytes, Buffer: self.0.as_ptr().cast_mut() }
    }
}

/// What a filter registers with: its names and version.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// `FriendlyName`.
    pub friendly: Name,
    /// `UniqueName`: the GUID in the INF (`{…}`).
    pub unique: Name,
    /// `ServiceName`: the driver's service (its `.sys` name without extension).
    pub service: Name,
    /// `MajorDriverVersion`, `MinorDriverVersion`.
    pub version: (u8, u8),
}

/// Turns an ASCII string literal into a `&'static [u16]` at compile time,
/// for [`Name`]: `Name(utf16!("NDIS-RS Filter"))`.
#[macro_export]
macro_rules! utf16 {
    ($s:literal) => {{
        const S: &str = $s;
        const N: usize = S.len();
        const A: [u16; N] = $crate::filter::__ascii_to_utf16::<N>(S);
        &A
    }};
}

/// What [`utf16!`] expands to; not an API. ASCII only: other bytes become
/// `?`.
#[doc(hidden)]
pub const fn __ascii_to_utf16<const N: usize>(s: &str) -> [u16; N] {
    let b = s.as_bytes();
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N && i < b.len() {
        let c = b.split_at(i).1.first();
        if let (Some(c), Some(o)) = (c, out.split_at_mut(i).1.first_mut()) {
            *o = if c.is_ascii() { *c as u16 } else { b'?' as u16 };
        }
        i += 1;
    }
    out
}

/// A registered filter driver (`NdisFRegisterFilterDriver`), deregistered
/// when dropped (`NdisFDeregisterFilterDriver`, which detaches every
/// module first, as NDIS does).
///
/// # Invariants
///
/// `handle` is the `NdisFilterDriverHandle` NDIS returned, deregistered
/// once (by `Drop`).
///
/// # Leaks
///
/// A forgotten registration is never deregistered: the driver cannot
/// unload (its modules stay attached). Nothing is freed early.
pub struct FilterDriver<F: Filter> {
    handle: NonNull<core::ffi::c_void>,
    _f: PhantomData<fn(F) -> F>,
}

// SAFETY: the handle is a plain NDIS handle, usable from any thread at
// PASSIVE_LEVEL (deregistration).
unsafe impl<F: Filter> Send for FilterDriver<F> {}
// SAFETY: `&FilterDriver` only reads the handle.
unsafe impl<F: Filter> Sync for FilterDriver<F> {}

impl<F: Filter> FilterDriver<F> {
    /// Registers `F` as a filter driver with NDIS 6.30 characteristics:
    /// attach, detach, restart, pause, send, send-complete, cancel-send,
    /// receive and return handlers, OID request, OID complete and
    /// cancel-OID handlers, status, network PnP and device PnP handlers
    /// (the library's, calling `F`'s typed methods). Direct OID requests
    /// are not handled, so NDIS passes them by the filter.
    ///
    /// # Safety
    ///
    /// `driver_object` is the driver object `DriverEntry` was given; called
    /// at `PASSIVE_LEVEL`, once per driver.
    pub unsafe fn register(driver_object: PDRIVER_OBJECT, registration: &Registration) -> Result<Self, Status> {
        let mut chars = NDIS_FILTER_DRIVER_CHARACTERISTICS {
            Header: NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS,
                Revision: NDIS_FILTER_CHARACTERISTICS_REVISION_2 as u8,
                Size: NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_2,
            },
            MajorNdisVersion: 6,
            MinorNdisVersion: 30,
            MajorDriverVersion: registration.version.0,
            MinorDriverVersion: registration.version.1,
            Flags: 0,
            FriendlyName: registration.friendly.ndis_string(),
            UniqueName: registration.unique.ndis_string(),
            ServiceName: registration.service.ndis_string(),
            SetOptionsHandler: None,
            SetFilterModuleOptionsHandler: None,
            AttachHandler: Some(attach::<F>),
            DetachHandler: Some(detach::<F>),
            RestartHandler: Some(restart::<F>),
            PauseHandler: Some(pause::<F>),
            SendNetBufferListsHandler: Some(send::<F>),
            SendNetBufferListsCompleteHandler: Some(send_complete::<F>),
            CancelSendNetBufferListsHandler: Some(cancel_send::<F>),
            ReceiveNetBufferListsHandler: Some(receive::<F>),
            ReturnNetBufferListsHandler: Some(return_nbls::<F>),
            OidRequestHandler: Some(oid_request::<F>),
            OidRequestCompleteHandler: Some(oid_request_complete::<F>),
            CancelOidRequestHandler: Some(cancel_oid_request::<F>),
            DevicePnPEventNotifyHandler: Some(device_pnp_event::<F>),
            NetPnPEventHandler: Some(net_pnp_event::<F>),
            StatusHandler: Some(status::<F>),
            DirectOidRequestHandler: None,
            DirectOidRequestCompleteHandler: None,
            CancelDirectOidRequestHandler: None,
        };
        let mut handle = core::ptr::null_mut();
        // SAFETY: the caller's driver object; the characteristics and the
        // names they point to ('static) are valid; NDIS copies them.
        let status =
            unsafe { NdisFRegisterFilterDriver(driver_object, core::ptr::null_mut(), &mut chars, &mut handle) };
        Status::result(status)?;
        let handle = NonNull::new(handle).ok_or(Status::FAILURE)?;
        Ok(FilterDriver { handle, _f: PhantomData })
    }

    /// The `NdisFilterDriverHandle`.
    #[inline]
    pub fn as_raw(&self) -> NDIS_HANDLE {
        self.handle.as_ptr()
    }

    /// Gives up the registration as its handle (to keep in a static from
    /// `DriverEntry` to unload); [`FilterDriver::from_raw`] takes it back.
    #[inline]
    pub fn into_raw(self) -> NDIS_HANDLE {
        let h = self.handle.as_ptr();
        core::mem::forget(self);
        h
    }

    /// Takes back a registration [`FilterDriver::into_raw`] gave up (`None`
    /// for NULL).
    ///
    /// # Safety
    ///
    /// `handle` came from `into_raw` of a `FilterDriver<F>` and is taken
    /// back once.
    #[inline]
    pub unsafe fn from_raw(handle: NDIS_HANDLE) -> Option<Self> {
        NonNull::new(handle).map(|handle| FilterDriver { handle, _f: PhantomData })
    }
}

impl<F: Filter> Drop for FilterDriver<F> {
    fn drop(&mut self) {
        // SAFETY: registered, deregistered once.
        unsafe { NdisFDeregisterFilterDriver(self.handle.as_ptr()) }
    }
}

impl<F: Filter> core::fmt::Debug for FilterDriver<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FilterDriver").field("handle", &self.handle).finish()
    }
}

/// What the library allocates per module: the module, then the filter.
/// `#[repr(C)]` with the module's handle first: a handler reaches the
/// handle with one load from its `FilterModuleContext`, as a raw filter
/// whose context starts with its handle does.
#[repr(C)]
struct Block<F: Filter> {
    module: Module<F>,
    filter: F,
}

/// The module and filter behind a `FilterModuleContext`.
///
/// # Safety
///
/// `ctx` is a context [`attach`] set and [`detach`] has not freed.
unsafe fn block<'a, F: Filter>(ctx: NDIS_HANDLE) -> &'a Block<F> {
    // SAFETY: the caller's guarantee: a live, initialized Block<F>.
    unsafe { &*ctx.cast::<Block<F>>() }
}

unsafe extern "system" fn attach<F: Filter>(
    filter_handle: NDIS_HANDLE,
    _driver_context: NDIS_HANDLE,
    params: PNDIS_FILTER_ATTACH_PARAMETERS,
) -> NDIS_STATUS {
    const { assert!(align_of::<Block<F>>() <= MEMORY_ALLOCATION_ALIGNMENT) };
    let size = size_of::<Block<F>>() as u32;
    // SAFETY: the handle NDIS gives the attach handler; NDIS memory is
    // MEMORY_ALLOCATION_ALIGNMENT-aligned, which the assertion checks suffices.
    let mem = unsafe { NdisAllocateMemoryWithTagPriority(filter_handle, size, F::TAG.raw(), NormalPoolPriority) };
    if mem.is_null() {
        return NDIS_STATUS_RESOURCES;
    }
    let block = mem.cast::<Block<F>>();
    let module = Module::new(filter_handle);
    // SAFETY: NDIS's attach parameters, valid for the call.
    let params = unsafe { AttachParameters::from_raw(params) };
    let filter = match F::attach(&module, &params) {
        Ok(f) => f,
        Err(s) => {
            // SAFETY: the memory just allocated, nothing in it to drop.
            unsafe { NdisFreeMemoryWithTagPriority(filter_handle, mem, F::TAG.raw()) };
            return s.raw();
        }
    };
    // SAFETY: fresh memory of Block<F>'s size and alignment.
    unsafe { block.write(Block { module, filter }) };
    if F::OWN_NBLS {
        // SAFETY: just initialized; NDIS calls no other handler before this
        // returns, so the write of `own_pool` races with nothing.
        unsafe { (*block).module.own_pool = (*block).filter.own_pool().map_or(core::ptr::null_mut(), |p| p.as_raw()) };
    }
    let mut attrs = NDIS_FILTER_ATTRIBUTES {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES,
            Revision: NDIS_FILTER_ATTRIBUTES_REVISION_1 as u8,
            Size: NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1,
        },
        Flags: 0,
    };
    // SAFETY: the handle; the block as FilterModuleContext; valid attributes.
    let status = unsafe { NdisFSetAttributes(filter_handle, mem, &mut attrs) };
    if status != NDIS_STATUS_SUCCESS {
        // SAFETY: the block is initialized and NDIS will not use it.
        unsafe { core::ptr::drop_in_place(block) };
        // SAFETY: allocated above, freed once.
        unsafe { NdisFreeMemoryWithTagPriority(filter_handle, mem, F::TAG.raw()) };
    }
    status
}

unsafe extern "system" fn detach<F: Filter>(ctx: NDIS_HANDLE) {
    let block = ctx.cast::<Block<F>>();
    // SAFETY: the module's context; NDIS detaches a paused module with
    // nothing in flight and calls no handler of it after this one.
    let Block { module, filter } = unsafe { block.read() };
    filter.detach(&module);
    // SAFETY: allocated by attach with this handle and tag; freed once.
    unsafe { NdisFreeMemoryWithTagPriority(module.as_raw(), ctx, F::TAG.raw()) };
}

unsafe extern "system" fn restart<F: Filter>(
    ctx: NDIS_HANDLE,
    _params: PNDIS_FILTER_RESTART_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    if !b.module.begin_restart() {
        return NDIS_STATUS_FAILURE;
    }
    let r = b.filter.restart(&b.module);
    b.module.end_restart(r.is_ok());
    match r {
        Ok(()) => NDIS_STATUS_SUCCESS,
        Err(s) => s.raw(),
    }
}

unsafe extern "system" fn pause<F: Filter>(ctx: NDIS_HANDLE, _params: PNDIS_FILTER_PAUSE_PARAMETERS) -> NDIS_STATUS {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    b.module.begin_pause();
    b.filter.pause(&b.module);
    if b.module.end_pause() { NDIS_STATUS_SUCCESS } else { NDIS_STATUS_PENDING }
}

unsafe extern "system" fn send<F: Filter>(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    flags: ULONG,
) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    if b.module.running() {
        // SAFETY: NDIS calls the send handler with a chain of one NBL or
        // more (never NULL), as a raw filter that passes it on relies on.
        let head = unsafe { NonNull::new_unchecked(nbls) };
        // SAFETY: the chain NDIS hands this module for the call.
        let chain = unsafe { SendChain::new(&b.module, head, port, flags) };
        b.filter.send(&b.module, chain);
    } else {
        // SAFETY: as above; ended here once.
        unsafe { refuse_send(&b.module, nbls, flags) };
    }
}

/// A send to a module that is not running: completed at once with
/// `NDIS_STATUS_PAUSED`, as a pausing or paused filter must.
///
/// # Safety
///
/// `nbls` is the send handler's chain, handed to `module` for the call.
#[cold]
#[inline(never)]
unsafe fn refuse_send<F: Filter>(module: &Module<F>, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the caller's guarantee: owned for the call, ended here once.
    unsafe { complete_with(module, NonNull::new(nbls), NDIS_STATUS_PAUSED, flags) };
}

unsafe extern "system" fn send_complete<F: Filter>(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    if !F::OWN_NBLS {
        // No own NBLs: everything back is passed through, completed up as
        // it came (one call, as a raw pass-through filter does).
        // SAFETY: the module's handle; NBLs it sent down from above, back
        // to it, handed back once with the flags NDIS gave.
        unsafe { NdisFSendNetBufferListsComplete(b.module.as_raw(), nbls, flags) };
        return;
    }
    // The NBLs this module sent down, back to it (split reads the head alone).
    let links = Links::head(nbls);
    let handle = b.module.as_raw();
    // SAFETY: ours again: the own ones by SourceHandle, the rest passed through.
    let (own, through) = unsafe { links.split(|nbl| source_handle(nbl) == handle) };
    if let Some(h) = through.head {
        // SAFETY: passed-through NBLs back to the module, handed back once.
        unsafe { NdisFSendNetBufferListsComplete(handle, h.as_ptr(), flags) };
    }
    give_own(b, own, F::own_completed);
}

unsafe extern "system" fn cancel_send<F: Filter>(ctx: NDIS_HANDLE, cancel_id: PVOID) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // The library holds no sends past a handler call: pass the cancel down.
    // SAFETY: the module's handle; the id as given.
    unsafe { NdisFCancelSendNetBufferLists(b.module.as_raw(), cancel_id) };
}

unsafe extern "system" fn receive<F: Filter>(
    ctx: NDIS_HANDLE,
    nbls: PNET_BUFFER_LIST,
    port: NDIS_PORT_NUMBER,
    count: ULONG,
    flags: ULONG,
) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // Receives come from below, where the miniport still runs while this
    // module pauses: the call is counted for its duration, so a pause that
    // starts meanwhile completes only once the call is over — never while
    // the filter is still passing the chain up (sends need no count: the
    // overlying driver's pause waits for its sends, so none is in a send
    // handler when this module's pause starts).
    if b.module.hold(1) {
        // SAFETY: NDIS calls the receive handler with a chain of
        // `NumberOfNetBufferLists` NBLs, one or more (never NULL), as a raw
        // filter that passes it on relies on.
        let head = unsafe { NonNull::new_unchecked(nbls) };
        // SAFETY: the chain NDIS indicates to this module for the call.
        let chain = unsafe { RecvChain::new(&b.module, head, port, count, flags) };
        b.filter.receive(&b.module, chain);
        b.module.release(1);
    } else {
        // SAFETY: as above; ended here once.
        unsafe { refuse_receive(&b.module, nbls, flags) };
    }
}

/// Receives to a module that is not running: given back at once (a lent
/// chain needs nothing: the miniport regains it when the handler returns).
///
/// # Safety
///
/// `nbls` is the receive handler's chain, indicated to `module` for the call.
#[cold]
#[inline(never)]
unsafe fn refuse_receive<F: Filter>(module: &Module<F>, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    if flags & NDIS_RECEIVE_FLAGS_RESOURCES == 0 {
        // SAFETY: the caller's guarantee: owned for the call, returned once.
        unsafe { return_down(module, NonNull::new(nbls), flags) };
    }
}

unsafe extern "system" fn return_nbls<F: Filter>(ctx: NDIS_HANDLE, nbls: PNET_BUFFER_LIST, flags: ULONG) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    if !F::OWN_NBLS {
        // No own NBLs: everything back is passed through, returned down as
        // it came (one call, as a raw pass-through filter does).
        // SAFETY: the module's handle; NBLs it indicated up from below,
        // back to it, handed back once with the flags NDIS gave.
        unsafe { NdisFReturnNetBufferLists(b.module.as_raw(), nbls, flags) };
        return;
    }
    // The NBLs this module indicated up, back to it (split reads the head alone).
    let links = Links::head(nbls);
    let handle = b.module.as_raw();
    // SAFETY: ours again: the own ones by SourceHandle, the rest passed through.
    let (own, through) = unsafe { links.split(|nbl| source_handle(nbl) == handle) };
    if let Some(h) = through.head {
        // SAFETY: passed-through NBLs back to the module, handed back once.
        unsafe { NdisFReturnNetBufferLists(handle, h.as_ptr(), flags) };
    }
    give_own(b, own, F::own_returned);
}

/// Hands each own NBL back to the filter as the owned [`Nbl`] it was. One
/// whose pool is no longer the filter's own pool is leaked (the library
/// cannot rebuild it).
///
/// Then the module's count of own NBLs in flight drops by as many, once for
/// the chain; nothing of the module is touched after that (its pause may
/// complete there, and detach follow).
fn give_own<'c, F: Filter>(b: &'c Block<F>, own: Links, to: fn(&'c F, &'c Module<F>, Nbl<'c, F::Own>)) {
    if own.count == 0 {
        return;
    }
    give_each(b, own, to);
    b.module.release(own.count);
}

/// [`give_own`]'s hand-back of each NBL.
fn give_each<'c, F: Filter>(b: &'c Block<F>, own: Links, to: fn(&'c F, &'c Module<F>, Nbl<'c, F::Own>)) {
    let Some(pool) = b.filter.own_pool() else { return };
    let mut at = own.head;
    while let Some(nbl) = at {
        // SAFETY: an own NBL back from NDIS, ours; read before handing it on.
        at = NonNull::new(unsafe { *NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) });
        // SAFETY: as above.
        unsafe { *NET_BUFFER_LIST_NEXT_NBL(nbl.as_ptr()) = core::ptr::null_mut() };
        // SAFETY: a live NBL.
        if unsafe { NdisGetPoolFromNetBufferList(nbl.as_ptr()) } != pool.as_raw() || pool.as_raw() != b.module.own_pool
        {
            continue;
        }
        // SAFETY: an NBL of `pool` with F::Own's context, given up with
        // `into_raw` by an `OwnChain` (its counter still counts it), back
        // with the driver now.
        let owned = unsafe { Nbl::<'c, F::Own>::from_parts(nbl, &pool.outstanding) };
        to(&b.filter, &b.module, owned);
    }
}

/// An NBL's `SourceHandle`.
fn source_handle(nbl: &crate::view::NetBufferList) -> NDIS_HANDLE {
    // SAFETY: a live NBL (the view's invariant); a plain read.
    unsafe { (*nbl.as_ptr()).SourceHandle }
}

// OID requests, status indications and PnP events: the handlers hand the
// request or record to oid.rs / status.rs, which call the filter.

unsafe extern "system" fn oid_request<F: Filter>(ctx: NDIS_HANDLE, request: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: the request NDIS hands this module now.
    unsafe { super::oid::request(&b.filter, &b.module, request) }
}

unsafe extern "system" fn oid_request_complete<F: Filter>(
    ctx: NDIS_HANDLE,
    request: PNDIS_OID_REQUEST,
    status: NDIS_STATUS,
) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: a request this module issued (a clone the library made), complete.
    unsafe { super::oid::complete(b.module.as_raw(), request, status) };
}

unsafe extern "system" fn cancel_oid_request<F: Filter>(ctx: NDIS_HANDLE, request_id: PVOID) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: the module's handle.
    unsafe { super::oid::cancel(b.module.as_raw(), request_id) };
}

unsafe extern "system" fn status<F: Filter>(ctx: NDIS_HANDLE, indication: PNDIS_STATUS_INDICATION) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: the indication NDIS hands this module now.
    unsafe { super::status::status(&b.filter, &b.module, indication) };
}

unsafe extern "system" fn net_pnp_event<F: Filter>(
    ctx: NDIS_HANDLE,
    event: PNET_PNP_EVENT_NOTIFICATION,
) -> NDIS_STATUS {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: the event NDIS hands this module now.
    unsafe { super::status::net_pnp(&b.filter, &b.module, event) }
}

unsafe extern "system" fn device_pnp_event<F: Filter>(ctx: NDIS_HANDLE, event: PNET_DEVICE_PNP_EVENT) {
    // SAFETY: the module's context, live between attach and detach.
    let b = unsafe { block::<F>(ctx) };
    // SAFETY: the event NDIS hands this module now.
    unsafe { super::status::device_pnp(&b.filter, &b.module, event) };
}
