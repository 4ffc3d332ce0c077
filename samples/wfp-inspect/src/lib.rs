//! A WFP callout driver in the shape of the WDK's inspect sample, on
//! ndis-safe's typed callouts: at the transport layers its classify
//! references the packet, retreats it to the IP header (inbound: past the
//! IP and transport headers), clones it, advances it back, absorbs the
//! original and injects the clone (outbound with the classify's remote
//! address, scope and control data); the completion frees the clone and
//! releases the reference. Packets it injected itself come back through
//! classify and are permitted.
//!
//! [`callout`] is the driver's logic, plain ndis-safe code tested on the
//! host simulator. `driver` (Windows only) is the glue: `DriverEntry`
//! creates the device object, the NDIS handle, the pool and the injection
//! handle, and registers the callouts; unload unregisters them and frees in the
//! safe order (injection handle, which waits for pending injections, before
//! the pool). `cargo xtask driver` links it into `wfp_inspect.sys`.
//!
//! Filters that send packets to the callouts (by their keys,
//! [`callout::key`], at the transport layers) are added from user mode
//! with the FWPM API, as for the WDK sample.
#![cfg_attr(target_os = "windows", no_std)]

/// The C types the generated kernel bindings are written in (when they
/// define any of their own rather than reuse ndis-sys' and fwps-sys').
#[allow(unused_imports)]
use ndis_sys::ctypes;

#[cfg(not(feature = "raw"))]
pub mod callout;
/// The callout written with raw calls (the `raw` feature), for the code-size
/// comparison `cargo xtask bench` makes.
#[cfg(feature = "raw")]
#[path = "callout_raw.rs"]
pub mod callout;
#[cfg(target_os = "windows")]
mod driver;

/// The callout's key (a GUID filters name).
pub const fn callout_key() -> fwps_sys::GUID {
    fwps_sys::GUID {
        Data1: 0x2e20_7682,
        Data2: 0xd95f,
        Data3: 0x4525,
        Data4: [0xb9, 0x66, 0x96, 0x9f, 0x26, 0x58, 0x7f, 0x03],
    }
}

/// The transport layers the callout handles: (inbound, address family).
pub fn layer_kind(layer: u16) -> Option<(bool, u16)> {
    use fwps_sys::{
        FWPS_LAYER_INBOUND_TRANSPORT_V4, FWPS_LAYER_INBOUND_TRANSPORT_V6, FWPS_LAYER_OUTBOUND_TRANSPORT_V4,
        FWPS_LAYER_OUTBOUND_TRANSPORT_V6,
    };
    match i32::from(layer) {
        FWPS_LAYER_INBOUND_TRANSPORT_V4 => Some((true, ndis_safe::wfp::AF_INET)),
        FWPS_LAYER_INBOUND_TRANSPORT_V6 => Some((true, ndis_safe::wfp::AF_INET6)),
        FWPS_LAYER_OUTBOUND_TRANSPORT_V4 => Some((false, ndis_safe::wfp::AF_INET)),
        FWPS_LAYER_OUTBOUND_TRANSPORT_V6 => Some((false, ndis_safe::wfp::AF_INET6)),
        _ => None,
    }
}

/// The kernel items DriverEntry and unload use (`DRIVER_OBJECT`,
/// `IoCreateDevice`, `NdisAllocateGenericObject`, …), generated from the kit
/// by `cargo xtask regen` like ndis-sys and fwps-sys, reusing their types.
#[cfg_attr(target_arch = "x86_64", path = "generated/x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "generated/aarch64.rs")]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    missing_docs,
    dead_code,
    unused_qualifications,
    unused_imports,
    unsafe_op_in_unsafe_fn,
    unnecessary_transmutes,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    clippy::multiple_unsafe_ops_per_block,
    reason = "bindgen output under the kit's C names"
)]
#[rustfmt::skip]
pub mod kernel;
