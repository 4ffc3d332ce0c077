//! C types as the Windows ABI defines them (LLP64), whatever the host.
//!
//! The generated bindings name these instead of `core::ffi`'s, whose `c_long`
//! is 64 bits on Linux and macOS: with these, a record has its Windows layout
//! on every host, and the simulator's tests exercise the real layout.
#![allow(non_camel_case_types, reason = "C type names")]

/// `char`: signed on MSVC.
pub type c_char = i8;
/// `signed char`
pub type c_schar = i8;
/// `unsigned char`
pub type c_uchar = u8;
/// `short`
pub type c_short = i16;
/// `unsigned short`
pub type c_ushort = u16;
/// `int`
pub type c_int = i32;
/// `unsigned int`
pub type c_uint = u32;
/// `long`: 32 bits on Windows, also on 64-bit targets.
pub type c_long = i32;
/// `unsigned long`: 32 bits on Windows, also on 64-bit targets.
pub type c_ulong = u32;
/// `long long`
pub type c_longlong = i64;
/// `unsigned long long`
pub type c_ulonglong = u64;
/// `float`
pub type c_float = f32;
/// `double`
pub type c_double = f64;
/// `void`, behind a pointer.
pub use core::ffi::c_void;
