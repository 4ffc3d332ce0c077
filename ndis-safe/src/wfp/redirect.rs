//! Connect and bind redirection (VPN split tunnelling, transparent
//! proxies): at the connect-redirect layers, [`Writable::redirect_connect`]
//! acquires the classify handle and the writable `FWPS_CONNECT_REQUEST0`
//! (`FwpsAcquireWritableLayerDataPointer0`), lends it to a closure as a
//! typed [`ConnectRequest`], applies it (`FwpsApplyModifiedLayerData0`)
//! and releases the handle — in that scope, whatever the closure does, so
//! nothing depends on a guard's drop. At the bind-redirect layers,
//! [`Writable::redirect_bind`] does the same with the `FWPS_BIND_REQUEST0`
//! as a [`BindRequest`] (the local address and port a socket binds to:
//! split tunnelling binds an application's sockets to the tunnel
//! interface's address). A [`RedirectHandle`] (`FwpsRedirectHandleCreate0`,
//! destroyed on drop) marks a redirection as the driver's for a local
//! proxy.
//!
//! # The redirect loop
//!
//! A connection redirected to a local proxy comes back through the
//! connect-redirect layer when the proxy connects on its behalf, with the
//! redirect records of the original. A callout that redirected it must
//! not redirect it again: before redirecting, it asks
//! [`RedirectHandle::state`] (`FwpsQueryConnectionRedirectState0` over the
//! classify's `redirectRecords`) and lets the connection go when the
//! answer is [`RedirectState::BySelf`] or
//! [`RedirectState::PreviouslyBySelf`].
//!
//! Leaks: a forgotten [`RedirectHandle`] is never destroyed (the engine
//! keeps it); the requests themselves are only ever borrowed.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use fwps_sys::*;

use crate::error::{Error, Status};
use crate::wfp::classify::Classify;
use crate::wfp::decision::{Decided, Decision, Writable};
use crate::wfp::layer::{BindRedirect, ConnectRedirect, Layer};
use crate::wfp::pend::NotPended;

/// A redirect handle (`FwpsRedirectHandleCreate0`), destroyed on drop.
///
/// # Invariants
///
/// `handle` was created by this value and not destroyed.
#[derive(Debug)]
pub struct RedirectHandle {
    handle: HANDLE,
}

// SAFETY: an engine handle, usable from any thread.
unsafe impl Send for RedirectHandle {}
// SAFETY: it gives no access through &self but its value.
unsafe impl Sync for RedirectHandle {}

impl RedirectHandle {
    /// Creates a redirect handle for `provider`.
    pub fn new(provider: GUID) -> crate::Result<RedirectHandle> {
        let mut handle: HANDLE = core::ptr::null_mut();
        // SAFETY: a local GUID and a writable handle.
        Status::result(unsafe { FwpsRedirectHandleCreate0(&provider, 0, &mut handle) }).map_err(Error::Status)?;
        Ok(RedirectHandle { handle })
    }

    /// The raw handle.
    #[inline]
    pub fn as_raw(&self) -> HANDLE {
        self.handle
    }

    /// Whether the connection of `classify` was redirected, and by whom,
    /// relative to this handle (`FwpsQueryConnectionRedirectState0` over
    /// its `redirectRecords`); [`RedirectState::NotRedirected`] when the
    /// classify carries no records.
    pub fn state<L: Layer<Kind = ConnectRedirect>>(&self, classify: &Classify<'_, L>) -> RedirectState {
        let Some(records) = classify.redirect_records().filter(|r| !r.is_null()) else {
            return RedirectState::NotRedirected;
        };
        let mut context: *mut core::ffi::c_void = core::ptr::null_mut();
        // SAFETY: the classify's own records, valid for the call; our live
        // handle; `context` is writable.
        let raw = unsafe { FwpsQueryConnectionRedirectState0(records, self.handle, &mut context) };
        match raw {
            FWPS_CONNECTION_REDIRECTED_BY_SELF => RedirectState::BySelf,
            FWPS_CONNECTION_REDIRECTED_BY_OTHER => RedirectState::ByOther,
            FWPS_CONNECTION_PREVIOUSLY_REDIRECTED_BY_SELF => RedirectState::PreviouslyBySelf,
            _ => RedirectState::NotRedirected,
        }
    }
}

/// What `FwpsQueryConnectionRedirectState0` says of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectState {
    /// Not redirected (or the classify carries no redirect records).
    NotRedirected,
    /// Redirected by this handle, last: do not redirect it again.
    BySelf,
    /// Redirected by another driver's handle.
    ByOther,
    /// Redirected by this handle before, by another since: do not
    /// redirect it again either.
    PreviouslyBySelf,
}

impl RedirectState {
    /// Whether redirecting the connection again would loop (this handle
    /// redirected it already).
    #[inline]
    pub fn is_own(self) -> bool {
        matches!(self, RedirectState::BySelf | RedirectState::PreviouslyBySelf)
    }
}

impl Drop for RedirectHandle {
    fn drop(&mut self) {
        // SAFETY: the invariant: destroyed once.
        unsafe { FwpsRedirectHandleDestroy0(self.handle) }
    }
}

/// The writable connect request, lent for [`Writable::redirect_connect`]'s
/// closure.
pub struct ConnectRequest<'w> {
    raw: &'w mut FWPS_CONNECT_REQUEST0,
}

fn read(s: &SOCKADDR_STORAGE) -> Option<SocketAddr> {
    // SAFETY: SOCKADDR_STORAGE is 128 bytes of integers with no padding
    // (2 + 6 + 8 + 112); reading them as bytes is defined.
    let b: &[u8; 128] = unsafe { &*(s as *const SOCKADDR_STORAGE).cast::<[u8; 128]>() };
    let port = u16::from_be_bytes([b[2], b[3]]);
    match s.ss_family {
        AF_INET => Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(b[4], b[5], b[6], b[7])), port)),
        AF_INET6 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b.get(8..24)?);
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)), port))
        }
        _ => None,
    }
}

fn write(s: &mut SOCKADDR_STORAGE, addr: SocketAddr) {
    // SAFETY: as in `read`; any bytes are a valid SOCKADDR_STORAGE.
    let b: &mut [u8; 128] = unsafe { &mut *(s as *mut SOCKADDR_STORAGE).cast::<[u8; 128]>() };
    *b = [0; 128];
    let (family, port) = match addr {
        SocketAddr::V4(_) => (AF_INET, addr.port()),
        SocketAddr::V6(_) => (AF_INET6, addr.port()),
    };
    b[0..2].copy_from_slice(&family.to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    match addr {
        SocketAddr::V4(a) => b[4..8].copy_from_slice(&a.ip().octets()),
        SocketAddr::V6(a) => {
            b[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            b[8..24].copy_from_slice(&a.ip().octets());
            b[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
        }
    }
}

impl ConnectRequest<'_> {
    /// The remote address and port the connect goes to.
    pub fn remote(&self) -> Option<SocketAddr> {
        read(&self.raw.remoteAddressAndPort)
    }

    /// The local address and port.
    pub fn local(&self) -> Option<SocketAddr> {
        read(&self.raw.localAddressAndPort)
    }

    /// Redirects the connect to `to`, which must be of the connection's
    /// family (`Err(InvalidArgument)` otherwise).
    pub fn set_remote(&mut self, to: SocketAddr) -> crate::Result<()> {
        if self.remote().is_some_and(|r| r.is_ipv4() != to.is_ipv4()) {
            return Err(Error::InvalidArgument);
        }
        write(&mut self.raw.remoteAddressAndPort, to);
        Ok(())
    }

    /// Marks the redirection as the driver's, to a local proxy of process
    /// `target_pid` (`localRedirectHandle`, `localRedirectTargetPID`). The
    /// engine keeps the handle with the redirected connection: keep the
    /// [`RedirectHandle`] (a `static`, or the driver's state) until unload,
    /// after the connections it marked. It is an engine cookie, so dropping
    /// it early is a logic error the engine sees, not undefined behaviour.
    pub fn set_local_redirect(&mut self, handle: &RedirectHandle, target_pid: u32) {
        self.raw.localRedirectHandle = handle.handle;
        self.raw.localRedirectTargetPID = target_pid;
    }

    /// The filter that modified the request before this callout, if any
    /// (`modifierFilterId`).
    pub fn modified_by(&self) -> Option<u64> {
        (self.raw.modifierFilterId != 0).then_some(self.raw.modifierFilterId)
    }
}

/// The writable bind request, lent for [`Writable::redirect_bind`]'s
/// closure.
pub struct BindRequest<'w> {
    raw: &'w mut FWPS_BIND_REQUEST0,
}

impl BindRequest<'_> {
    /// The local address and port the socket binds to.
    pub fn local(&self) -> Option<SocketAddr> {
        read(&self.raw.localAddressAndPort)
    }

    /// Binds the socket to `to` instead, which must be of the socket's
    /// family (`Err(InvalidArgument)` otherwise). Port 0 lets the stack
    /// pick one.
    pub fn set_local(&mut self, to: SocketAddr) -> crate::Result<()> {
        if self.local().is_some_and(|l| l.is_ipv4() != to.is_ipv4()) {
            return Err(Error::InvalidArgument);
        }
        write(&mut self.raw.localAddressAndPort, to);
        Ok(())
    }

    /// The filter that modified the request before this callout, if any
    /// (`modifierFilterId`).
    pub fn modified_by(&self) -> Option<u64> {
        (self.raw.modifierFilterId != 0).then_some(self.raw.modifierFilterId)
    }
}

impl<'c> Writable<'c> {
    /// Acquires the classify handle and the writable layer data, lends the
    /// data to `f`, applies it and releases the handle (also when `f`
    /// unwinds), then permits.
    ///
    /// # Safety
    ///
    /// At `classify`'s layer the writable layer data is a `T`.
    unsafe fn with_writable<L: Layer, T, R>(
        self,
        classify: &Classify<'c, L>,
        f: impl FnOnce(&mut T) -> R,
    ) -> Result<(Decided<'c>, R), NotPended<'c>> {
        if !classify.can_pend() {
            return Err(NotPended { action: self, error: Error::InvalidArgument });
        }
        let mut handle = 0u64;
        // SAFETY: the engine's classify context for this call.
        let status = unsafe { FwpsAcquireClassifyHandle0(classify.classify_context.cast_mut(), 0, &mut handle) };
        if let Err(s) = Status::result(status) {
            return Err(NotPended { action: self, error: Error::Status(s) });
        }
        /// Applies (if acquired) and releases, also when `f` unwinds.
        struct Scope {
            handle: u64,
            data: *mut core::ffi::c_void,
        }
        impl Drop for Scope {
            fn drop(&mut self) {
                if !self.data.is_null() {
                    // SAFETY: the writable data acquired with this handle, applied once.
                    unsafe { FwpsApplyModifiedLayerData0(self.handle, self.data, 0) };
                }
                // SAFETY: acquired above, released once.
                unsafe { FwpsReleaseClassifyHandle0(self.handle) };
            }
        }
        let mut scope = Scope { handle, data: core::ptr::null_mut() };
        // SAFETY: our handle, this classify's filter and classify out.
        let status =
            unsafe { FwpsAcquireWritableLayerDataPointer0(handle, self.filter_id, 0, &mut scope.data, &mut *self.out) };
        if Status::result(status).is_err() || scope.data.is_null() {
            scope.data = core::ptr::null_mut();
            drop(scope);
            return Err(NotPended { action: self, error: Error::Status(Status(status)) });
        }
        // SAFETY: the caller's guarantee: the writable data is the engine's
        // `T`, ours until it is applied.
        let raw = unsafe { &mut *scope.data.cast::<T>() };
        let r = f(raw);
        drop(scope);
        Ok((self.decide(Decision::Permit), r))
    }

    /// Lends the connect request to `f`, then applies what it changed and
    /// permits (as [`Decision::Permit`]: hard if the filter says so). Needs
    /// a callout registered with version 1 or later (a classify handle).
    /// Ask [`RedirectHandle::state`] first, to not redirect a connection
    /// twice (see the module's docs).
    pub fn redirect_connect<L: Layer<Kind = ConnectRedirect>, R>(
        self,
        classify: &Classify<'c, L>,
        f: impl FnOnce(&mut ConnectRequest<'_>) -> R,
    ) -> Result<(Decided<'c>, R), NotPended<'c>> {
        // SAFETY: at the connect-redirect layers the writable data is the
        // engine's FWPS_CONNECT_REQUEST0.
        unsafe { self.with_writable(classify, |raw: &mut FWPS_CONNECT_REQUEST0| f(&mut ConnectRequest { raw })) }
    }

    /// Lends the bind request to `f`, then applies what it changed and
    /// permits, as [`redirect_connect`](Writable::redirect_connect) does.
    pub fn redirect_bind<L: Layer<Kind = BindRedirect>, R>(
        self,
        classify: &Classify<'c, L>,
        f: impl FnOnce(&mut BindRequest<'_>) -> R,
    ) -> Result<(Decided<'c>, R), NotPended<'c>> {
        // SAFETY: at the bind-redirect layers the writable data is the
        // engine's FWPS_BIND_REQUEST0.
        unsafe { self.with_writable(classify, |raw: &mut FWPS_BIND_REQUEST0| f(&mut BindRequest { raw })) }
    }
}

/// A [`RedirectHandle`] kept in a `static`: created in DriverEntry
/// ([`set`](RedirectHandleCell::set)), lent to classify
/// ([`with`](RedirectHandleCell::with)), destroyed at unload
/// ([`take`](RedirectHandleCell::take), then drop) after the callouts are
/// unregistered.
///
/// The cell counts its lendings (a rundown, as `ExAcquireRundownProtection`
/// gives a C driver): [`take`](RedirectHandleCell::take) empties the cell
/// at once, so that no new lending starts, then waits for the lendings
/// already under way to end before it hands the handle out — a classify
/// on another processor never uses a handle that unload has destroyed,
/// whatever order the driver unloads in. The wait is a spin, as short as
/// a classify; a `take` of the cell from inside its own
/// [`with`](RedirectHandleCell::with) closure never returns (as a spin
/// lock taken twice). Leaks: a handle left in a `static` cell is never
/// destroyed (the simulator counts the handles alive); a forgotten cell
/// forgets its handle the same way.
///
/// # Invariants
///
/// `raw` is NULL or the handle of a [`RedirectHandle`] the cell owns
/// (moved in and forgotten). `lent` counts the calls of
/// [`with`](RedirectHandleCell::with) under way that may have read `raw`
/// not NULL: while it is not 0, the handle they read is not destroyed.
#[derive(Debug)]
pub struct RedirectHandleCell {
    raw: core::sync::atomic::AtomicPtr<core::ffi::c_void>,
    lent: core::sync::atomic::AtomicUsize,
}

/// One lending of a [`RedirectHandleCell`], ended (the count taken back)
/// when dropped, also when the lending closure unwinds.
struct Lending<'a>(&'a core::sync::atomic::AtomicUsize);

impl Drop for Lending<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.fetch_sub(1, core::sync::atomic::Ordering::SeqCst);
    }
}

impl RedirectHandleCell {
    /// An empty cell.
    pub const fn new() -> RedirectHandleCell {
        RedirectHandleCell {
            raw: core::sync::atomic::AtomicPtr::new(core::ptr::null_mut()),
            lent: core::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Moves `handle` in; `Err` gives it back when the cell holds one.
    pub fn set(&self, handle: RedirectHandle) -> Result<(), RedirectHandle> {
        use core::sync::atomic::Ordering;
        let raw = handle.handle;
        match self.raw.compare_exchange(core::ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                core::mem::forget(handle);
                Ok(())
            }
            Err(_) => Err(handle),
        }
    }

    /// Moves the handle out (to be dropped, which destroys it), once the
    /// lendings under way have ended.
    pub fn take(&self) -> Option<RedirectHandle> {
        use core::sync::atomic::Ordering;
        // Sequentially consistent with `with`'s count and load: a lending
        // that read the handle counted itself before this swap, so the
        // wait below sees it.
        let raw = self.raw.swap(core::ptr::null_mut(), Ordering::SeqCst);
        // Built only when there is one: a `RedirectHandle` of NULL would
        // be destroyed when dropped.
        if raw.is_null() {
            return None;
        }
        while self.lent.load(Ordering::SeqCst) != 0 {
            core::hint::spin_loop();
        }
        Some(RedirectHandle { handle: raw })
    }

    /// Lends the handle to `f`, with `value` (a classify's action, say);
    /// `Err(value)` when the cell is empty, so that what `f` would have
    /// taken is not lost.
    pub fn with<T, R>(&self, value: T, f: impl FnOnce(&RedirectHandle, T) -> R) -> Result<R, T> {
        use core::sync::atomic::Ordering;
        // Counted before the load (see `take`), uncounted on every way out.
        self.lent.fetch_add(1, Ordering::SeqCst);
        let _lending = Lending(&self.lent);
        let raw = self.raw.load(Ordering::SeqCst);
        if raw.is_null() {
            return Err(value);
        }
        // A view of the cell's handle, never dropped (the cell owns it).
        let view = core::mem::ManuallyDrop::new(RedirectHandle { handle: raw });
        Ok(f(&view, value))
    }
}

impl Default for RedirectHandleCell {
    fn default() -> RedirectHandleCell {
        RedirectHandleCell::new()
    }
}

impl Drop for RedirectHandleCell {
    fn drop(&mut self) {
        drop(self.take());
    }
}
