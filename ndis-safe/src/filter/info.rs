//! `NET_BUFFER_LIST_INFO`, typed per kind: the out-of-band data a filter
//! reads from the NBLs it is handed and copies to its own NBLs (checksum
//! offload, large send offload, 802.1Q tag, RSS hash).
#![allow(unsafe_code, reason = "reads and writes of an NBL's NetBufferListInfo slots")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: an accessor port's projection and its read or write"
)]

use ndis_sys::{
    Ieee8021QNetBufferListInfo, NET_BUFFER_LIST_INFO, NetBufferListHashInfo, NetBufferListHashValue,
    TcpIpChecksumNetBufferListInfo, TcpLargeSendNetBufferListInfo,
};

use crate::context::ContextArea;
use crate::nbl::{Allocator, NetBufferListOwned};
use crate::view::NetBufferList;

/// The 802.1Q tag (`NDIS_NET_BUFFER_LIST_8021Q_INFO`): priority (3 bits),
/// CFI (1 bit), VLAN id (12 bits), in the slot's low 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ieee8021Q {
    /// `UserPriority` (0–7).
    pub priority: u8,
    /// `CanonicalFormatId` (0 or 1).
    pub cfi: u8,
    /// `VlanId` (0–4095).
    pub vlan_id: u16,
}

impl Ieee8021Q {
    fn from_slot(v: usize) -> Option<Self> {
        let tag = Ieee8021Q { priority: (v & 7) as u8, cfi: ((v >> 3) & 1) as u8, vlan_id: ((v >> 4) & 0xfff) as u16 };
        (v & 0xffff != 0).then_some(tag)
    }

    fn to_slot(self) -> usize {
        usize::from(self.priority & 7) | usize::from(self.cfi & 1) << 3 | usize::from(self.vlan_id & 0xfff) << 4
    }
}

/// The checksum offload slot (`NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO`):
/// what a send asks the miniport to compute, or what a receive's checks
/// found, as the bitfields of its `Value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checksum(pub u32);

impl Checksum {
    fn bit(self, n: u32) -> bool {
        self.0 >> n & 1 != 0
    }

    /// Send: `IsIPv4`.
    pub fn tx_ipv4(self) -> bool {
        self.bit(0)
    }
    /// Send: `IsIPv6`.
    pub fn tx_ipv6(self) -> bool {
        self.bit(1)
    }
    /// Send: `TcpChecksum` (compute it).
    pub fn tx_tcp(self) -> bool {
        self.bit(2)
    }
    /// Send: `UdpChecksum`.
    pub fn tx_udp(self) -> bool {
        self.bit(3)
    }
    /// Send: `IpHeaderChecksum`.
    pub fn tx_ip_header(self) -> bool {
        self.bit(4)
    }
    /// Send: `TcpHeaderOffset` (10 bits from bit 16).
    pub fn tx_tcp_header_offset(self) -> u32 {
        self.0 >> 16 & 0x3ff
    }
    /// Receive: `TcpChecksumFailed`.
    pub fn rx_tcp_failed(self) -> bool {
        self.bit(0)
    }
    /// Receive: `UdpChecksumFailed`.
    pub fn rx_udp_failed(self) -> bool {
        self.bit(1)
    }
    /// Receive: `IpChecksumFailed`.
    pub fn rx_ip_failed(self) -> bool {
        self.bit(2)
    }
    /// Receive: `TcpChecksumSucceeded`.
    pub fn rx_tcp_succeeded(self) -> bool {
        self.bit(3)
    }
    /// Receive: `UdpChecksumSucceeded`.
    pub fn rx_udp_succeeded(self) -> bool {
        self.bit(4)
    }
    /// Receive: `IpChecksumSucceeded`.
    pub fn rx_ip_succeeded(self) -> bool {
        self.bit(5)
    }
    /// Receive: `Loopback`.
    pub fn rx_loopback(self) -> bool {
        self.bit(6)
    }
}

/// The large send offload slot (`NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO`),
/// as its raw `Value` (its layout depends on the LSO version it names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LargeSend(pub usize);

/// The RSS hash: `NetBufferListHashValue` and `NetBufferListHashInfo`
/// (type and function bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hash {
    /// The hash value.
    pub value: u32,
    /// `NDIS_HASH_TYPE_*` | `NDIS_HASH_FUNCTION_*`.
    pub info: u32,
}

/// Which kinds [`NetBufferListOwned::copy_info_from`] copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InfoKinds {
    /// The checksum offload slot.
    pub checksum: bool,
    /// The large send offload slot.
    pub large_send: bool,
    /// The 802.1Q tag.
    pub ieee8021q: bool,
    /// The RSS hash (value and info).
    pub hash: bool,
}

impl InfoKinds {
    /// Every kind this module names.
    pub const ALL: InfoKinds = InfoKinds { checksum: true, large_send: true, ieee8021q: true, hash: true };
}

/// Reads slot `id` (one of the five above, present in every NDIS 6 layout).
fn read(nbl: &NetBufferList, id: i32) -> usize {
    // SAFETY: a live NBL (the view's invariant); `id` is below
    // MaxNetBufferListInfo in every NDIS 6 version; a plain read.
    unsafe { *NET_BUFFER_LIST_INFO(nbl.as_ptr(), id) as usize }
}

impl NetBufferList {
    /// The checksum offload slot.
    #[inline]
    pub fn checksum(&self) -> Checksum {
        Checksum(read(self, TcpIpChecksumNetBufferListInfo) as u32)
    }

    /// The large send offload slot.
    #[inline]
    pub fn large_send(&self) -> LargeSend {
        LargeSend(read(self, TcpLargeSendNetBufferListInfo))
    }

    /// The 802.1Q tag, if any.
    #[inline]
    pub fn ieee8021q(&self) -> Option<Ieee8021Q> {
        Ieee8021Q::from_slot(read(self, Ieee8021QNetBufferListInfo))
    }

    /// The RSS hash.
    #[inline]
    pub fn hash(&self) -> Hash {
        Hash { value: read(self, NetBufferListHashValue) as u32, info: read(self, NetBufferListHashInfo) as u32 }
    }
}

impl<A: Allocator, C: ContextArea> NetBufferListOwned<'_, A, C> {
    fn write_info(&mut self, id: i32, v: usize) {
        // SAFETY: an NBL this value owns exclusively (&mut self); `id` as in `read`.
        unsafe { *NET_BUFFER_LIST_INFO(self.as_ptr(), id) = v as *mut core::ffi::c_void };
    }

    /// Sets (or clears) the 802.1Q tag.
    #[inline]
    pub fn set_ieee8021q(&mut self, tag: Option<Ieee8021Q>) {
        self.write_info(Ieee8021QNetBufferListInfo, tag.map_or(0, Ieee8021Q::to_slot));
    }

    /// Sets the checksum offload slot.
    #[inline]
    pub fn set_checksum(&mut self, c: Checksum) {
        self.write_info(TcpIpChecksumNetBufferListInfo, c.0 as usize);
    }

    /// Sets the RSS hash.
    #[inline]
    pub fn set_hash(&mut self, h: Hash) {
        self.write_info(NetBufferListHashValue, h.value as usize);
        self.write_info(NetBufferListHashInfo, h.info as usize);
    }

    /// Copies the `kinds` slots of `from` (an NBL the filter was handed)
    /// into this one (its own), as a filter does for a frame it rebuilds.
    pub fn copy_info_from(&mut self, from: &NetBufferList, kinds: InfoKinds) {
        let ids: [(bool, &[i32]); 4] = [
            (kinds.checksum, &[TcpIpChecksumNetBufferListInfo]),
            (kinds.large_send, &[TcpLargeSendNetBufferListInfo]),
            (kinds.ieee8021q, &[Ieee8021QNetBufferListInfo]),
            (kinds.hash, &[NetBufferListHashValue, NetBufferListHashInfo]),
        ];
        for (on, ids) in ids {
            for &id in ids.iter().filter(|_| on) {
                let v = read(from, id);
                self.write_info(id, v);
            }
        }
    }
}
