//! An ALE connect firewall on ndis-safe's typed callouts — the pattern of
//! the firewalls that ask someone (a user-mode service, a policy server)
//! before a connection goes out or comes in — with the redirection a VPN
//! client's split tunnelling needs.
//!
//! - **Authorization** (`FWPS_LAYER_ALE_AUTH_CONNECT_V4/V6` outbound,
//!   `FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4/V6` inbound): classify pends the
//!   connection (`FwpsAcquireClassifyHandle0` + `FwpsPendClassify0`,
//!   through [`Writable::pend`](ndis_safe::wfp::decision::Writable::pend))
//!   and parks the pend in a waiting table. [`Firewall::tick`] — which the
//!   driver's periodic timer calls, and a test calls by hand — decides the
//!   waiting connections from the rule table ([`Firewall::add_rule`]) and
//!   completes each exactly once (`FwpsCompleteClassify0`, then
//!   `FwpsReleaseClassifyHandle0`). A connection no rule matches within
//!   [`Firewall::set_timeout`] ticks is completed with the default
//!   ([`Firewall::set_default`], block unless set), so no connection stays
//!   pended.
//! - **Re-authorization**: outbound, the engine classifies the connect
//!   again after the completion, with `FWP_CONDITION_FLAG_IS_REAUTHORIZE`;
//!   that classify carries the decision, so the firewall keeps what it
//!   decided for the connection and answers the re-authorization with it.
//!   A re-authorization it has nothing stored for (the engine
//!   re-authorizes on policy changes too) is decided at once from the
//!   rules, or the default: it is never pended.
//! - **Connect redirection** (`FWPS_LAYER_ALE_CONNECT_REDIRECT_V4/V6`):
//!   connects that match a redirect rule ([`Firewall::add_redirect`]) go
//!   to another address and port, marked with the driver's redirect handle
//!   for the proxy's process. A connection the driver already redirected
//!   (its local proxy connecting on the original's behalf) is recognised
//!   from its redirect records (`FwpsQueryConnectionRedirectState0`) and
//!   left alone: no redirect loop.
//! - **Bind redirection** (`FWPS_LAYER_ALE_BIND_REDIRECT_V4/V6`): the
//!   sockets of an application a bind rule names ([`Firewall::add_bind`])
//!   are bound to another local address — the tunnel interface's.
//!
//! Everything the callouts share lives in one `static` [`FIREWALL`] of
//! atomics (tables of fixed size, no lock, no allocation), so the callout
//! code has no `unsafe`; `driver` (Windows only) is the `DriverEntry` and
//! unload plumbing, and the timer that calls [`Firewall::tick`].
//!
//! Decisions this sample makes where WFP leaves them to the driver: a
//! connection that cannot be pended (the waiting table full, a version-0
//! classify) is decided at once from the rules, else the default; a
//! failed redirection lets the connection go where it was going; the
//! default on timeout is block (configurable), the usual choice of a
//! firewall that fails closed.
#![cfg_attr(target_os = "windows", no_std)]

pub mod callout;
#[cfg(target_os = "windows")]
mod driver;
pub mod firewall;

pub use firewall::{App, Conn, FIREWALL, Firewall, Match, Verdict};
