//! Typed reads of `FWP_VALUE0`: each Rust type a field reads as checks the
//! value's `type` tag first, and a mismatch (or a NULL pointer where the
//! tag promises one) reads as `None` — never as the wrong member of the
//! union.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fwps_sys::{
    FWP_BYTE_ARRAY16_TYPE, FWP_BYTE_BLOB, FWP_BYTE_BLOB_TYPE, FWP_EMPTY, FWP_INT8, FWP_INT16, FWP_INT32, FWP_SID,
    FWP_TOKEN_ACCESS_INFORMATION_TYPE, FWP_UINT8, FWP_UINT16, FWP_UINT32, FWP_UINT64, FWP_VALUE0,
};

/// How a field's Rust type reads an `FWP_VALUE0`. Sealed: only the types
/// below read values.
pub trait FieldType: sealed::Sealed {
    /// What the read gives, borrowing the classify's values for `'c`.
    type Value<'c>;

    #[doc(hidden)]
    fn read(value: &FWP_VALUE0) -> Option<Self::Value<'_>>;
}

pub(crate) use reads::blob as blob_at;

pub(crate) mod sealed {
    pub trait Sealed {}
}

#[allow(unsafe_code, reason = "reading the union member its tag names, and the engine's pointers")]
mod reads {
    use super::*;

    /// A byte blob the engine points at, as a slice.
    ///
    /// # Safety
    ///
    /// `blob` is NULL or points to an `FWP_BYTE_BLOB` whose `data` is valid
    /// for `size` bytes for `'c`.
    pub(crate) unsafe fn blob<'c>(blob: *const FWP_BYTE_BLOB) -> Option<&'c [u8]> {
        // SAFETY: the caller's guarantee.
        let blob = unsafe { blob.as_ref() }?;
        if blob.size == 0 {
            return Some(&[]);
        }
        if blob.data.is_null() {
            return None;
        }
        // SAFETY: the caller's guarantee: `data` holds `size` bytes.
        Some(unsafe { core::slice::from_raw_parts(blob.data, blob.size as usize) })
    }

    macro_rules! scalar {
        ($t:ty, $tag:ident, $member:ident) => {
            impl sealed::Sealed for $t {}
            impl FieldType for $t {
                type Value<'c> = $t;
                #[inline]
                fn read(value: &FWP_VALUE0) -> Option<$t> {
                    if value.type_ != $tag {
                        return None;
                    }
                    // SAFETY: the tag says this member is the one written.
                    Some(unsafe { value.__bindgen_anon_1.$member })
                }
            }
        };
    }
    scalar!(u8, FWP_UINT8, uint8);
    scalar!(u16, FWP_UINT16, uint16);
    scalar!(u32, FWP_UINT32, uint32);
    scalar!(i8, FWP_INT8, int8);
    scalar!(i16, FWP_INT16, int16);
    scalar!(i32, FWP_INT32, int32);

    impl sealed::Sealed for Ipv4 {}
    impl FieldType for Ipv4 {
        type Value<'c> = Ipv4Addr;
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<Ipv4Addr> {
            // The engine stores IPv4 addresses as FWP_UINT32 in host order.
            u32::read(value).map(Ipv4Addr::from)
        }
    }

    impl sealed::Sealed for IpAddress {}
    impl FieldType for IpAddress {
        type Value<'c> = IpAddr;
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<IpAddr> {
            match value.type_ {
                FWP_UINT32 => Ipv4::read(value).map(IpAddr::V4),
                _ => Ipv6::read(value).map(IpAddr::V6),
            }
        }
    }

    impl sealed::Sealed for Ipv6 {}
    impl FieldType for Ipv6 {
        type Value<'c> = Ipv6Addr;
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<Ipv6Addr> {
            if value.type_ != FWP_BYTE_ARRAY16_TYPE {
                return None;
            }
            // SAFETY: the tag names the member; the engine's pointer is
            // valid for the classify call (checked for NULL).
            let bytes = unsafe { value.__bindgen_anon_1.byteArray16.as_ref() }?;
            Some(Ipv6Addr::from(bytes.byteArray16))
        }
    }

    impl sealed::Sealed for Luid {}
    impl FieldType for Luid {
        type Value<'c> = u64;
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<u64> {
            if value.type_ != FWP_UINT64 {
                return None;
            }
            // SAFETY: as above: the tagged member, a pointer valid for the call.
            unsafe { value.__bindgen_anon_1.uint64.as_ref() }.copied()
        }
    }

    impl sealed::Sealed for AppId {}
    impl FieldType for AppId {
        type Value<'c> = &'c [u8];
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<&[u8]> {
            if value.type_ != FWP_BYTE_BLOB_TYPE {
                return None;
            }
            // SAFETY: the tagged member; the blob is valid for the call.
            unsafe { blob(value.__bindgen_anon_1.byteBlob) }
        }
    }

    impl sealed::Sealed for UserId {}
    impl FieldType for UserId {
        type Value<'c> = &'c [u8];
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<&[u8]> {
            if value.type_ != FWP_TOKEN_ACCESS_INFORMATION_TYPE {
                return None;
            }
            // SAFETY: the tagged member; the blob is valid for the call.
            unsafe { blob(value.__bindgen_anon_1.tokenAccessInformation) }
        }
    }

    impl sealed::Sealed for Sid {}
    impl FieldType for Sid {
        type Value<'c> = &'c [u8];
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<&[u8]> {
            if value.type_ != FWP_SID {
                return None;
            }
            // SAFETY: the tagged member: NULL or a SID valid for the call,
            // whose length follows from its header (8 bytes, then 4 per
            // sub-authority, counted in byte 1).
            let sid = unsafe { value.__bindgen_anon_1.sid.cast::<u8>().as_ref() }?;
            let sid: *const u8 = sid;
            // SAFETY: byte 1 of a SID is its sub-authority count.
            let count = unsafe { *sid.add(1) } as usize;
            // SAFETY: a SID is its 8-byte header and its sub-authorities.
            Some(unsafe { core::slice::from_raw_parts(sid, 8 + 4 * count) })
        }
    }

    impl sealed::Sealed for AnyValue {}
    impl FieldType for AnyValue {
        type Value<'c> = AnyValue;
        #[inline]
        fn read(value: &FWP_VALUE0) -> Option<AnyValue> {
            Some(match value.type_ {
                FWP_EMPTY => AnyValue::Empty,
                FWP_UINT8 => AnyValue::U8(u8::read(value)?),
                FWP_UINT16 => AnyValue::U16(u16::read(value)?),
                FWP_UINT32 => AnyValue::U32(u32::read(value)?),
                FWP_UINT64 => AnyValue::U64(Luid::read(value)?),
                t => AnyValue::Other(t),
            })
        }
    }
}

/// An IPv4 address field (`FWP_UINT32`, host order): reads as [`Ipv4Addr`].
pub enum Ipv4 {}
/// An IPv6 address field (`FWP_BYTE_ARRAY16_TYPE`): reads as [`Ipv6Addr`].
pub enum Ipv6 {}
/// An address field of a layer set spanning both families: the IPv4 form
/// (`FWP_UINT32`) or the IPv6 form (`FWP_BYTE_ARRAY16_TYPE`), by its tag;
/// reads as [`IpAddr`].
pub enum IpAddress {}
/// An interface LUID field (`FWP_UINT64`): reads as its `u64`.
pub enum Luid {}
/// An application id (`FWP_BYTE_BLOB_TYPE`: the NUL-terminated UTF-16
/// device path of the executable, as bytes).
pub enum AppId {}
/// A user id (`FWP_TOKEN_ACCESS_INFORMATION_TYPE`: the token access
/// information blob, as bytes).
pub enum UserId {}
/// A SID (`FWP_SID`), as its bytes.
pub enum Sid {}

/// A field the table does not type: its scalar value, or the tag of what
/// it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyValue {
    /// `FWP_EMPTY`.
    Empty,
    /// `FWP_UINT8`.
    U8(u8),
    /// `FWP_UINT16`.
    U16(u16),
    /// `FWP_UINT32`.
    U32(u32),
    /// `FWP_UINT64`.
    U64(u64),
    /// Another type, by its `FWP_DATA_TYPE` tag.
    Other(i32),
}
