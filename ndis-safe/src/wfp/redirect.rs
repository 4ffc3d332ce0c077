//! Connect redirection (VPN split tunnelling, transparent proxies): at the
//! connect-redirect layers, [`Writable::redirect_connect`] acquires the
//! classify handle and the writable `FWPS_CONNECT_REQUEST0`
//! (`FwpsAcquireWritableLayerDataPointer0`), lends it to a closure as a
//! typed [`ConnectRequest`], applies it (`FwpsApplyModifiedLayerData0`)
//! and releases the handle — in that scope, whatever the closure does, so
//! nothing depends on a guard's drop. A [`RedirectHandle`]
//! (`FwpsRedirectHandleCreate0`, destroyed on drop) marks a redirection
//! as the driver's for a local proxy.
//!
//! Leaks: a forgotten [`RedirectHandle`] is never destroyed (the engine
//! keeps it); the request itself is only ever borrowed.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use fwps_sys::*;

use crate::error::{Error, Status};
use crate::wfp::classify::Classify;
use crate::wfp::decision::{Decided, Decision, Writable};
use crate::wfp::layer::{ConnectRedirect, Layer};
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

impl<'c> Writable<'c> {
    /// Lends the connect request to `f`, then applies what it changed and
    /// permits (as [`Decision::Permit`]: hard if the filter says so). Needs
    /// a callout registered with version 1 or later (a classify handle).
    pub fn redirect_connect<L: Layer<Kind = ConnectRedirect>, R>(
        self,
        classify: &Classify<'c, L>,
        f: impl FnOnce(&mut ConnectRequest<'_>) -> R,
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
        // SAFETY: at the connect-redirect layers the writable data is the
        // engine's FWPS_CONNECT_REQUEST0, ours until it is applied.
        let raw = unsafe { &mut *scope.data.cast::<FWPS_CONNECT_REQUEST0>() };
        let r = f(&mut ConnectRequest { raw });
        drop(scope);
        Ok((self.decide(Decision::Permit), r))
    }
}
