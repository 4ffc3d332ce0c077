//! Status indications and PnP events: typed views for the filter to look
//! at, passed on by the library unless the filter says otherwise.
//!
//! - `FilterStatus`: [`Filter::status`] sees a [`StatusIndication`]; on
//!   [`Forward::Pass`] the library indicates it up (`NdisFIndicateStatus`).
//! - `FilterNetPnPEvent`: [`Filter::net_pnp_event`] sees a [`NetPnPEvent`];
//!   on `Ok(Forward::Pass)` the library forwards it up (`NdisFNetPnPEvent`)
//!   and returns what the drivers above answered; `Ok(Forward::Absorb)`
//!   returns `NDIS_STATUS_SUCCESS` without forwarding; `Err(status)` fails
//!   the event (a veto of a power query, say) without forwarding.
//! - `FilterDevicePnPEventNotify`: [`Filter::device_pnp_event`] sees a
//!   [`DevicePnPEvent`]; on [`Forward::Pass`] the library forwards it down
//!   (`NdisFDevicePnPEventNotify`).
//!
//! The views borrow NDIS's record for the handler call; nothing is owned,
//! so nothing can leak or be ended twice.
#![allow(unsafe_code, reason = "the views read NDIS's records through the pointers the handlers get")]

use ndis_sys::*;

use super::{Filter, Module};
use crate::error::Status;

/// Whether the library passes an indication or event on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Pass it on (up for status and network PnP, down for device PnP).
    Pass,
    /// Keep it from the drivers beyond this filter.
    Absorb,
}

/// Bytes at `p`, `len` long (empty for NULL).
///
/// # Safety
///
/// `p` is NULL or valid for `len` bytes for `'a`.
unsafe fn bytes<'a>(p: PVOID, len: u32) -> &'a [u8] {
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller's guarantee.
    unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len as usize) }
}

/// A status indication from below (`NDIS_STATUS_INDICATION`), for the
/// handler call.
///
/// # Invariants
///
/// `raw` is NDIS's record, valid for `'a` (the handler call).
pub struct StatusIndication<'a> {
    raw: &'a NDIS_STATUS_INDICATION,
}

impl core::fmt::Debug for StatusIndication<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StatusIndication")
            .field("code", &format_args!("{:#x}", self.code()))
            .field("buffer_len", &self.buffer().len())
            .finish()
    }
}

impl<'a> StatusIndication<'a> {
    /// `StatusCode` (`NDIS_STATUS_LINK_STATE`, `NDIS_STATUS_MEDIA_CONNECT`, …).
    #[inline]
    pub fn code(&self) -> NDIS_STATUS {
        self.raw.StatusCode
    }

    /// `PortNumber`.
    #[inline]
    pub fn port(&self) -> NDIS_PORT_NUMBER {
        self.raw.PortNumber
    }

    /// `StatusBuffer`, `StatusBufferSize` bytes long.
    pub fn buffer(&self) -> &'a [u8] {
        // SAFETY: NDIS's buffer of the stated size, valid for the call.
        unsafe { bytes(self.raw.StatusBuffer, self.raw.StatusBufferSize) }
    }

    /// The raw record.
    pub fn as_raw(&self) -> &'a NDIS_STATUS_INDICATION {
        self.raw
    }
}

/// A network PnP or power event (`NET_PNP_EVENT_NOTIFICATION`), for the
/// handler call.
///
/// # Invariants
///
/// `raw` is NDIS's record, valid for `'a` (the handler call).
pub struct NetPnPEvent<'a> {
    raw: &'a NET_PNP_EVENT_NOTIFICATION,
}

impl core::fmt::Debug for NetPnPEvent<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NetPnPEvent").field("code", &self.code()).field("buffer_len", &self.buffer().len()).finish()
    }
}

impl<'a> NetPnPEvent<'a> {
    /// `NetPnPEvent.NetEvent` (`NetEventSetPower`, `NetEventQueryPower`, …).
    #[inline]
    pub fn code(&self) -> NET_PNP_EVENT_CODE {
        self.raw.NetPnPEvent.NetEvent
    }

    /// `PortNumber`.
    #[inline]
    pub fn port(&self) -> NDIS_PORT_NUMBER {
        self.raw.PortNumber
    }

    /// `NetPnPEvent.Buffer`, `BufferLength` bytes long.
    pub fn buffer(&self) -> &'a [u8] {
        // SAFETY: NDIS's buffer of the stated size, valid for the call.
        unsafe { bytes(self.raw.NetPnPEvent.Buffer, self.raw.NetPnPEvent.BufferLength) }
    }

    /// The raw record.
    pub fn as_raw(&self) -> &'a NET_PNP_EVENT_NOTIFICATION {
        self.raw
    }
}

/// A device PnP or power event (`NET_DEVICE_PNP_EVENT`), for the handler
/// call.
///
/// # Invariants
///
/// `raw` is NDIS's record, valid for `'a` (the handler call).
pub struct DevicePnPEvent<'a> {
    raw: &'a NET_DEVICE_PNP_EVENT,
}

impl core::fmt::Debug for DevicePnPEvent<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DevicePnPEvent")
            .field("event", &self.event())
            .field("buffer_len", &self.buffer().len())
            .finish()
    }
}

impl<'a> DevicePnPEvent<'a> {
    /// `DevicePnPEvent` (`NdisDevicePnPEventSurpriseRemoved`, …).
    #[inline]
    pub fn event(&self) -> NDIS_DEVICE_PNP_EVENT {
        self.raw.DevicePnPEvent
    }

    /// `PortNumber`.
    #[inline]
    pub fn port(&self) -> NDIS_PORT_NUMBER {
        self.raw.PortNumber
    }

    /// `InformationBuffer`, `InformationBufferLength` bytes long.
    pub fn buffer(&self) -> &'a [u8] {
        // SAFETY: NDIS's buffer of the stated size, valid for the call.
        unsafe { bytes(self.raw.InformationBuffer, self.raw.InformationBufferLength) }
    }

    /// The raw record.
    pub fn as_raw(&self) -> &'a NET_DEVICE_PNP_EVENT {
        self.raw
    }
}

/// `FilterStatus`.
///
/// # Safety
///
/// `raw` is the indication NDIS hands this module's `FilterStatus` now.
pub(crate) unsafe fn status<F: Filter>(filter: &F, module: &Module<F>, raw: PNDIS_STATUS_INDICATION) {
    // SAFETY: the caller's record, valid for the call.
    let Some(r) = (unsafe { raw.as_ref() }) else { return };
    let view = StatusIndication { raw: r };
    if filter.status(module, &view) == Forward::Pass {
        // SAFETY: the module's handle; the indication as it came.
        unsafe { NdisFIndicateStatus(module.as_raw(), raw) };
    }
}

/// `FilterNetPnPEvent`.
///
/// # Safety
///
/// `raw` is the event NDIS hands this module's `FilterNetPnPEvent` now.
pub(crate) unsafe fn net_pnp<F: Filter>(
    filter: &F,
    module: &Module<F>,
    raw: PNET_PNP_EVENT_NOTIFICATION,
) -> NDIS_STATUS {
    // SAFETY: the caller's record, valid for the call.
    let Some(r) = (unsafe { raw.as_ref() }) else { return NDIS_STATUS_INVALID_PARAMETER };
    match filter.net_pnp_event(module, &NetPnPEvent { raw: r }) {
        // SAFETY: the module's handle; the event as it came.
        Ok(Forward::Pass) => unsafe { NdisFNetPnPEvent(module.as_raw(), raw) },
        Ok(Forward::Absorb) => NDIS_STATUS_SUCCESS,
        Err(s) => Status::raw(s),
    }
}

/// `FilterDevicePnPEventNotify`.
///
/// # Safety
///
/// `raw` is the event NDIS hands this module's handler now.
pub(crate) unsafe fn device_pnp<F: Filter>(filter: &F, module: &Module<F>, raw: PNET_DEVICE_PNP_EVENT) {
    // SAFETY: the caller's record, valid for the call.
    let Some(r) = (unsafe { raw.as_ref() }) else { return };
    if filter.device_pnp_event(module, &DevicePnPEvent { raw: r }) == Forward::Pass {
        // SAFETY: the module's handle; the event as it came.
        unsafe { NdisFDevicePnPEventNotify(module.as_raw(), raw) };
    }
}
