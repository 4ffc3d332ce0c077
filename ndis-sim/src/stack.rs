//! NET_BUFFER_LISTs the (simulated) stack indicates to a driver: what a
//! classify callout is given as its layer data, or a filter on its receive
//! path. The driver does not own them: it may reference, clone, retreat
//! and advance them, and must give them back as they came.

use ndis_sys::*;

use crate::ndis::{NblRequest, alloc_nbl, drop_nbl, new_mdl};
use crate::state::{self, Block, InjectionRecord, NblOrigin, Raw, State, v};
use crate::verifier::{Rule, Violation};

/// An NBL indicated by the stack, with one NET_BUFFER over a copy of a
/// packet. When the driver's callback returns, call [`StackNbl::complete`]
/// (dropping does it too): the stack checks the data offsets are back as
/// they came, and takes the NBL back — at once, or when the driver's last
/// `FwpsDereferenceNetBufferList0` releases it.
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
        let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        let offset = offset.min(len);
        let nbl = state::with(|st, _| {
            let layout = std::alloc::Layout::from_size_align(packet.len().max(1), 16).ok();
            let Some(data) = layout.and_then(Block::zeroed) else {
                return core::ptr::null_mut();
            };
            // SAFETY: `data` is fresh and holds `packet.len()` bytes.
            unsafe { core::ptr::copy_nonoverlapping(packet.as_ptr(), data.ptr.0, packet.len()) };
            let mdl = new_mdl(st, data.ptr.0, len, false, Some(data));
            let nbl = alloc_nbl(
                st,
                NblRequest {
                    pool: core::ptr::null_mut(),
                    context_size: 0,
                    backfill: 0,
                    origin: NblOrigin::Stack,
                    nb: Some((mdl, offset, len - offset)),
                },
            );
            if let Some(n) = st.nbl_mut(nbl as usize) {
                n.stack_shape = Some((offset, len - offset));
                if let Some(nb) = n.prealloc_nb
                    && let Some(info) = st.nb_mut(nb.0 as usize)
                {
                    info.data = Some(Raw(mdl.cast()));
                }
            }
            nbl
        });
        assert!(!nbl.is_null(), "the host is out of memory");
        StackNbl { nbl, completed: false }
    }

    /// Marks the packet as one `handle` injected with `context`, as when a
    /// driver's own injected packet comes back through classify:
    /// `FwpsQueryPacketInjectionState0` then says `FWPS_PACKET_INJECTED_BY_SELF`.
    pub fn injected_by(self, handle: fwps_sys::HANDLE, context: fwps_sys::HANDLE) -> StackNbl {
        state::with(|st, _| {
            if let Some(n) = st.nbl_mut(self.nbl as usize) {
                n.came_from = Some(InjectionRecord { handle: handle as usize, context: Raw(context.cast()) });
            }
        });
        self
    }

    /// The NBL, as the driver is given it.
    pub fn as_ptr(&self) -> *mut NET_BUFFER_LIST {
        self.nbl
    }

    /// The NB's current data (from its data start, `DataLength` bytes).
    pub fn data(&self) -> Vec<u8> {
        state::with(|_, _| {
            // SAFETY: the NBL is live until completed; it has one NB.
            unsafe {
                let nb = *NET_BUFFER_LIST_FIRST_NB(self.nbl);
                let mut out = vec![0; *NET_BUFFER_DATA_LENGTH(nb) as usize];
                crate::ndis::copy_out(nb, 0, out.as_mut_ptr(), out.len() as u32);
                out
            }
        })
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
        state::with(|st, found| {
            const DDI: &str = "(classify returns)";
            let addr = nbl as usize;
            let Some(info) = st.nbl(addr) else { return };
            let expected = info.stack_shape;
            // SAFETY: the NBL is live; its NB is its own.
            let now = unsafe {
                let nb = *NET_BUFFER_LIST_FIRST_NB(nbl);
                (!nb.is_null()).then(|| (*NET_BUFFER_DATA_OFFSET(nb), *NET_BUFFER_DATA_LENGTH(nb)))
            };
            if now != expected {
                found.push(v(
                    Rule::StackNetBufferListModified,
                    DDI,
                    format!(
                        "{} came with (DataOffset, DataLength) {expected:?} and goes back with {now:?}",
                        st.name(addr)
                    ),
                ));
            }
            let Some(info) = st.nbl_mut(addr) else { return };
            info.stack_returned = true;
            if info.references == 0 {
                release(st, nbl, DDI, found);
            }
        });
    }
}

impl Drop for StackNbl {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The stack takes back an NBL it indicated: its clones must be gone.
pub(crate) fn release(st: &mut State, nbl: *mut NET_BUFFER_LIST, ddi: &'static str, found: &mut Vec<Violation>) {
    // SAFETY: the NBL is live until released here.
    let children = unsafe { *NET_BUFFER_LIST_CHILD_REF_COUNT(nbl) };
    if children > 0 {
        found.push(v(
            Rule::ParentFreedWithLiveClones,
            ddi,
            format!(
                "{} goes back to the stack with {children} live clones: free the clones before releasing it",
                st.name(nbl as usize)
            ),
        ));
        return;
    }
    drop_nbl(st, nbl as usize, ddi);
}
