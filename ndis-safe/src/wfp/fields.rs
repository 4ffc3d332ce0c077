//! The incoming values of each layer, by name: one associated constant
//! per `FWPS_FIELDS_*` enumerator on the layer's type
//! ([`InboundTransportV4::IP_REMOTE_PORT`](crate::wfp::layer::InboundTransportV4::IP_REMOTE_PORT)),
//! typed by what the engine stores there.
//!
//! # Why a table, not a generator
//!
//! The table below is a `macro_rules!` invocation: each entry names the
//! field and the fwps-sys constant that gives its index, so the index comes
//! from the bindings themselves and cannot drift. The Rust type of a field
//! is chosen by its name (the `field_ty!` arms below); a field the table does not type
//! is an [`AnyValue`], still tag-checked. A test checks the table against
//! fwps-sys: every enumerator of each layer below its `_MAX` is listed once,
//! under its own name. A generator in xtask would need a second pass over
//! the generated bindings and a checked-in output for no gain: the table is
//! short, its entries are checked, and adding a layer is one block.

use core::marker::PhantomData;

#[allow(clippy::wildcard_imports, reason = "the table names fwps-sys' FWPS_FIELD_* constants")]
use fwps_sys::*;

use crate::wfp::layer::{DataOffset, Family, Layer, Layers, MemberOf};
use crate::wfp::value::{AnyValue, AppId, FieldType, IpAddress, Ipv4, Ipv6, Luid, Sid, UserId};

/// A field of layer `L` whose value reads as `T`.
///
/// # Invariants
///
/// `index` is an `FWPS_FIELDS_*` enumerator of `L`, below its `_MAX`.
pub struct Field<L, T> {
    index: u32,
    _p: PhantomData<fn() -> (L, T)>,
}

impl<L, T> Clone for Field<L, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L, T> Copy for Field<L, T> {}

impl<L, T: FieldType> Field<L, T> {
    const fn new(index: i32) -> Field<L, T> {
        Field { index: index as u32, _p: PhantomData }
    }

    /// The field's index in `incomingValue[]` (its `FWPS_FIELDS_*` value).
    #[inline]
    pub const fn index(self) -> u32 {
        self.index
    }
}

/// A field every layer of the set `S` has, read at whichever of them the
/// classify is at: by the index of the field at that layer (its
/// `FWPS_FIELDS_*` value differs from layer to layer), with the value's
/// type tag checked as for a [`Field`].
///
/// # Invariants
///
/// Byte `p` of `indices` (little-endian) is the field's index at the layer
/// at position `p` of `S`, below that layer's `_MAX`, for every
/// `p < S::COUNT` (a word, not an array: read by a shift, in a register).
pub struct SetField<S, T> {
    indices: u64,
    _p: PhantomData<fn() -> (S, T)>,
}

/// The most layers in a set.
const SET_MAX: usize = 8;

impl<S, T> Clone for SetField<S, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S, T> Copy for SetField<S, T> {}

impl<S, T> SetField<S, T> {
    /// The field's index at the layer at `position` of the set.
    #[inline(always)]
    pub const fn index_at(self, position: u8) -> Option<u32> {
        if (position as usize) < SET_MAX { Some((self.indices >> (position as u32 * 8)) as u8 as u32) } else { None }
    }
}

/// A field a classify typed by `S` (a layer or a layer set) can read: a
/// [`Field`] of a layer of `S` (read only at that layer) or a [`SetField`]
/// of `S`. Sealed.
pub trait FieldOf<S>: Copy + sealed::Sealed {
    /// The type its value reads as.
    type Type: FieldType;

    /// Its index at the layer at `position` of `S`; `None` at a layer that
    /// does not have it.
    #[doc(hidden)]
    fn index_at(self, position: u8) -> Option<u32>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

impl<L, T> sealed::Sealed for Field<L, T> {}
impl<S, T> sealed::Sealed for SetField<S, T> {}

impl<S: Layers, M: MemberOf<S>, T: FieldType> FieldOf<S> for Field<M, T> {
    type Type = T;

    #[inline(always)]
    fn index_at(self, position: u8) -> Option<u32> {
        (S::COUNT == 1 || position == M::POSITION).then_some(self.index)
    }
}

impl<S: Layers, T: FieldType> FieldOf<S> for SetField<S, T> {
    type Type = T;

    #[inline(always)]
    fn index_at(self, position: u8) -> Option<u32> {
        SetField::index_at(self, position)
    }
}

/// A member's field read as the set's field type: the same type, or an
/// IPv4 or IPv6 address read as an [`IpAddress`] (the family is the
/// layer's).
#[doc(hidden)]
pub trait Widens<U>: sealed_widen::Sealed<U> {}

mod sealed_widen {
    pub trait Sealed<U> {}
}

impl<T: FieldType> sealed_widen::Sealed<T> for T {}
impl<T: FieldType> Widens<T> for T {}
impl sealed_widen::Sealed<IpAddress> for Ipv4 {}
impl Widens<IpAddress> for Ipv4 {}
impl sealed_widen::Sealed<IpAddress> for Ipv6 {}
impl Widens<IpAddress> for Ipv6 {}

/// The index of a member's field, for a set's table; the types are checked
/// to agree.
const fn member_index<L, T: Widens<U>, U>(field: Field<L, T>) -> u8 {
    assert!(field.index < 0xFF);
    field.index as u8
}

/// The position of `id` in `ids`, at compile time.
#[allow(
    clippy::indexing_slicing,
    clippy::panic,
    reason = "evaluated at compile time only (a member's position): a layer outside its set is a build error"
)]
const fn position_in(ids: &[u16], id: u16) -> u8 {
    let mut p = 0;
    while p < ids.len() {
        if ids[p] == id {
            return p as u8;
        }
        p += 1;
    }
    panic!("not a member")
}

/// A set field's index word from its members' indices, in set order.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time only (a set field's table): a set of more than SET_MAX layers is a build error"
)]
const fn index_word(members: &[u8]) -> u64 {
    let mut indices = [0xFF; SET_MAX];
    let mut p = 0;
    while p < members.len() {
        indices[p] = members[p];
        p += 1;
    }
    u64::from_le_bytes(indices)
}

/// A set field's index table, from each member's field of that name.
macro_rules! set_field {
    ($set:ident, [ $( $m:ident ),+ ], $field:ident, $fty:ty) => {
        SetField::<$set, $fty> {
            indices: index_word(&[ $( member_index::<_, _, $fty>($m::$field) ),+ ]),
            _p: PhantomData,
        }
    };
}

/// A set's `Layers` items and its members' `MemberOf` impls.
macro_rules! set_members {
    ($set:ident, [ $( $m:ident ),+ ], $kind:ident) => {
        impl $set {
            /// The members' run-time layer ids, in set order.
            pub const IDS: &'static [u16] = &[ $( <$m as Layer>::ID ),+ ];
        }

        impl Layers for $set {
            const COUNT: u8 = {
                assert!($set::IDS.len() <= SET_MAX);
                $set::IDS.len() as u8
            };
            type Kind = crate::wfp::layer::$kind;

            #[inline(always)]
            fn position(id: u16) -> Option<u8> {
                let mut p = 0;
                $(
                    if id == <$m as Layer>::ID {
                        return Some(p);
                    }
                    p += 1;
                )+
                let _ = p;
                None
            }

            // Tests of the position, not a table read: where the caller
            // has tested the position already (`Classify::is`), they fold.
            #[inline(always)]
            fn data_offset_at(position: u8) -> DataOffset {
                let mut p = 0;
                $(
                    if position == p {
                        return <$m as Layer>::DATA_OFFSET;
                    }
                    p += 1;
                )+
                let _ = p;
                DataOffset::Unspecified
            }

            #[inline(always)]
            fn family_at(position: u8) -> Family {
                let mut p = 0;
                $(
                    if position == p {
                        return <$m as Layer>::FAMILY;
                    }
                    p += 1;
                )+
                let _ = p;
                Family::V4
            }
        }

        $(
            impl MemberOf<$set> for $m {
                const POSITION: u8 = position_in($set::IDS, <$m as Layer>::ID);
            }
        )+
    };
}

/// The layer sets: each set's type, its members (one classify function
/// serves them all), its data kind, and the fields every member has.
macro_rules! layer_sets {
    ($( $(#[$doc:meta])* $set:ident = $members:tt, $kind:ident { $( $field:ident : $fty:ty, )* } )*) => {
        $(
            $(#[$doc])*
            pub enum $set {}

            impl crate::wfp::layer::sealed::Sealed for $set {}

            set_members!($set, $members, $kind);

            impl $set {
                $(
                    #[doc = concat!("`", stringify!($field), "`, at every layer of the set.")]
                    pub const $field: SetField<$set, $fty> = set_field!($set, $members, $field, $fty);
                )*
            }
        )*
    };
}

/// The Rust type of a field, by its name (and the layer's family, for
/// addresses).
macro_rules! field_ty {
    (IP_PROTOCOL, $f:ident) => {
        u8
    };
    (IP_LOCAL_ADDRESS, V4) => {
        Ipv4
    };
    (IP_LOCAL_ADDRESS, V6) => {
        Ipv6
    };
    (IP_REMOTE_ADDRESS, V4) => {
        Ipv4
    };
    (IP_REMOTE_ADDRESS, V6) => {
        Ipv6
    };
    (IP_LOCAL_PORT, $f:ident) => {
        u16
    };
    (IP_REMOTE_PORT, $f:ident) => {
        u16
    };
    (IP_LOCAL_ADDRESS_TYPE, $f:ident) => {
        u8
    };
    (IP_DESTINATION_ADDRESS_TYPE, $f:ident) => {
        u8
    };
    (INTERFACE_INDEX, $f:ident) => {
        u32
    };
    (SUB_INTERFACE_INDEX, $f:ident) => {
        u32
    };
    (ARRIVAL_INTERFACE_INDEX, $f:ident) => {
        u32
    };
    (NEXTHOP_INTERFACE_INDEX, $f:ident) => {
        u32
    };
    (NEXTHOP_SUB_INTERFACE_INDEX, $f:ident) => {
        u32
    };
    (FLAGS, $f:ident) => {
        u32
    };
    (INTERFACE_TYPE, $f:ident) => {
        u32
    };
    (TUNNEL_TYPE, $f:ident) => {
        u32
    };
    (ARRIVAL_INTERFACE_TYPE, $f:ident) => {
        u32
    };
    (ARRIVAL_TUNNEL_TYPE, $f:ident) => {
        u32
    };
    (NEXTHOP_INTERFACE_TYPE, $f:ident) => {
        u32
    };
    (NEXTHOP_TUNNEL_TYPE, $f:ident) => {
        u32
    };
    (PROFILE_ID, $f:ident) => {
        u32
    };
    (ORIGINAL_PROFILE_ID, $f:ident) => {
        u32
    };
    (CURRENT_PROFILE_ID, $f:ident) => {
        u32
    };
    (COMPARTMENT_ID, $f:ident) => {
        u32
    };
    (REAUTHORIZE_REASON, $f:ident) => {
        u32
    };
    (DIRECTION, $f:ident) => {
        u32
    };
    (IP_LOCAL_INTERFACE, $f:ident) => {
        Luid
    };
    (IP_ARRIVAL_INTERFACE, $f:ident) => {
        Luid
    };
    (IP_NEXTHOP_INTERFACE, $f:ident) => {
        Luid
    };
    (ALE_APP_ID, $f:ident) => {
        AppId
    };
    (ALE_ORIGINAL_APP_ID, $f:ident) => {
        AppId
    };
    (ALE_USER_ID, $f:ident) => {
        UserId
    };
    (ALE_REMOTE_USER_ID, $f:ident) => {
        UserId
    };
    (ALE_REMOTE_MACHINE_ID, $f:ident) => {
        UserId
    };
    (ALE_PACKAGE_ID, $f:ident) => {
        Sid
    };
    ($other:ident, $f:ident) => {
        AnyValue
    };
}

/// The layer table: each layer's type, its `FWPS_LAYER_*` name, its family,
/// its data kind, and its fields.
macro_rules! layers {
    ($( $ty:ident = $layer:ident ($lid:ident, $key:ident), $fam:ident, $kind:ident { $( $field:ident = $konst:ident, )* } )*) => {
        $(
            #[doc = concat!("`FWPS_LAYER_", stringify!($layer), "`.")]
            pub enum $ty {}

            impl crate::wfp::layer::sealed::Sealed for $ty {}

            impl crate::wfp::layer::Layer for $ty {
                const ID: u16 = $lid as u16;
                const NAME: &'static str = stringify!($layer);
                const KEY: ::fwps_sys::GUID = $key;
                const FAMILY: crate::wfp::layer::Family = crate::wfp::layer::Family::$fam;
                const FIELD_COUNT: u32 = 0 $( + { let _ = $konst; 1 } )*;
                const DATA_OFFSET: crate::wfp::layer::DataOffset = crate::wfp::layer::data_offset($lid as u16);
            }

            impl crate::wfp::layer::Layers for $ty {
                const COUNT: u8 = 1;
                type Kind = crate::wfp::layer::$kind;

                #[inline(always)]
                fn position(id: u16) -> Option<u8> {
                    (id == $lid as u16).then_some(0)
                }

                #[inline(always)]
                fn data_offset_at(_: u8) -> crate::wfp::layer::DataOffset {
                    <$ty as crate::wfp::layer::Layer>::DATA_OFFSET
                }

                #[inline(always)]
                fn family_at(_: u8) -> crate::wfp::layer::Family {
                    crate::wfp::layer::Family::$fam
                }
            }

            impl $ty {
                $(
                    #[doc = concat!("`FWPS_FIELD_", stringify!($layer), "_", stringify!($field), "`.")]
                    pub const $field: Field<$ty, field_ty!($field, $fam)> = Field::new($konst);
                )*
            }
        )*

        /// Every layer of the table with its fields' names and indices, for
        /// the test against fwps-sys.
        #[cfg(test)]
        pub(crate) const TABLE: &[(&str, u16, &[(&str, &str, u32)])] = &[
            $( (stringify!($layer), <$ty as crate::wfp::layer::Layer>::ID, &[ $( (stringify!($field), stringify!($konst), $konst as u32) ),* ]) ),*
        ];
    };
}

layers! {
    InboundIppacketV4 = INBOUND_IPPACKET_V4 (FWPS_LAYER_INBOUND_IPPACKET_V4, FWPM_LAYER_INBOUND_IPPACKET_V4), V4, Packet {
        IP_LOCAL_ADDRESS = FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_INBOUND_IPPACKET_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_INBOUND_IPPACKET_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_INBOUND_IPPACKET_V4_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_INBOUND_IPPACKET_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V4_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_INBOUND_IPPACKET_V4_COMPARTMENT_ID,
    }
    InboundIppacketV6 = INBOUND_IPPACKET_V6 (FWPS_LAYER_INBOUND_IPPACKET_V6, FWPM_LAYER_INBOUND_IPPACKET_V6), V6, Packet {
        IP_LOCAL_ADDRESS = FWPS_FIELD_INBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_INBOUND_IPPACKET_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_INBOUND_IPPACKET_V6_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_INBOUND_IPPACKET_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_INBOUND_IPPACKET_V6_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_INBOUND_IPPACKET_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_INBOUND_IPPACKET_V6_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_INBOUND_IPPACKET_V6_COMPARTMENT_ID,
    }
    OutboundIppacketV4 = OUTBOUND_IPPACKET_V4 (FWPS_LAYER_OUTBOUND_IPPACKET_V4, FWPM_LAYER_OUTBOUND_IPPACKET_V4), V4, Packet {
        IP_LOCAL_ADDRESS = FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_INTERFACE = FWPS_FIELD_OUTBOUND_IPPACKET_V4_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_IPPACKET_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_IPPACKET_V4_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_OUTBOUND_IPPACKET_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V4_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_OUTBOUND_IPPACKET_V4_COMPARTMENT_ID,
    }
    OutboundIppacketV6 = OUTBOUND_IPPACKET_V6 (FWPS_LAYER_OUTBOUND_IPPACKET_V6, FWPM_LAYER_OUTBOUND_IPPACKET_V6), V6, Packet {
        IP_LOCAL_ADDRESS = FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_INTERFACE = FWPS_FIELD_OUTBOUND_IPPACKET_V6_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_IPPACKET_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_IPPACKET_V6_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_OUTBOUND_IPPACKET_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_OUTBOUND_IPPACKET_V6_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_OUTBOUND_IPPACKET_V6_COMPARTMENT_ID,
    }
    InboundTransportV4 = INBOUND_TRANSPORT_V4 (FWPS_LAYER_INBOUND_TRANSPORT_V4, FWPM_LAYER_INBOUND_TRANSPORT_V4), V4, Packet {
        IP_PROTOCOL = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_INBOUND_TRANSPORT_V4_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_INBOUND_TRANSPORT_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V4_TUNNEL_TYPE,
        PROFILE_ID = FWPS_FIELD_INBOUND_TRANSPORT_V4_PROFILE_ID,
        IPSEC_SECURITY_REALM_ID = FWPS_FIELD_INBOUND_TRANSPORT_V4_IPSEC_SECURITY_REALM_ID,
        COMPARTMENT_ID = FWPS_FIELD_INBOUND_TRANSPORT_V4_COMPARTMENT_ID,
    }
    InboundTransportV6 = INBOUND_TRANSPORT_V6 (FWPS_LAYER_INBOUND_TRANSPORT_V6, FWPM_LAYER_INBOUND_TRANSPORT_V6), V6, Packet {
        IP_PROTOCOL = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_INBOUND_TRANSPORT_V6_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_INBOUND_TRANSPORT_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_INBOUND_TRANSPORT_V6_SUB_INTERFACE_INDEX,
        FLAGS = FWPS_FIELD_INBOUND_TRANSPORT_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_INBOUND_TRANSPORT_V6_TUNNEL_TYPE,
        PROFILE_ID = FWPS_FIELD_INBOUND_TRANSPORT_V6_PROFILE_ID,
        IPSEC_SECURITY_REALM_ID = FWPS_FIELD_INBOUND_TRANSPORT_V6_IPSEC_SECURITY_REALM_ID,
        COMPARTMENT_ID = FWPS_FIELD_INBOUND_TRANSPORT_V6_COMPARTMENT_ID,
    }
    OutboundTransportV4 = OUTBOUND_TRANSPORT_V4 (FWPS_LAYER_OUTBOUND_TRANSPORT_V4, FWPM_LAYER_OUTBOUND_TRANSPORT_V4), V4, Packet {
        IP_PROTOCOL = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_PORT = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_SUB_INTERFACE_INDEX,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IP_DESTINATION_ADDRESS_TYPE,
        FLAGS = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_TUNNEL_TYPE,
        PROFILE_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_PROFILE_ID,
        IPSEC_SECURITY_REALM_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_IPSEC_SECURITY_REALM_ID,
        COMPARTMENT_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V4_COMPARTMENT_ID,
    }
    OutboundTransportV6 = OUTBOUND_TRANSPORT_V6 (FWPS_LAYER_OUTBOUND_TRANSPORT_V6, FWPM_LAYER_OUTBOUND_TRANSPORT_V6), V6, Packet {
        IP_PROTOCOL = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_PORT = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_SUB_INTERFACE_INDEX,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IP_DESTINATION_ADDRESS_TYPE,
        FLAGS = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_TUNNEL_TYPE,
        PROFILE_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_PROFILE_ID,
        IPSEC_SECURITY_REALM_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_IPSEC_SECURITY_REALM_ID,
        COMPARTMENT_ID = FWPS_FIELD_OUTBOUND_TRANSPORT_V6_COMPARTMENT_ID,
    }
    DatagramDataV4 = DATAGRAM_DATA_V4 (FWPS_LAYER_DATAGRAM_DATA_V4, FWPM_LAYER_DATAGRAM_DATA_V4), V4, Packet {
        IP_PROTOCOL = FWPS_FIELD_DATAGRAM_DATA_V4_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_DATAGRAM_DATA_V4_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_DATAGRAM_DATA_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_DATAGRAM_DATA_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_DATAGRAM_DATA_V4_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_DATAGRAM_DATA_V4_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_DATAGRAM_DATA_V4_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_DATAGRAM_DATA_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_DATAGRAM_DATA_V4_SUB_INTERFACE_INDEX,
        DIRECTION = FWPS_FIELD_DATAGRAM_DATA_V4_DIRECTION,
        FLAGS = FWPS_FIELD_DATAGRAM_DATA_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_DATAGRAM_DATA_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_DATAGRAM_DATA_V4_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_DATAGRAM_DATA_V4_COMPARTMENT_ID,
    }
    DatagramDataV6 = DATAGRAM_DATA_V6 (FWPS_LAYER_DATAGRAM_DATA_V6, FWPM_LAYER_DATAGRAM_DATA_V6), V6, Packet {
        IP_PROTOCOL = FWPS_FIELD_DATAGRAM_DATA_V6_IP_PROTOCOL,
        IP_LOCAL_ADDRESS = FWPS_FIELD_DATAGRAM_DATA_V6_IP_LOCAL_ADDRESS,
        IP_REMOTE_ADDRESS = FWPS_FIELD_DATAGRAM_DATA_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_DATAGRAM_DATA_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_DATAGRAM_DATA_V6_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_DATAGRAM_DATA_V6_IP_REMOTE_PORT,
        IP_LOCAL_INTERFACE = FWPS_FIELD_DATAGRAM_DATA_V6_IP_LOCAL_INTERFACE,
        INTERFACE_INDEX = FWPS_FIELD_DATAGRAM_DATA_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_DATAGRAM_DATA_V6_SUB_INTERFACE_INDEX,
        DIRECTION = FWPS_FIELD_DATAGRAM_DATA_V6_DIRECTION,
        FLAGS = FWPS_FIELD_DATAGRAM_DATA_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_DATAGRAM_DATA_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_DATAGRAM_DATA_V6_TUNNEL_TYPE,
        COMPARTMENT_ID = FWPS_FIELD_DATAGRAM_DATA_V6_COMPARTMENT_ID,
    }
    StreamV4 = STREAM_V4 (FWPS_LAYER_STREAM_V4, FWPM_LAYER_STREAM_V4), V4, Stream {
        IP_LOCAL_ADDRESS = FWPS_FIELD_STREAM_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_STREAM_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_STREAM_V4_IP_REMOTE_ADDRESS,
        IP_LOCAL_PORT = FWPS_FIELD_STREAM_V4_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_STREAM_V4_IP_REMOTE_PORT,
        DIRECTION = FWPS_FIELD_STREAM_V4_DIRECTION,
        FLAGS = FWPS_FIELD_STREAM_V4_FLAGS,
        COMPARTMENT_ID = FWPS_FIELD_STREAM_V4_COMPARTMENT_ID,
    }
    StreamV6 = STREAM_V6 (FWPS_LAYER_STREAM_V6, FWPM_LAYER_STREAM_V6), V6, Stream {
        IP_LOCAL_ADDRESS = FWPS_FIELD_STREAM_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_STREAM_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_REMOTE_ADDRESS = FWPS_FIELD_STREAM_V6_IP_REMOTE_ADDRESS,
        IP_LOCAL_PORT = FWPS_FIELD_STREAM_V6_IP_LOCAL_PORT,
        IP_REMOTE_PORT = FWPS_FIELD_STREAM_V6_IP_REMOTE_PORT,
        DIRECTION = FWPS_FIELD_STREAM_V6_DIRECTION,
        FLAGS = FWPS_FIELD_STREAM_V6_FLAGS,
        COMPARTMENT_ID = FWPS_FIELD_STREAM_V6_COMPARTMENT_ID,
    }
    AleAuthConnectV4 = ALE_AUTH_CONNECT_V4 (FWPS_LAYER_ALE_AUTH_CONNECT_V4, FWPM_LAYER_ALE_AUTH_CONNECT_V4), V4, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_REMOTE_MACHINE_ID,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_DESTINATION_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_INTERFACE,
        FLAGS = FWPS_FIELD_ALE_AUTH_CONNECT_V4_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_TUNNEL_TYPE,
        INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V4_SUB_INTERFACE_INDEX,
        IP_ARRIVAL_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_ARRIVAL_INTERFACE,
        ARRIVAL_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ARRIVAL_INTERFACE_TYPE,
        ARRIVAL_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ARRIVAL_TUNNEL_TYPE,
        ARRIVAL_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ARRIVAL_INTERFACE_INDEX,
        NEXTHOP_SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V4_NEXTHOP_SUB_INTERFACE_INDEX,
        IP_NEXTHOP_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_NEXTHOP_INTERFACE,
        NEXTHOP_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_NEXTHOP_INTERFACE_TYPE,
        NEXTHOP_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_NEXTHOP_TUNNEL_TYPE,
        NEXTHOP_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V4_NEXTHOP_INTERFACE_INDEX,
        ORIGINAL_PROFILE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ORIGINAL_PROFILE_ID,
        CURRENT_PROFILE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_CURRENT_PROFILE_ID,
        REAUTHORIZE_REASON = FWPS_FIELD_ALE_AUTH_CONNECT_V4_REAUTHORIZE_REASON,
        PEER_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V4_PEER_NAME,
        ORIGINAL_ICMP_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ORIGINAL_ICMP_TYPE,
        INTERFACE_QUARANTINE_EPOCH = FWPS_FIELD_ALE_AUTH_CONNECT_V4_INTERFACE_QUARANTINE_EPOCH,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        ALE_EFFECTIVE_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_EFFECTIVE_NAME,
        COMPARTMENT_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V4_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_AUTH_CONNECT_V4_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_AUTH_CONNECT_V4_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_AUTH_CONNECT_V4_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_AUTH_CONNECT_V4_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V4_PACKAGE_FAMILY_NAME,
    }
    AleAuthConnectV6 = ALE_AUTH_CONNECT_V6 (FWPS_LAYER_ALE_AUTH_CONNECT_V6, FWPM_LAYER_ALE_AUTH_CONNECT_V6), V6, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_REMOTE_MACHINE_ID,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_DESTINATION_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_INTERFACE,
        FLAGS = FWPS_FIELD_ALE_AUTH_CONNECT_V6_FLAGS,
        INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_TUNNEL_TYPE,
        INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V6_SUB_INTERFACE_INDEX,
        IP_ARRIVAL_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_ARRIVAL_INTERFACE,
        ARRIVAL_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ARRIVAL_INTERFACE_TYPE,
        ARRIVAL_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ARRIVAL_TUNNEL_TYPE,
        ARRIVAL_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ARRIVAL_INTERFACE_INDEX,
        NEXTHOP_SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V6_NEXTHOP_SUB_INTERFACE_INDEX,
        IP_NEXTHOP_INTERFACE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_NEXTHOP_INTERFACE,
        NEXTHOP_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_NEXTHOP_INTERFACE_TYPE,
        NEXTHOP_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_NEXTHOP_TUNNEL_TYPE,
        NEXTHOP_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_CONNECT_V6_NEXTHOP_INTERFACE_INDEX,
        ORIGINAL_PROFILE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ORIGINAL_PROFILE_ID,
        CURRENT_PROFILE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_CURRENT_PROFILE_ID,
        REAUTHORIZE_REASON = FWPS_FIELD_ALE_AUTH_CONNECT_V6_REAUTHORIZE_REASON,
        PEER_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V6_PEER_NAME,
        ORIGINAL_ICMP_TYPE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ORIGINAL_ICMP_TYPE,
        INTERFACE_QUARANTINE_EPOCH = FWPS_FIELD_ALE_AUTH_CONNECT_V6_INTERFACE_QUARANTINE_EPOCH,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        ALE_EFFECTIVE_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V6_ALE_EFFECTIVE_NAME,
        COMPARTMENT_ID = FWPS_FIELD_ALE_AUTH_CONNECT_V6_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_AUTH_CONNECT_V6_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_AUTH_CONNECT_V6_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_AUTH_CONNECT_V6_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_AUTH_CONNECT_V6_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_AUTH_CONNECT_V6_PACKAGE_FAMILY_NAME,
    }
    AleAuthRecvAcceptV4 = ALE_AUTH_RECV_ACCEPT_V4 (FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4, FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4), V4, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_REMOTE_MACHINE_ID,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_LOCAL_INTERFACE,
        FLAGS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_FLAGS,
        SIO_FIREWALL_SYSTEM_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_SIO_FIREWALL_SYSTEM_PORT,
        NAP_CONTEXT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_NAP_CONTEXT,
        INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_TUNNEL_TYPE,
        INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_SUB_INTERFACE_INDEX,
        IP_ARRIVAL_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_ARRIVAL_INTERFACE,
        ARRIVAL_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ARRIVAL_INTERFACE_TYPE,
        ARRIVAL_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ARRIVAL_TUNNEL_TYPE,
        ARRIVAL_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ARRIVAL_INTERFACE_INDEX,
        NEXTHOP_SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_NEXTHOP_SUB_INTERFACE_INDEX,
        IP_NEXTHOP_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_IP_NEXTHOP_INTERFACE,
        NEXTHOP_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_NEXTHOP_INTERFACE_TYPE,
        NEXTHOP_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_NEXTHOP_TUNNEL_TYPE,
        NEXTHOP_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_NEXTHOP_INTERFACE_INDEX,
        ORIGINAL_PROFILE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ORIGINAL_PROFILE_ID,
        CURRENT_PROFILE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_CURRENT_PROFILE_ID,
        REAUTHORIZE_REASON = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_REAUTHORIZE_REASON,
        ORIGINAL_ICMP_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ORIGINAL_ICMP_TYPE,
        INTERFACE_QUARANTINE_EPOCH = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_INTERFACE_QUARANTINE_EPOCH,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_PACKAGE_FAMILY_NAME,
    }
    AleAuthRecvAcceptV6 = ALE_AUTH_RECV_ACCEPT_V6 (FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V6, FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6), V6, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_REMOTE_MACHINE_ID,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_LOCAL_INTERFACE,
        FLAGS = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_FLAGS,
        SIO_FIREWALL_SYSTEM_PORT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_SIO_FIREWALL_SYSTEM_PORT,
        NAP_CONTEXT = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_NAP_CONTEXT,
        INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_TUNNEL_TYPE,
        INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_INTERFACE_INDEX,
        SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_SUB_INTERFACE_INDEX,
        IP_ARRIVAL_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_ARRIVAL_INTERFACE,
        ARRIVAL_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ARRIVAL_INTERFACE_TYPE,
        ARRIVAL_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ARRIVAL_TUNNEL_TYPE,
        ARRIVAL_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ARRIVAL_INTERFACE_INDEX,
        NEXTHOP_SUB_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_NEXTHOP_SUB_INTERFACE_INDEX,
        IP_NEXTHOP_INTERFACE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_IP_NEXTHOP_INTERFACE,
        NEXTHOP_INTERFACE_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_NEXTHOP_INTERFACE_TYPE,
        NEXTHOP_TUNNEL_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_NEXTHOP_TUNNEL_TYPE,
        NEXTHOP_INTERFACE_INDEX = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_NEXTHOP_INTERFACE_INDEX,
        ORIGINAL_PROFILE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ORIGINAL_PROFILE_ID,
        CURRENT_PROFILE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_CURRENT_PROFILE_ID,
        REAUTHORIZE_REASON = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_REAUTHORIZE_REASON,
        ORIGINAL_ICMP_TYPE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ORIGINAL_ICMP_TYPE,
        INTERFACE_QUARANTINE_EPOCH = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_INTERFACE_QUARANTINE_EPOCH,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V6_PACKAGE_FAMILY_NAME,
    }
    AleFlowEstablishedV4 = ALE_FLOW_ESTABLISHED_V4 (FWPS_LAYER_ALE_FLOW_ESTABLISHED_V4, FWPM_LAYER_ALE_FLOW_ESTABLISHED_V4), V4, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_REMOTE_MACHINE_ID,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_DESTINATION_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_IP_LOCAL_INTERFACE,
        DIRECTION = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_DIRECTION,
        INTERFACE_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_TUNNEL_TYPE,
        FLAGS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_FLAGS,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V4_PACKAGE_FAMILY_NAME,
    }
    AleFlowEstablishedV6 = ALE_FLOW_ESTABLISHED_V6 (FWPS_LAYER_ALE_FLOW_ESTABLISHED_V6, FWPM_LAYER_ALE_FLOW_ESTABLISHED_V6), V6, Packet {
        ALE_APP_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_REMOTE_ADDRESS,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_REMOTE_PORT,
        ALE_REMOTE_USER_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_REMOTE_USER_ID,
        ALE_REMOTE_MACHINE_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_REMOTE_MACHINE_ID,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_DESTINATION_ADDRESS_TYPE,
        IP_LOCAL_INTERFACE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_IP_LOCAL_INTERFACE,
        DIRECTION = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_DIRECTION,
        INTERFACE_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_INTERFACE_TYPE,
        TUNNEL_TYPE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_TUNNEL_TYPE,
        FLAGS = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_FLAGS,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_COMPARTMENT_ID,
        RESERVED_0 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_RESERVED_0,
        RESERVED_1 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_RESERVED_1,
        RESERVED_2 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_RESERVED_2,
        RESERVED_3 = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_RESERVED_3,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_FLOW_ESTABLISHED_V6_PACKAGE_FAMILY_NAME,
    }
    AleConnectRedirectV4 = ALE_CONNECT_REDIRECT_V4 (FWPS_LAYER_ALE_CONNECT_REDIRECT_V4, FWPM_LAYER_ALE_CONNECT_REDIRECT_V4), V4, ConnectRedirect {
        ALE_APP_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_REMOTE_ADDRESS,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_DESTINATION_ADDRESS_TYPE,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_IP_REMOTE_PORT,
        FLAGS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_FLAGS,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_COMPARTMENT_ID,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_CONNECT_REDIRECT_V4_PACKAGE_FAMILY_NAME,
    }
    AleConnectRedirectV6 = ALE_CONNECT_REDIRECT_V6 (FWPS_LAYER_ALE_CONNECT_REDIRECT_V6, FWPM_LAYER_ALE_CONNECT_REDIRECT_V6), V6, ConnectRedirect {
        ALE_APP_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_PROTOCOL,
        IP_REMOTE_ADDRESS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_REMOTE_ADDRESS,
        IP_DESTINATION_ADDRESS_TYPE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_DESTINATION_ADDRESS_TYPE,
        IP_REMOTE_PORT = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_IP_REMOTE_PORT,
        FLAGS = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_FLAGS,
        ALE_ORIGINAL_APP_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_ORIGINAL_APP_ID,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_COMPARTMENT_ID,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_CONNECT_REDIRECT_V6_PACKAGE_FAMILY_NAME,
    }
    AleBindRedirectV4 = ALE_BIND_REDIRECT_V4 (FWPS_LAYER_ALE_BIND_REDIRECT_V4, FWPM_LAYER_ALE_BIND_REDIRECT_V4), V4, BindRedirect {
        ALE_APP_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V4_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V4_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_BIND_REDIRECT_V4_IP_PROTOCOL,
        FLAGS = FWPS_FIELD_ALE_BIND_REDIRECT_V4_FLAGS,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V4_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_BIND_REDIRECT_V4_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V4_COMPARTMENT_ID,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_BIND_REDIRECT_V4_PACKAGE_FAMILY_NAME,
    }
    AleBindRedirectV6 = ALE_BIND_REDIRECT_V6 (FWPS_LAYER_ALE_BIND_REDIRECT_V6, FWPM_LAYER_ALE_BIND_REDIRECT_V6), V6, BindRedirect {
        ALE_APP_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V6_ALE_APP_ID,
        ALE_USER_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V6_ALE_USER_ID,
        IP_LOCAL_ADDRESS = FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_LOCAL_ADDRESS,
        IP_LOCAL_ADDRESS_TYPE = FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_LOCAL_ADDRESS_TYPE,
        IP_LOCAL_PORT = FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_LOCAL_PORT,
        IP_PROTOCOL = FWPS_FIELD_ALE_BIND_REDIRECT_V6_IP_PROTOCOL,
        FLAGS = FWPS_FIELD_ALE_BIND_REDIRECT_V6_FLAGS,
        ALE_PACKAGE_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V6_ALE_PACKAGE_ID,
        ALE_SECURITY_ATTRIBUTE_FQBN_VALUE = FWPS_FIELD_ALE_BIND_REDIRECT_V6_ALE_SECURITY_ATTRIBUTE_FQBN_VALUE,
        COMPARTMENT_ID = FWPS_FIELD_ALE_BIND_REDIRECT_V6_COMPARTMENT_ID,
        PACKAGE_FAMILY_NAME = FWPS_FIELD_ALE_BIND_REDIRECT_V6_PACKAGE_FAMILY_NAME,
    }
}

layer_sets! {
    /// The four transport layers (`FWPS_LAYER_INBOUND_TRANSPORT_V4/V6`,
    /// `FWPS_LAYER_OUTBOUND_TRANSPORT_V4/V6`), for a callout that inspects
    /// datagrams both ways, both families, with one classify function.
    TransportLayers = [InboundTransportV4, InboundTransportV6, OutboundTransportV4, OutboundTransportV6], Packet {
        IP_PROTOCOL: u8,
        IP_LOCAL_ADDRESS: IpAddress,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_LOCAL_ADDRESS_TYPE: u8,
        IP_LOCAL_PORT: u16,
        IP_REMOTE_PORT: u16,
        IP_LOCAL_INTERFACE: Luid,
        INTERFACE_INDEX: u32,
        SUB_INTERFACE_INDEX: u32,
        FLAGS: u32,
        INTERFACE_TYPE: u32,
        TUNNEL_TYPE: u32,
        PROFILE_ID: u32,
        COMPARTMENT_ID: u32,
    }
    /// The four IP packet layers (`FWPS_LAYER_INBOUND_IPPACKET_V4/V6`,
    /// `FWPS_LAYER_OUTBOUND_IPPACKET_V4/V6`).
    IppacketLayers = [InboundIppacketV4, InboundIppacketV6, OutboundIppacketV4, OutboundIppacketV6], Packet {
        IP_LOCAL_ADDRESS: IpAddress,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_LOCAL_ADDRESS_TYPE: u8,
        IP_LOCAL_INTERFACE: Luid,
        INTERFACE_INDEX: u32,
        SUB_INTERFACE_INDEX: u32,
        FLAGS: u32,
        INTERFACE_TYPE: u32,
        TUNNEL_TYPE: u32,
        COMPARTMENT_ID: u32,
    }
    /// `FWPS_LAYER_DATAGRAM_DATA_V4` and `_V6`.
    DatagramDataLayers = [DatagramDataV4, DatagramDataV6], Packet {
        IP_PROTOCOL: u8,
        IP_LOCAL_ADDRESS: IpAddress,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_LOCAL_ADDRESS_TYPE: u8,
        IP_LOCAL_PORT: u16,
        IP_REMOTE_PORT: u16,
        IP_LOCAL_INTERFACE: Luid,
        INTERFACE_INDEX: u32,
        SUB_INTERFACE_INDEX: u32,
        DIRECTION: u32,
        FLAGS: u32,
        INTERFACE_TYPE: u32,
        TUNNEL_TYPE: u32,
        COMPARTMENT_ID: u32,
    }
    /// `FWPS_LAYER_STREAM_V4` and `_V6`.
    StreamLayers = [StreamV4, StreamV6], Stream {
        IP_LOCAL_ADDRESS: IpAddress,
        IP_LOCAL_ADDRESS_TYPE: u8,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_LOCAL_PORT: u16,
        IP_REMOTE_PORT: u16,
        DIRECTION: u32,
        FLAGS: u32,
        COMPARTMENT_ID: u32,
    }
    /// `FWPS_LAYER_ALE_AUTH_CONNECT_V4` and `_V6`.
    AleAuthConnectLayers = [AleAuthConnectV4, AleAuthConnectV6], Packet {
        ALE_APP_ID: AppId,
        ALE_USER_ID: UserId,
        IP_LOCAL_ADDRESS: IpAddress,
        IP_LOCAL_PORT: u16,
        IP_PROTOCOL: u8,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_REMOTE_PORT: u16,
        IP_LOCAL_INTERFACE: Luid,
        FLAGS: u32,
        INTERFACE_INDEX: u32,
        SUB_INTERFACE_INDEX: u32,
        ALE_PACKAGE_ID: Sid,
        COMPARTMENT_ID: u32,
    }
    /// `FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4` and `_V6`.
    AleAuthRecvAcceptLayers = [AleAuthRecvAcceptV4, AleAuthRecvAcceptV6], Packet {
        ALE_APP_ID: AppId,
        ALE_USER_ID: UserId,
        IP_LOCAL_ADDRESS: IpAddress,
        IP_LOCAL_PORT: u16,
        IP_PROTOCOL: u8,
        IP_REMOTE_ADDRESS: IpAddress,
        IP_REMOTE_PORT: u16,
        IP_LOCAL_INTERFACE: Luid,
        FLAGS: u32,
        INTERFACE_INDEX: u32,
        SUB_INTERFACE_INDEX: u32,
        ALE_PACKAGE_ID: Sid,
        COMPARTMENT_ID: u32,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::vec;

    /// The table against fwps-sys: for each layer, the fields are the
    /// enumerators 0 .. `_MAX` of its `FWPS_FIELDS_*` enum, each once, each
    /// under its own name.
    #[test]
    fn table_matches_fwps_sys() {
        let generated = include_str!("../../../fwps-sys/src/generated/x86_64.rs");
        for (layer, _, fields) in super::TABLE {
            let needle = format!("pub const FWPS_FIELD_{layer}_MAX: FWPS_FIELDS_{layer}_ = ");
            let at = generated.find(&needle).unwrap_or_else(|| panic!("no {layer} MAX")) + needle.len();
            let max: u32 = generated[at..].split(';').next().unwrap().trim().parse().unwrap();
            assert_eq!(fields.len() as u32, max, "{layer}: the table lists every field");
            let mut seen = vec![false; max as usize];
            for (name, konst, index) in *fields {
                assert_eq!(*konst, format!("FWPS_FIELD_{layer}_{name}"), "{layer}: {name} is its own constant");
                assert!(!std::mem::replace(&mut seen[*index as usize], true), "{layer}: {name} listed twice");
            }
        }
        assert_eq!(super::TABLE.len(), 22);
    }
}
