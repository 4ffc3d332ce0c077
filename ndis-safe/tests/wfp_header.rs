//! `FwpsConstructIpHeaderForTransportPacket0` through the typed form: an
//! inbound datagram cloned at the transport layer, its IP header rebuilt
//! with other addresses (IPv4 with options kept, IPv6 with its extension
//! headers dropped), or built in front of a clone that starts at the
//! transport header; the clone's data read back; freed with no report and
//! no leak.
#![allow(missing_docs, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ndis_safe::clone::Fwps;
use ndis_safe::wfp::header::{HeaderAt, IpHeader};
use ndis_safe::{BorrowedNbl, Error, NoContext};

fn udp(payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0x30, 0x39, 0, 53];
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn v4(options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ihl = (20 + options.len()) / 4;
    let total = (20 + options.len() + 8 + payload.len()) as u16;
    let mut p = vec![0x40 | ihl as u8, 0x10];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 7, 0, 0, 33, 17, 0, 0, 192, 0, 2, 1, 10, 0, 0, 1]);
    p.extend_from_slice(options);
    p.extend_from_slice(&udp(payload));
    p
}

fn v6(ext: bool, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    if ext {
        body.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop, next UDP, PadN
    }
    body.extend_from_slice(&udp(payload));
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(body.len() as u16).to_be_bytes());
    p.extend_from_slice(&[if ext { 0 } else { 17 }, 7]);
    p.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(&body);
    p
}

fn checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// Indicates `packet` with its data after `ip` + 8 bytes (the inbound
/// transport layer's offset), clones it from `back` bytes before that, runs
/// `f` on the clone, and returns the clone's data afterwards.
fn with_clone(
    packet: &[u8],
    ip: u32,
    back: u32,
    f: impl FnOnce(&mut ndis_safe::wfp::ClonedPacket<Fwps>) -> Result<(), Error>,
) -> (Result<(), Error>, Vec<u8>) {
    let session = ndis_sim::Session::new();
    let indicated = ndis_sim::StackNbl::indicate(packet, ip + 8);
    // SAFETY: the stack lends the NBL for this (simulated) classify.
    let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
    let mut clone = lent.reference_and_clone::<Fwps, NoContext>(back, None, NoContext).unwrap();
    let r = f(&mut clone);
    let nb = clone.first().unwrap();
    let mut storage = vec![0u8; nb.data_length() as usize];
    let data = nb.peek(&mut storage).map(<[u8]>::to_vec).unwrap_or_default();
    drop(clone);
    indicated.complete();
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
    (r, data)
}

#[test]
fn an_ipv4_header_is_rebuilt_with_new_addresses_and_its_options_kept() {
    let options = [0x94, 4, 0, 0]; // router alert
    let packet = v4(&options, b"data");
    let header = IpHeader {
        source: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        destination: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)),
        protocol: 17,
        interface_index: 3,
        sub_interface_index: 1,
    };
    let (r, data) = with_clone(&packet, 24, 32, |c| c.construct_ip_header(HeaderAt::Ip(24), &header));
    r.unwrap();
    assert_eq!(data.len(), packet.len());
    assert_eq!(data[0], 0x46, "IHL 6: the options are kept");
    assert_eq!(&data[2..4], &(packet.len() as u16).to_be_bytes());
    assert_eq!((data[1], data[8], data[9]), (0, 128, 17), "the stack's TOS and TTL, the protocol set");
    assert_eq!(&data[12..20], &[198, 51, 100, 7, 10, 0, 0, 9]);
    assert_eq!(&data[20..24], &options);
    assert!(checksum_ok(&data[..24]), "{:02x?}", &data[..24]);
    assert_eq!(&data[24..], &packet[24..], "the datagram after it is untouched");
}

#[test]
fn an_ipv6_header_is_rebuilt_without_its_extension_headers() {
    let packet = v6(true, b"payload!");
    let header = IpHeader {
        source: IpAddr::V6("2001:db8::99".parse().unwrap()),
        destination: IpAddr::V6(Ipv6Addr::LOCALHOST),
        protocol: 17,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let (r, data) = with_clone(&packet, 48, 56, |c| c.construct_ip_header(HeaderAt::Ip(48), &header));
    r.unwrap();
    let datagram = udp(b"payload!");
    assert_eq!(data.len(), 40 + datagram.len(), "the hop-by-hop header is gone");
    assert_eq!(&data[4..8], &[0, datagram.len() as u8, 17, 128]);
    assert_eq!(&data[8..24], &"2001:db8::99".parse::<Ipv6Addr>().unwrap().octets());
    assert_eq!(&data[40..], &datagram[..]);
}

#[test]
fn a_header_is_built_in_front_of_a_clone_at_the_transport_header() {
    for v6 in [false, true] {
        let (packet, ip) = if v6 { (self::v6(false, b"x"), 40) } else { (v4(&[], b"x"), 20) };
        let (source, destination) = if v6 {
            (IpAddr::V6("2001:db8::1".parse().unwrap()), IpAddr::V6(Ipv6Addr::LOCALHOST))
        } else {
            (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        };
        let header = IpHeader { source, destination, protocol: 17, interface_index: 0, sub_interface_index: 0 };
        // The clone starts at the UDP header: 8 bytes back from the payload.
        let (r, data) = with_clone(&packet, ip, 8, |c| c.construct_ip_header(HeaderAt::Transport, &header));
        r.unwrap();
        assert_eq!(data.len(), packet.len(), "v6 {v6}");
        assert_eq!(&data[ip as usize..], &packet[ip as usize..], "v6 {v6}");
        if v6 {
            assert_eq!(data[7], 128, "a new header's hop limit");
            assert_eq!(&data[24..40], &Ipv6Addr::LOCALHOST.octets());
        } else {
            assert_eq!((data[0], data[8], data[9]), (0x45, 128, 17));
            assert!(checksum_ok(&data[..20]));
        }
    }
}

#[test]
fn mixed_families_and_a_short_header_are_refused_and_leave_the_clone_as_it_was() {
    let packet = v4(&[], b"data");
    let mixed = IpHeader {
        source: IpAddr::V4(Ipv4Addr::LOCALHOST),
        destination: IpAddr::V6(Ipv6Addr::LOCALHOST),
        protocol: 17,
        interface_index: 0,
        sub_interface_index: 0,
    };
    let (r, data) = with_clone(&packet, 20, 28, |c| c.construct_ip_header(HeaderAt::Ip(20), &mixed));
    assert_eq!(r, Err(Error::InvalidArgument));
    assert_eq!(data, packet);
    let ok = IpHeader { destination: IpAddr::V4(Ipv4Addr::LOCALHOST), ..mixed };
    let (r, data) = with_clone(&packet, 20, 28, |c| c.construct_ip_header(HeaderAt::Ip(18), &ok));
    assert!(matches!(r, Err(Error::Status(_))), "{r:?}");
    assert_eq!(data, packet);
}

static RECEIVED: std::sync::Mutex<Vec<(bool, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());

fn received(mut c: ndis_safe::wfp::Completed<ndis_safe::wfp::ClonedPacket<Fwps>>) {
    let ok = c.status().is_ok();
    let packet = c.packet();
    let nb = packet.first().unwrap();
    let mut storage = vec![0u8; nb.data_length() as usize];
    let data = nb.peek(&mut storage).map(<[u8]>::to_vec).unwrap_or_default();
    RECEIVED.lock().unwrap().push((ok, data));
    // Dropped: the header's moves undone, the clone freed, the reference released.
}

/// The whole path: an inbound datagram cloned at the transport layer, its
/// header rebuilt for another destination, received again at the network
/// layer (`FwpsInjectNetworkReceiveAsync0`), completed and freed.
#[test]
fn a_rebuilt_clone_is_received_again_at_the_network_layer() {
    use ndis_safe::wfp::{InjectionHandle, InjectionTypes};
    let handle = ndis_sim::untracked(|| InjectionHandle::new(0, InjectionTypes::NETWORK).unwrap());
    let session = ndis_sim::Session::new();
    let packet = v4(&[], b"redirect me");
    let indicated = ndis_sim::StackNbl::indicate(&packet, 28);
    // SAFETY: the stack lends the NBL for this (simulated) classify.
    let mut lent = unsafe { BorrowedNbl::from_raw(indicated.as_ptr()) }.unwrap();
    let mut clone = lent.reference_and_clone::<Fwps, NoContext>(28, None, NoContext).unwrap();
    let header = IpHeader {
        source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        destination: IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)),
        protocol: 17,
        interface_index: 5,
        sub_interface_index: 0,
    };
    clone.construct_ip_header(HeaderAt::Ip(20), &header).unwrap();
    handle.inject_network_receive(clone, 1, 5, 0, received).map_err(|r| r.error).unwrap();
    indicated.complete(); // classify returns; the reference keeps the original
    assert_eq!(ndis_sim::complete_all(0), 1);
    let got = std::mem::take(&mut *RECEIVED.lock().unwrap());
    assert_eq!(got.len(), 1);
    let (ok, data) = &got[0];
    assert!(ok);
    assert_eq!(data.len(), packet.len());
    assert_eq!(&data[16..20], &[10, 9, 9, 9], "the new destination");
    assert!(checksum_ok(&data[..20]));
    assert_eq!(&data[20..], &packet[20..]);
    assert!(session.reports().is_empty(), "{:#?}", session.reports());
    assert!(session.leaks().is_empty(), "{}", session.leaks());
    drop(session);
    ndis_sim::untracked(|| drop(handle));
}
