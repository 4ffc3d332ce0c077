//! `FwpsConstructIpHeaderForTransportPacket0`: an IP header built (or
//! rebuilt) in front of a transport packet's one NET_BUFFER, before the
//! packet is injected at the network layer.
//!
//! The simulator's decisions where the documentation is silent:
//!
//! - the header is written at the NB's data start: with
//!   `headerIncludeHeaderLength` 0 the data starts at the transport header
//!   and the NB is retreated by the new header's size first (into unused
//!   space, or a new MDL as `NdisRetreatNetBufferDataStart` does); with a
//!   length, the data starts at an existing header of that length, which is
//!   rewritten in place — IPv4 options kept, IPv6 extension headers dropped
//!   (the NB is advanced past them, so the new 40-byte header sits right
//!   before the transport header);
//! - `sourceAddress` becomes the header's source, `remoteAddress` its
//!   destination; every other field is the stack's own: type of service
//!   (traffic class, flow label) 0, TTL (hop limit) 128, no fragmentation,
//!   identification 0, a fresh IPv4 checksum — so a header rebuilt in
//!   place is the same as one built new; the transport header and its
//!   checksum are left as they are;
//! - an NBL with more or less than one NB, an unknown family, a header
//!   length that cannot be an IP header's, or a packet too long for the
//!   length field is `STATUS_INVALID_PARAMETER`, and nothing changes.

#![allow(non_snake_case, reason = "the DDI's name and parameter names")]

use fwps_sys::*;
use ndis_sys::*;

use crate::model::Kind;
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::records::{copy_in, copy_out, nb_data, nbs};
use crate::model::retreat::{advance, retreat};
use crate::verifier::irql::at_most;
use crate::verifier::{self, data, objects};

const DDI: &str = "FwpsConstructIpHeaderForTransportPacket0";

/// The IPv4 header checksum of `h` (its checksum field zero).
fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Builds (`headerIncludeHeaderLength` 0) or rebuilds the IP header of
/// the one NET_BUFFER of `netBufferList` for `addressFamily`, from
/// `sourceAddress` to `remoteAddress`, next protocol `nextProtocol` (see
/// the module's decisions). The endpoint, control data, flags and
/// interface arguments are accepted and not used by the simulated stack.
///
/// # Safety
///
/// `netBufferList` is NULL or an NBL the caller owns (checked live);
/// the addresses are NULL or readable for the family's address size.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FwpsConstructIpHeaderForTransportPacket0(
    netBufferList: *mut NET_BUFFER_LIST,
    headerIncludeHeaderLength: ULONG,
    addressFamily: ADDRESS_FAMILY,
    sourceAddress: *const UCHAR,
    remoteAddress: *const UCHAR,
    nextProtocol: IPPROTO,
    _endpointHandle: UINT64,
    _controlData: *const WSACMSGHDR,
    _controlDataLength: ULONG,
    _flags: UINT32,
    _reserved: PVOID,
    _interfaceIndex: IF_INDEX,
    _subInterfaceIndex: IF_INDEX,
) -> NTSTATUS {
    at_most(DISPATCH_LEVEL, DDI);
    let (v6, size) = match addressFamily {
        AF_INET => (false, 4usize),
        AF_INET6 => (true, 16usize),
        _ => return STATUS_INVALID_PARAMETER,
    };
    if sourceAddress.is_null() || remoteAddress.is_null() || !(0..=255).contains(&nextProtocol) {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's guarantee: readable for the family's size.
    let (src, dst) = unsafe {
        (
            core::slice::from_raw_parts(sourceAddress, size).to_vec(),
            core::slice::from_raw_parts(remoteAddress, size).to_vec(),
        )
    };
    let h = headerIncludeHeaderLength;
    verifier::with(|st, found| {
        if !objects::live(st, netBufferList as usize, Kind::Nbl, DDI, found) {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: a live NBL; its NBs are live.
        let list = unsafe { nbs(netBufferList) };
        let [nb] = list.as_slice() else { return STATUS_INVALID_PARAMETER };
        let nb = *nb;
        // SAFETY: a live NB and its MDLs.
        if !unsafe { data::consistent(st, nb, DDI, found) } {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: as above.
        let length = unsafe { nb_data(nb) }.data_length;
        let fresh = if v6 { 40 } else { 20 };
        let valid = match (h, v6) {
            (0, _) => true,
            (h, false) => (20..=60).contains(&h) && h % 4 == 0 && h <= length,
            (h, true) => h >= 40 && h <= length,
        };
        if !valid {
            return STATUS_INVALID_PARAMETER;
        }
        // The header's final size, and the data length after it.
        let header = if v6 || h == 0 { fresh } else { h };
        let total =
            if h == 0 { u64::from(length) + u64::from(fresh) } else { u64::from(length) - u64::from(h - header) };
        if total - u64::from(if v6 { header } else { 0 }) > 0xffff {
            return STATUS_INVALID_PARAMETER;
        }
        // The existing header's bytes, for what is kept.
        let mut old = vec![0u8; h.min(length) as usize];
        // SAFETY: inside the data.
        unsafe { copy_out(nb, 0, old.as_mut_ptr(), old.len() as u32) };
        if h == 0 {
            // SAFETY: a live, consistent NB; NDIS's own MDL if one is needed.
            let status = unsafe { retreat(st, nb, fresh, 0, None) };
            if status != NDIS_STATUS_SUCCESS {
                return status;
            }
        } else if h > header {
            let mut to_free = Vec::new();
            // SAFETY: as above; h - header < length, inside the data.
            unsafe { advance(st, nb, h - header, false, DDI, &mut to_free) };
        }
        let proto = nextProtocol as u8;
        let bytes = if v6 {
            let hop = 128;
            let mut b = vec![0x60, 0, 0, 0];
            b.extend_from_slice(&((total - 40) as u16).to_be_bytes());
            b.extend_from_slice(&[proto, hop]);
            b.extend_from_slice(&src);
            b.extend_from_slice(&dst);
            b
        } else {
            let (tos, ttl) = (0, 128);
            let mut b = vec![0x40 | (header / 4) as u8, tos];
            b.extend_from_slice(&(total as u16).to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, 0, ttl, proto, 0, 0]);
            b.extend_from_slice(&src);
            b.extend_from_slice(&dst);
            b.extend_from_slice(old.get(20..header as usize).unwrap_or(&[]));
            let sum = checksum(&b);
            b[10..12].copy_from_slice(&sum.to_be_bytes());
            b
        };
        // SAFETY: the data starts at the header's room now, `header` bytes long.
        unsafe { copy_in(nb, 0, bytes.as_ptr(), bytes.len() as u32) };
        STATUS_SUCCESS
    })
}
