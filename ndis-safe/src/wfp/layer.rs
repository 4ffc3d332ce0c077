//! Layers as types: each `FWPS_LAYER_*` a callout can be registered at is
//! an uninhabited type implementing the sealed [`Layer`] trait, which fixes
//! its id, its fields ([`fields`](crate::wfp::fields)), its address family,
//! where its packet data starts, and the type of its layer data.
//!
//! A callout that does the same work at several layers — inbound and
//! outbound, IPv4 and IPv6, as the WDK's inspect sample does at the four
//! transport layers — registers one classify function for all of them and
//! tells them apart by `inFixedValues->layerId`. A layer *set*
//! ([`TransportLayers`], [`IppacketLayers`], …; the [`Layers`] trait) types
//! that classify: the view knows its layer at run time
//! ([`Classify::layer_id`](crate::wfp::classify::Classify::layer_id)), reads
//! the fields every layer of the set has by name through the set's index
//! table ([`TransportLayers::IP_REMOTE_ADDRESS`]), and the fields of one
//! member through that member's constants, which read `None` at the other
//! layers. [`MultiLayerCallout`](crate::wfp::callout::MultiLayerCallout)
//! says when to use which.

use core::ffi::c_void;
use core::marker::PhantomData;

use fwps_sys::{FWPS_STREAM_CALLOUT_IO_PACKET0, FWPS_STREAM_DATA0};

use crate::nbl::BorrowedNbl;

pub use crate::wfp::fields::{
    AleAuthConnectLayers, AleAuthRecvAcceptLayers, DatagramDataLayers, IppacketLayers, StreamLayers, TransportLayers,
};
pub use crate::wfp::fields::{
    AleAuthConnectV4, AleAuthConnectV6, AleAuthRecvAcceptV4, AleAuthRecvAcceptV6, AleConnectRedirectV4,
    AleConnectRedirectV6, AleFlowEstablishedV4, AleFlowEstablishedV6, DatagramDataV4, DatagramDataV6,
    InboundIppacketV4, InboundIppacketV6, InboundTransportV4, InboundTransportV6, OutboundIppacketV4,
    OutboundIppacketV6, OutboundTransportV4, OutboundTransportV6, StreamV4, StreamV6,
};
pub use crate::wfp::fields::{AleBindRedirectV4, AleBindRedirectV6};

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The address family of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

impl Family {
    /// The `AF_*` value.
    #[inline]
    pub const fn af(self) -> u16 {
        match self {
            Family::V4 => fwps_sys::AF_INET,
            Family::V6 => fwps_sys::AF_INET6,
        }
    }
}

/// Where a layer's packet data starts, as the WFP documentation's table of
/// data offsets gives it: what a callout retreats by to reach the IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOffset {
    /// At the IP header (outbound IP packet layers).
    IpHeader,
    /// At the transport header, after the IP header (inbound IP packet
    /// layers, outbound transport layers).
    TransportHeader,
    /// After the transport header (inbound transport layers): retreat by
    /// the IP header and the transport header.
    Payload,
    /// Not a fixed offset for the layer (it depends on the direction, or
    /// the layer has no packet): [`Classify::bytes_to_ip_header`](crate::wfp::classify::Classify::bytes_to_ip_header)
    /// gives `None`.
    Unspecified,
}

/// The data offset of a layer, by id.
pub(crate) const fn data_offset(id: u16) -> DataOffset {
    match id as i32 {
        fwps_sys::FWPS_LAYER_OUTBOUND_IPPACKET_V4 | fwps_sys::FWPS_LAYER_OUTBOUND_IPPACKET_V6 => DataOffset::IpHeader,
        fwps_sys::FWPS_LAYER_INBOUND_IPPACKET_V4
        | fwps_sys::FWPS_LAYER_INBOUND_IPPACKET_V6
        | fwps_sys::FWPS_LAYER_OUTBOUND_TRANSPORT_V4
        | fwps_sys::FWPS_LAYER_OUTBOUND_TRANSPORT_V6 => DataOffset::TransportHeader,
        fwps_sys::FWPS_LAYER_INBOUND_TRANSPORT_V4 | fwps_sys::FWPS_LAYER_INBOUND_TRANSPORT_V6 => DataOffset::Payload,
        _ => DataOffset::Unspecified,
    }
}

/// What a classify's view is typed by: one layer (every [`Layer`]) or a
/// set of layers one classify function serves ([`TransportLayers`], …).
/// Sealed.
pub trait Layers: sealed::Sealed + 'static {
    /// How many layers: 1 for a [`Layer`].
    const COUNT: u8;
    /// What their layer data is (the same at every layer of a set).
    type Kind: DataKind;

    /// The position in the set of the layer whose run-time id is `id`, or
    /// `None` when it is none of them.
    #[doc(hidden)]
    fn position(id: u16) -> Option<u8>;

    /// Where the packet data of the layer at `position` starts.
    #[doc(hidden)]
    fn data_offset_at(position: u8) -> DataOffset;

    /// The address family of the layer at `position`.
    #[doc(hidden)]
    fn family_at(position: u8) -> Family;
}

/// `Self` is a layer of the set `S` (every layer is a member of itself):
/// a classify typed by `S` reads `Self`'s fields, which are `None` at the
/// other layers of the set. Sealed.
pub trait MemberOf<S: Layers>: Layer + Layers<Kind = <S as Layers>::Kind> {
    /// Its position in `S`.
    #[doc(hidden)]
    const POSITION: u8;
}

impl<L: Layer> MemberOf<L> for L {
    const POSITION: u8 = 0;
}

/// A WFP layer. Sealed: implemented by the layer types of this module only.
pub trait Layer: Layers {
    /// The run-time layer id (`FWPS_LAYER_*`), which the engine passes as
    /// `inFixedValues->layerId`.
    const ID: u16;
    /// The layer's name, without `FWPS_LAYER_`.
    const NAME: &'static str;
    /// The layer's management key (`FWPM_LAYER_*`), which filters and
    /// callout objects name.
    const KEY: fwps_sys::GUID;
    /// Its address family.
    const FAMILY: Family;
    /// How many incoming values the layer has (its `FWPS_FIELDS_*_MAX`).
    const FIELD_COUNT: u32;
    /// Where its packet data starts.
    const DATA_OFFSET: DataOffset;
}

/// The kind of layer data a layer passes to classify. Sealed.
pub trait DataKind: sealed::Sealed + 'static {
    /// The layer data, lent for the classify call `'c`.
    type Data<'c>;

    #[doc(hidden)]
    /// # Safety
    ///
    /// `raw` is the `layerData` the engine passed for a classify at a layer
    /// of this kind, valid for `'c`.
    unsafe fn from_raw<'c>(raw: *mut c_void) -> Option<Self::Data<'c>>;
}

/// Packet layers (IP packet, transport, datagram data, ALE): the layer data
/// is an NBL the stack lends, or NULL.
pub enum Packet {}
/// The stream layer: the layer data is an `FWPS_STREAM_CALLOUT_IO_PACKET0`.
pub enum Stream {}
/// The connect-redirect layers: no layer data; the connect request is
/// reached through [`Writable::redirect_connect`](crate::wfp::decision::Writable::redirect_connect).
pub enum ConnectRedirect {}

impl sealed::Sealed for Packet {}
impl sealed::Sealed for Stream {}
impl sealed::Sealed for ConnectRedirect {}
/// The bind-redirect layers: no layer data; the bind request is reached
/// through [`Writable::redirect_bind`](crate::wfp::decision::Writable::redirect_bind).
pub enum BindRedirect {}
impl sealed::Sealed for BindRedirect {}
impl DataKind for BindRedirect {
    type Data<'c> = core::convert::Infallible;

    unsafe fn from_raw<'c>(_raw: *mut c_void) -> Option<Self::Data<'c>> {
        None
    }
}

impl DataKind for ConnectRedirect {
    type Data<'c> = core::convert::Infallible;

    unsafe fn from_raw<'c>(_raw: *mut c_void) -> Option<Self::Data<'c>> {
        None
    }
}

impl DataKind for Packet {
    type Data<'c> = BorrowedNbl<'c>;

    #[allow(unsafe_code, reason = "wrapping the engine's lent NBL")]
    unsafe fn from_raw<'c>(raw: *mut c_void) -> Option<BorrowedNbl<'c>> {
        // SAFETY: the caller's guarantee: the stack lends this NBL for 'c.
        unsafe { BorrowedNbl::from_raw(raw.cast()) }
    }
}

impl DataKind for Stream {
    type Data<'c> = StreamData<'c>;

    #[allow(unsafe_code, reason = "wrapping the engine's stream packet")]
    unsafe fn from_raw<'c>(raw: *mut c_void) -> Option<StreamData<'c>> {
        let io = core::ptr::NonNull::new(raw.cast::<FWPS_STREAM_CALLOUT_IO_PACKET0>())?;
        Some(StreamData { io, _c: PhantomData })
    }
}

/// The stream layer's data for one classify: the segment's stream data
/// and the action fields the callout answers in.
///
/// # Invariants
///
/// `io` is the engine's `FWPS_STREAM_CALLOUT_IO_PACKET0` for this classify,
/// valid for `'c`.
pub struct StreamData<'c> {
    io: core::ptr::NonNull<FWPS_STREAM_CALLOUT_IO_PACKET0>,
    _c: PhantomData<&'c mut FWPS_STREAM_CALLOUT_IO_PACKET0>,
}

#[allow(unsafe_code, reason = "reads of the engine's stream records")]
impl<'c> StreamData<'c> {
    fn data(&self) -> Option<&FWPS_STREAM_DATA0> {
        // SAFETY: the invariant: the record and its stream data are valid for 'c.
        unsafe { self.io.as_ref().streamData.as_ref() }
    }

    /// The stream data's flags (`FWPS_STREAM_FLAG_*`), 0 without data.
    #[inline]
    pub fn flags(&self) -> u32 {
        self.data().map_or(0, |d| d.flags)
    }

    /// How many bytes of stream data this classify carries.
    #[inline]
    pub fn len(&self) -> usize {
        self.data().map_or(0, |d| d.dataLength as usize)
    }

    /// Whether it carries none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stream data's NBL chain, lent for the classify.
    #[inline]
    pub fn nbls(&mut self) -> Option<BorrowedNbl<'_>> {
        let chain = self.data()?.netBufferListChain;
        // SAFETY: the engine lends the chain for the classify, which
        // `&mut self` (for 'c) covers.
        unsafe { BorrowedNbl::from_raw(chain) }
    }

    /// Asks for `bytes` more bytes before the next classify
    /// (`FWPS_STREAM_ACTION_NEED_MORE_DATA` with `countBytesRequired`).
    #[inline]
    pub fn need_more_data(&mut self, bytes: u32) {
        // SAFETY: the invariant: the record is the engine's, writable for 'c.
        let io = unsafe { self.io.as_mut() };
        io.streamAction = fwps_sys::FWPS_STREAM_ACTION_NEED_MORE_DATA;
        io.countBytesRequired = bytes;
    }
}
