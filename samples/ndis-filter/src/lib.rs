//! An NDIS lightweight filter in the shape of the WDK's `ndis/filter`
//! sample, on ndis-safe: every frame passes through both ways, except
//! that frames of one EtherType ([`filter::BLOCKED`]) are dropped and
//! another's ([`filter::COUNTED`]) counted, and after every
//! [`filter::HEARTBEAT_EVERY`]th send chain the filter sends a frame of its
//! own ([`filter::HEARTBEAT`]), from its own pool, which comes back to it
//! and is freed.
//!
//! [`filter`] is the driver's logic: safe ndis-safe code, tested end to end
//! on ndis-sim's filter stack. `driver` (Windows only) is the glue:
//! `DriverEntry` registers the filter driver and sets unload, which
//! deregisters it. `cargo xtask driver` links it into `ndis_filter.sys`;
//! `ndis_filter.inf` installs it as a modifying filter of Ethernet
//! adapters.
#![cfg_attr(target_os = "windows", no_std)]
#![deny(unsafe_code)]

#[cfg(target_os = "windows")]
mod driver;
pub mod filter;
