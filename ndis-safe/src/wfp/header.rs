//! An IP header for a cloned transport packet
//! (`FwpsConstructIpHeaderForTransportPacket0`): what a callout needs
//! before injecting a transport-layer packet at the network layer — for
//! example an inbound datagram cloned at the inbound transport layer,
//! given a rewritten header (another source or destination) and received
//! again with `FwpsInjectNetworkReceiveAsync0`.
//!
//! [`ClonedPacket::construct_ip_header`] takes where the clone's data
//! starts ([`HeaderAt`]) and the header's addresses and protocol. It moves
//! the clone's data start through the clone's own change log — back by
//! the header's size when the data starts at the transport header, forward
//! past IPv6 extension headers (which the DDI drops) — so that the DDI
//! always rewrites a header of the size it leaves in place, and the
//! clone's changes are undone, as every other change, before it is freed.
//! IPv4 options are kept; the header's other fields are the stack's
//! (TTL, type of service, identification), as for a packet it sends. The
//! header's bytes are written into the clone's
//! data, which it shares with the original packet: do it on a packet whose
//! original is absorbed (or was referenced to be replaced).
//!
//! One NET_BUFFER only, as the DDI requires (`Err(InvalidArgument)`
//! otherwise); addresses of two families are `Err(InvalidArgument)` too.
//! On an error the clone is as it was.

use core::net::IpAddr;

use fwps_sys::FwpsConstructIpHeaderForTransportPacket0;

use crate::clone::{Flavor, Log};
use crate::context::ContextArea;
use crate::error::{Error, Result, Status};
use crate::wfp::ClonedPacket;

/// Where a cloned packet's data starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderAt {
    /// At the transport header: a header is built in front of it.
    Transport,
    /// At an existing IP header of this many bytes (the classify's
    /// `ipHeaderSize`), which is rebuilt.
    Ip(u32),
}

/// The header to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHeader {
    /// Its source address.
    pub source: IpAddr,
    /// Its destination address.
    pub destination: IpAddr,
    /// The next protocol (`IPPROTO_*`).
    pub protocol: u8,
    /// The interface the packet is for (`interfaceIndex`), 0 if none.
    pub interface_index: u32,
    /// Its sub-interface (`subInterfaceIndex`), 0 if none.
    pub sub_interface_index: u32,
}

fn octets(a: IpAddr) -> ([u8; 16], u16) {
    match a {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            (b, fwps_sys::AF_INET)
        }
        IpAddr::V6(a) => (a.octets(), fwps_sys::AF_INET6),
    }
}

impl<K: Flavor, C: ContextArea> ClonedPacket<K, C, Log> {
    /// Builds (data at the transport header) or rebuilds (data at an IP
    /// header) the clone's IP header as `header` says; see the module's
    /// docs.
    pub fn construct_ip_header(&mut self, at: HeaderAt, header: &IpHeader) -> Result<()> {
        let (source, family) = octets(header.source);
        let (destination, other) = octets(header.destination);
        if family != other || self.net_buffers().count() != 1 {
            return Err(Error::InvalidArgument);
        }
        let fresh: u32 = if family == fwps_sys::AF_INET6 { 40 } else { 20 };
        let nbl = self.as_ptr();
        self.modify(|mut changes| {
            // The header's room, through the log; then the DDI rewrites
            // `in_place` bytes where the data starts.
            let (moved, in_place) = match at {
                HeaderAt::Transport => (Some(changes.retreat(fresh)?), fresh),
                HeaderAt::Ip(h) if fresh == 40 && h > 40 => (Some(changes.advance(h - 40)?), 40),
                HeaderAt::Ip(h) => (None, h),
            };
            // SAFETY: the clone is ours (not injected: `&mut self`), with
            // one NB; the addresses are local arrays of the family's size
            // (and more); no control data.
            let status = unsafe {
                FwpsConstructIpHeaderForTransportPacket0(
                    nbl,
                    in_place,
                    family,
                    source.as_ptr(),
                    destination.as_ptr(),
                    i32::from(header.protocol),
                    0,
                    core::ptr::null(),
                    0,
                    0,
                    core::ptr::null_mut(),
                    header.interface_index,
                    header.sub_interface_index,
                )
            };
            match Status::result(status) {
                Ok(()) => Ok(()),
                Err(s) => {
                    if let Some(undo) = moved {
                        changes.undo(undo)?;
                    }
                    Err(Error::Status(s))
                }
            }
        })
    }
}
