//! The DDIs, exported under their C names with their C signatures, grouped
//! by family. Each is a thin shell: the verifier's checks
//! (`verifier/`), then a transition of the model
//! (`model/`).
//!
//! Every function's contract is the DDI's documented one; what the
//! simulator decides where the documentation is silent is said on the
//! function. Misuse is reported to the verifier ([`crate::Rule`]).

pub mod clone;
pub mod context;
pub mod data;
pub mod fwps_callout;
pub mod fwps_inject;
pub mod fwps_nbl;
pub mod mdl;
pub mod nb;
pub mod nbl;
pub mod pool;
pub mod retreat;
