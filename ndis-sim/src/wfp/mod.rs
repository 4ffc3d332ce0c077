//! The filter engine, as far as callouts see it: registration with any of
//! `FwpsCalloutRegister0`–`3` (each callout then called with its own
//! classify signature), unregistration that refuses while filters or
//! classifies hold the callout, classify calls with a full
//! `FWPS_INCOMING_VALUES0` for the layer (indexed by the `FWPS_FIELDS_*`
//! enumerators, as C drivers index `incomingValue[]`) and the metadata of
//! the packet, the write right and its rule, pended classifies with
//! their classify handles, flow contexts, and sublayers and filters with
//! arbitration (`filters`), whose verdict sends a packet to the socket or
//! wire sink a test reads; injected packets come back through a layer
//! (`reclassify_injections`) recognised as self-injected. Connections
//! ([`Connection::connect`], [`Connection::accept`]) cross the
//! connect-redirect layer with their redirect records
//! (`FwpsQueryConnectionRedirectState0`) and wait on a pended authorization
//! ([`Pending`]: re-authorized outbound once completed); binds cross the
//! bind-redirect layer ([`bind`]); packets may be indicated split across
//! MDLs ([`packet_split`]); `FwpsConstructIpHeaderForTransportPacket0`
//! builds IP headers ([`header`]).
//!
//! A peer of the object model: it keeps its own state (callouts live in
//! `model::callout`, shared with the version-0 DDIs), reports through the
//! verifier, and exports its DDIs from [`ddi`].

mod connection;
pub mod ddi;
mod engine;
mod filters;
mod flows;
pub mod header;
pub mod inject;
pub mod mgmt;
mod operations;
mod values;

pub use connection::{Connect, Connection, Pending, Refused, TCP, UDP, bind};
pub use engine::{
    Filter, Metadata, Outcome, Pended, Redirection, classify, completions, filter_reference, new_redirect_records,
    outstanding_pends,
};
pub use filters::{
    FilterAction, FilterSpec, StreamOutcome, Verdict, add_filter, add_sublayer, classify_layer, delete_filter,
    delete_sublayer, packet, packet_split, reclassify_injections, reset_filters, stream, take_socket, take_wire,
};
pub(crate) use flows::unregister;
pub use flows::{end_flow, flow_contexts};
pub use operations::{bind_redirections, completed_operations, redirect_handles, redirections};
pub use values::{Endpoints, Incoming, Value};

/// `STATUS_DEVICE_BUSY`: a callout still referenced.
pub const STATUS_DEVICE_BUSY: ndis_sys::NTSTATUS = 0x8000_0011_u32 as i32;
