//! The simulated stack, as a test drives it: NBLs it lends a driver (what
//! a classify callout is given as its layer data, or a filter on its
//! receive path), classify calls, and the completion of injections.
//!
//! The driver does not own a lent NBL: it may reference, clone, retreat
//! and advance it, and must give it back as it came.

use fwps_sys::*;
use ndis_sys::*;

use crate::model::injection::{self, complete, pending};
use crate::model::irql::DISPATCH_LEVEL;
use crate::model::{callout, lent, records};
use crate::verifier::{self, clone as rules};

/// An NBL indicated by the stack, with one NET_BUFFER over a copy of a
/// packet. When the driver's callback returns, call [`StackNbl::complete`]
/// (dropping does it too): the stack takes the NBL back — at once, or, if
/// the driver referenced it (`FwpsReferenceNetBufferList0`), at its last
/// `FwpsDereferenceNetBufferList0` — and checks there that the data
/// offsets are back as they came and that its clones are gone. An NBL
/// still referenced when the test ends is listed by
/// [`Session::leaks`](crate::Session::leaks), as lent by the stack.
#[derive(Debug)]
pub struct StackNbl {
    nbl: *mut NET_BUFFER_LIST,
    completed: bool,
}

// SAFETY: the NBL is the simulator's, guarded by its lock; the handle can
// move to whatever thread completes it.
unsafe impl Send for StackNbl {}

impl StackNbl {
    /// Indicates `packet` with its data starting `offset` bytes in: the
    /// bytes before it (headers the stack has already advanced past, as at
    /// the transport layer) are unused space a driver may retreat into.
    pub fn indicate(packet: &[u8], offset: u32) -> StackNbl {
        StackNbl::indicate_split(packet, offset, &[])
    }

    /// As [`indicate`](StackNbl::indicate), with the packet's bytes split
    /// across MDLs at `cuts` (offsets into the packet; empty pieces left
    /// out), as a stack indicates data that arrived in pieces.
    pub fn indicate_split(packet: &[u8], offset: u32, cuts: &[usize]) -> StackNbl {
        let nbl = verifier::with(|st, _| lent::lend_split(st, packet, offset, cuts));
        assert!(!nbl.is_null(), "the host is out of memory");
        StackNbl { nbl, completed: false }
    }

    /// Marks the packet as one `handle` injected with `context`, as when a
    /// driver's own injected packet comes back through classify:
    /// `FwpsQueryPacketInjectionState0` then says `FWPS_PACKET_INJECTED_BY_SELF`.
    pub fn injected_by(self, handle: HANDLE, context: HANDLE) -> StackNbl {
        verifier::with(|st, _| lent::mark_injected_by(st, self.nbl as usize, handle as usize, context.cast()));
        self
    }

    /// The NBL, as the driver is given it.
    pub fn as_ptr(&self) -> *mut NET_BUFFER_LIST {
        self.nbl
    }

    /// The NB's current data (from its data start, `DataLength` bytes).
    pub fn data(&self) -> Vec<u8> {
        // SAFETY: the NBL is live until completed; it has one NB.
        unsafe { nbl_data(self.nbl) }
    }

    /// The driver's callback has returned: the stack checks the offsets and
    /// takes the NBL back (now, or at the last dereference).
    pub fn complete(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if self.completed {
            return;
        }
        self.completed = true;
        let nbl = self.nbl;
        verifier::with(|st, found| {
            const DDI: &str = "(classify returns)";
            if st.nbl(nbl as usize).is_none() {
                return;
            }
            // With no reference held, the stack regains the NBL now;
            // otherwise at the last dereference, which checks it then.
            if lent::give_back(st, nbl as usize) {
                // SAFETY: the NBL is live until the stack regains it.
                unsafe { rules::stack_regains(st, nbl, DDI, found) };
            }
        });
    }
}

impl Drop for StackNbl {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The current data of an NBL's first NET_BUFFER (empty without one).
///
/// # Safety
///
/// `nbl` is a live NBL whose NBs and MDLs are live.
pub(crate) unsafe fn nbl_data(nbl: *mut NET_BUFFER_LIST) -> Vec<u8> {
    verifier::with(|_, _| {
        // SAFETY: the caller's guarantee.
        unsafe {
            let nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
            if nb.is_null() {
                return Vec::new();
            }
            let mut out = vec![0; *NET_BUFFER_DATA_LENGTH(nb) as usize];
            records::copy_out(nb, 0, out.as_mut_ptr(), out.len() as u32);
            out
        }
    })
}

/// Completes the oldest pending injection with `status`. Returns false when
/// none is pending.
pub fn complete_next(status: NTSTATUS) -> bool {
    let next = pending().pop_front();
    match next {
        Some(p) => {
            // SAFETY: a Send1 injection's parameters are the driver's, valid
            // until this completion by the DDI's contract.
            unsafe { crate::wfp::inject::at_completion(p.nbl.0.cast()) };
            complete(p, status);
            true
        }
        None => false,
    }
}

/// Completes every pending injection with `status` (including those the
/// completions start). Returns how many were completed.
pub fn complete_all(status: NTSTATUS) -> usize {
    let mut n = 0;
    while complete_next(status) {
        n += 1;
    }
    n
}

pub use injection::{InjectionMode, pending_injections, set_injection_mode};

/// What the simulated filter engine tells a classify function about a packet.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassifyMetadata {
    /// `ipHeaderSize`, if the layer provides it (`FWPS_METADATA_FIELD_IP_HEADER_SIZE`).
    pub ip_header_size: Option<u32>,
    /// `transportHeaderSize`, if provided.
    pub transport_header_size: Option<u32>,
    /// `compartmentId`, if provided.
    pub compartment: Option<u32>,
}

/// Calls the classify function of registered callout `id` for a packet at
/// `layer` (an `FWPS_BUILTIN_LAYERS` value), as the filter engine does when
/// a filter sends it there, with write rights, at `DISPATCH_LEVEL` (as the
/// engine runs classify on the data path; see [`crate::irql`]). Returns
/// what it decided, or `None` when no such callout is registered.
///
/// # Safety
///
/// `layer_data` is what the layer passes (an NBL the stack lends, or NULL).
pub unsafe fn classify(
    id: u32,
    layer: u16,
    layer_data: *mut NET_BUFFER_LIST,
    meta: ClassifyMetadata,
) -> Option<FWPS_CLASSIFY_OUT0> {
    let classify_fn = callout::callouts().iter().find(|c| c.id == id).and_then(|c| c.classify0())?;
    // SAFETY: all-zero values are valid for these C records (null pointers, zero counts).
    let (values, mut metadata, filter, mut out): (
        FWPS_INCOMING_VALUES0,
        FWPS_INCOMING_METADATA_VALUES0,
        FWPS_FILTER0,
        FWPS_CLASSIFY_OUT0,
    ) = unsafe { (core::mem::zeroed(), core::mem::zeroed(), core::mem::zeroed(), core::mem::zeroed()) };
    let mut values = values;
    values.layerId = layer;
    if let Some(n) = meta.ip_header_size {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_IP_HEADER_SIZE;
        metadata.ipHeaderSize = n;
    }
    if let Some(n) = meta.transport_header_size {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE;
        metadata.transportHeaderSize = n;
    }
    if let Some(n) = meta.compartment {
        metadata.currentMetadataValues |= FWPS_METADATA_FIELD_COMPARTMENT_ID;
        metadata.compartmentId = n;
    }
    out.rights = FWPS_RIGHT_ACTION_WRITE;
    out.actionType = FWP_ACTION_CONTINUE;
    // The engine classifies packets on the data path, at DISPATCH_LEVEL.
    let _dispatch = crate::model::irql::raise(DISPATCH_LEVEL.max(crate::model::irql::current()));
    // SAFETY: the callout's own classify function, called as the engine
    // calls it; every pointer is to a local that outlives the call.
    unsafe { classify_fn(&values, &metadata, layer_data.cast(), &filter, 0, &mut out) };
    Some(out)
}

/// How many callouts are registered.
pub fn registered_callouts() -> usize {
    callout::callouts().len()
}
