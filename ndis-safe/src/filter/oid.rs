//! OID requests: [`OidRequest`], and the handlers that pass it down.
#![allow(unsafe_code, reason = "the request is NDIS's record, read and written through its pointer")]
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "a block is one record access: a union member's projection and its read or write"
)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use ndis_sys::*;

use super::{Filter, Module};
use crate::error::Status;

/// The kind of an OID request (`RequestType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidKind {
    /// `NdisRequestQueryInformation` (and `NdisRequestQueryStatistics`):
    /// the buffer is for the answer.
    Query,
    /// `NdisRequestSetInformation`: the buffer holds the value.
    Set,
    /// `NdisRequestMethod`: input in, output out of one buffer.
    Method,
    /// Another request type (its raw value).
    Other(i32),
}

/// An OID request handed to [`Filter::oid_request`]: ended exactly once —
/// passed down or answered — inside the handler call, which returns the
/// [`OidHandled`] the end gives.
///
/// Passing down is what the WDK's filter sample does: the library clones
/// the request (`NdisAllocateCloneOidRequest`, tag [`Filter::TAG`]),
/// keeps the original's address in the clone's `SourceReserved`, gives the
/// clone the original's `RequestId` (so a cancel finds it) and issues it
/// (`NdisFOidRequest`). When the clone completes — at once, or later in
/// `FilterOidRequestComplete` — the library copies the results back
/// (`BytesWritten`, `BytesRead`, `BytesNeeded`, a method's
/// `OutputBufferLength`, and a query's data if the clone's buffer is not
/// the original's), frees the clone (`NdisFreeCloneOidRequest`) and
/// completes the original: by the handler's return value when the clone
/// completed at once, else by `NdisFOidRequestComplete`, never both.
///
/// Answering is done by the filter: [`OidRequest::answer_query`] writes
/// the data if the buffer holds it and sets `BytesWritten`, else sets
/// `BytesNeeded` and answers `NDIS_STATUS_BUFFER_TOO_SHORT`;
/// [`OidRequest::accept_set`] takes a set; [`OidRequest::fail`] answers
/// with an error. An answer is the handler's return value (NDIS completes
/// the request), so no completion can race it.
///
/// A cancel (`FilterCancelOidRequest`) is passed down
/// (`NdisFCancelOidRequest`): the only requests the library holds are
/// clones below it, and they carry the original's `RequestId`.
///
/// NDIS hands a filter module one OID request at a time (it serializes
/// them), so a module passes at most one clone down at once.
///
/// # Leaks
///
/// [`OidRequest`] carries the handler call's lifetime (invariant) and is
/// neither `Send` nor `'static`. The handler must return an
/// [`OidHandled`] of that call, and the only way to one is to end the
/// request (each end consumes it): a handler that forgets or drops its
/// request has nothing to return, so that does not compile, and no
/// request is left uncompleted by safe code. Nothing is completed twice
/// either. A request leaked in a handler that never returns (an endless
/// loop; a panic is a bugcheck) stays uncompleted, as it would in C.
/// Dropping one is only possible on such a path, and does nothing.
///
/// # Invariants
///
/// `raw` is the request NDIS handed this module's `FilterOidRequest`, not
/// yet completed, valid until it is; `'c` is that handler call. The
/// handler call returns the status carried by the [`OidHandled`] one of
/// the consuming methods made.
pub struct OidRequest<'c, F: Filter> {
    raw: NonNull<NDIS_OID_REQUEST>,
    module: &'c Module<F>,
    _call: PhantomData<fn(&'c ()) -> &'c ()>,
}

/// The proof that an [`OidRequest`] of the handler call `'c` was ended —
/// passed down, answered or failed — and the status the handler returns
/// to NDIS. [`Filter::oid_request`] returns it; only the request's
/// consuming methods make one, so a handler that returns has ended its
/// request exactly once.
///
/// # Leaks
///
/// Forgetting it leaves the handler nothing to return: it cannot be
/// leaked by a handler that returns.
///
/// # Invariants
///
/// `status` is what the request's end returned: the handler returns it
/// (`NDIS_STATUS_PENDING`: a clone passed down pends, and its completion
/// completes the request). `'c` is invariant, the handler call's.
#[must_use = "the handler returns it: it is the proof the request was ended"]
pub struct OidHandled<'c> {
    status: NDIS_STATUS,
    _call: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl core::fmt::Debug for OidHandled<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OidHandled").field("status", &format_args!("{:#x}", self.status)).finish()
    }
}

impl OidHandled<'_> {
    /// The status the handler returns (`NDIS_STATUS_PENDING` for a
    /// request passed down that pends).
    #[inline]
    pub fn status(&self) -> NDIS_STATUS {
        self.status
    }
}

impl<F: Filter> core::fmt::Debug for OidRequest<'_, F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OidRequest")
            .field("oid", &format_args!("{:#x}", self.oid()))
            .field("kind", &self.kind())
            .field("buffer_len", &self.buffer_len())
            .finish()
    }
}

impl<'c, F: Filter> OidRequest<'c, F> {
    /// The raw record.
    fn r(&self) -> &NDIS_OID_REQUEST {
        // SAFETY: live until completed (the invariant), and completion
        // consumes `self`.
        unsafe { self.raw.as_ref() }
    }

    /// The OID (`OID_GEN_…`, `OID_802_3_…`).
    #[inline]
    pub fn oid(&self) -> NDIS_OID {
        // SAFETY: `Oid` leads every member of the union.
        unsafe { self.r().DATA.Oid }
    }

    /// The request's kind.
    #[inline]
    pub fn kind(&self) -> OidKind {
        match self.r().RequestType {
            t if t == NdisRequestQueryInformation || t == NdisRequestQueryStatistics => OidKind::Query,
            t if t == NdisRequestSetInformation => OidKind::Set,
            t if t == NdisRequestMethod => OidKind::Method,
            t => OidKind::Other(t),
        }
    }

    /// `PortNumber`.
    #[inline]
    pub fn port(&self) -> NDIS_PORT_NUMBER {
        self.r().PortNumber
    }

    /// `InformationBufferLength` (a method's input length is
    /// [`OidRequest::data`]'s).
    #[inline]
    pub fn buffer_len(&self) -> u32 {
        // SAFETY: the member the kind names; query and set share the layout.
        unsafe {
            match self.kind() {
                OidKind::Method => self.r().DATA.METHOD_INFORMATION.OutputBufferLength,
                _ => self.r().DATA.QUERY_INFORMATION.InformationBufferLength,
            }
        }
    }

    /// The value a set carries, or a method's input; `None` for a query.
    pub fn data(&self) -> Option<&[u8]> {
        // SAFETY: the member the kind names; NDIS's buffer holds the length
        // it states, valid until the request completes (which consumes
        // `self`, ending the borrow).
        unsafe {
            let (p, n) = match self.kind() {
                OidKind::Set => (
                    self.r().DATA.SET_INFORMATION.InformationBuffer,
                    self.r().DATA.SET_INFORMATION.InformationBufferLength,
                ),
                OidKind::Method => (
                    self.r().DATA.METHOD_INFORMATION.InformationBuffer,
                    self.r().DATA.METHOD_INFORMATION.InputBufferLength,
                ),
                _ => return None,
            };
            if p.is_null() { Some(&[]) } else { Some(core::slice::from_raw_parts(p.cast::<u8>(), n as usize)) }
        }
    }

    /// The raw record, read-only, for fields this type does not name.
    pub fn as_raw(&self) -> *const NDIS_OID_REQUEST {
        self.raw.as_ptr()
    }

    /// Ends the request: the handler returns `status`.
    #[inline]
    fn end(self, status: NDIS_STATUS) -> OidHandled<'c> {
        OidHandled { status, _call: PhantomData }
    }

    /// Passes the request down (a clone of it, completed back into it: see
    /// [`OidRequest`]). The default of [`Filter::oid_request`].
    pub fn pass_down(self) -> OidHandled<'c> {
        // SAFETY: the module's handle and the request NDIS handed it, not
        // completed (the invariant); the handler returns what this returns,
        // and a PENDING is completed once by the complete handler.
        let status = unsafe { pass_down_raw(self.module.as_raw(), self.raw.as_ptr(), F::TAG.raw()) };
        self.end(status)
    }

    /// Answers a query with `data`: written and `BytesWritten` set when the
    /// buffer holds it (`NDIS_STATUS_SUCCESS`), else `BytesNeeded` set to
    /// its length and `NDIS_STATUS_BUFFER_TOO_SHORT`. Anything but a query
    /// is answered `NDIS_STATUS_NOT_SUPPORTED`, its buffer untouched.
    pub fn answer_query(self, data: &[u8]) -> OidHandled<'c> {
        if self.kind() != OidKind::Query {
            return self.end(NDIS_STATUS_NOT_SUPPORTED);
        }
        let q = self.query_fields();
        let Ok(n) = u32::try_from(data.len()) else { return self.end(NDIS_STATUS_INVALID_LENGTH) };
        // SAFETY: the query member of a live query request NDIS handed the
        // module; its buffer holds InformationBufferLength bytes, and `n`
        // bytes are written only when they fit.
        let status = unsafe {
            (*q).BytesWritten = 0;
            (*q).BytesNeeded = 0;
            if n > (*q).InformationBufferLength || (n > 0 && (*q).InformationBuffer.is_null()) {
                (*q).BytesNeeded = n;
                NDIS_STATUS_BUFFER_TOO_SHORT
            } else {
                if n > 0 {
                    core::ptr::copy_nonoverlapping(data.as_ptr(), (*q).InformationBuffer.cast::<u8>(), data.len());
                }
                (*q).BytesWritten = n;
                NDIS_STATUS_SUCCESS
            }
        };
        self.end(status)
    }

    /// Takes a set (the filter applied [`OidRequest::data`] itself):
    /// `BytesRead` is the whole buffer, `NDIS_STATUS_SUCCESS`. Anything but
    /// a set is answered `NDIS_STATUS_NOT_SUPPORTED`.
    pub fn accept_set(self) -> OidHandled<'c> {
        if self.kind() != OidKind::Set {
            return self.end(NDIS_STATUS_NOT_SUPPORTED);
        }
        let s = self.query_fields().cast::<_NDIS_OID_REQUEST__REQUEST_DATA__SET>();
        // SAFETY: the set member of a live set request NDIS handed the module.
        unsafe {
            (*s).BytesRead = (*s).InformationBufferLength;
            (*s).BytesNeeded = 0;
        }
        self.end(NDIS_STATUS_SUCCESS)
    }

    /// Answers with an error (`NDIS_STATUS_NOT_SUPPORTED`,
    /// `NDIS_STATUS_INVALID_DATA`, …); nothing is written or read.
    pub fn fail(self, status: Status) -> OidHandled<'c> {
        self.end(status.raw())
    }

    /// The union's query member (whose layout a set's shares), as a pointer
    /// into the live record.
    fn query_fields(&self) -> *mut _NDIS_OID_REQUEST__REQUEST_DATA__QUERY {
        // SAFETY: a projection of the live record (no read).
        unsafe { &raw mut (*self.raw.as_ptr()).DATA.QUERY_INFORMATION }
    }
}

/// `FilterOidRequest`: hands the request to the filter and returns how it
/// ended (`NDIS_STATUS_PENDING` when it was passed down and pends).
///
/// # Safety
///
/// `raw` is a request NDIS hands this module's `FilterOidRequest` now.
pub(crate) unsafe fn request<F: Filter>(filter: &F, module: &Module<F>, raw: PNDIS_OID_REQUEST) -> NDIS_STATUS {
    let Some(raw) = NonNull::new(raw) else { return NDIS_STATUS_INVALID_PARAMETER };
    filter.oid_request(module, OidRequest { raw, module, _call: PhantomData }).status
}

/// Clones `orig`, issues the clone, and finishes it if it completed at
/// once; the status the handler returns.
///
/// # Safety
///
/// `handle` is the module's; `orig` a request NDIS handed it, not completed.
unsafe fn pass_down_raw(handle: NDIS_HANDLE, orig: PNDIS_OID_REQUEST, tag: u32) -> NDIS_STATUS {
    let mut clone = core::ptr::null_mut();
    // SAFETY: the caller's handle and request; an out pointer.
    let status = unsafe { NdisAllocateCloneOidRequest(handle, orig, tag, &mut clone) };
    if status != NDIS_STATUS_SUCCESS {
        return status;
    }
    if clone.is_null() {
        return NDIS_STATUS_RESOURCES;
    }
    // SAFETY: the fresh clone, ours; the original's address in its
    // SourceReserved (16 bytes, unaligned write), its RequestId copied.
    unsafe {
        (*clone).SourceReserved.as_mut_ptr().cast::<PNDIS_OID_REQUEST>().write_unaligned(orig);
        (*clone).RequestId = (*orig).RequestId;
    }
    // SAFETY: the clone, valid until its completion, freed only after it.
    let status = unsafe { NdisFOidRequest(handle, clone) };
    if status != NDIS_STATUS_PENDING {
        // SAFETY: completed at once: the clone is ours again.
        unsafe { finish(handle, clone) };
    }
    status
}

/// The original a clone was made from (NULL: not a clone of this library).
///
/// # Safety
///
/// `clone` is a live request.
unsafe fn original(clone: PNDIS_OID_REQUEST) -> PNDIS_OID_REQUEST {
    // SAFETY: the caller's live request; an unaligned read of its reserved bytes.
    unsafe { (*clone).SourceReserved.as_ptr().cast::<PNDIS_OID_REQUEST>().read_unaligned() }
}

/// Copies a completed clone's results into its original and frees the
/// clone; returns the original.
///
/// # Safety
///
/// `clone` is a clone [`pass_down_raw`] made, complete; its original is
/// not completed.
unsafe fn finish(handle: NDIS_HANDLE, clone: PNDIS_OID_REQUEST) -> PNDIS_OID_REQUEST {
    // SAFETY: the caller's guarantee: both records live, the clone ours;
    // union members per the request type (the clone's is the original's).
    unsafe {
        let orig = original(clone);
        let (c, o) = (&raw mut (*clone).DATA, &raw mut (*orig).DATA);
        match (*clone).RequestType {
            t if t == NdisRequestMethod => {
                (*o).METHOD_INFORMATION.OutputBufferLength = (*c).METHOD_INFORMATION.OutputBufferLength;
                (*o).METHOD_INFORMATION.BytesRead = (*c).METHOD_INFORMATION.BytesRead;
                (*o).METHOD_INFORMATION.BytesNeeded = (*c).METHOD_INFORMATION.BytesNeeded;
                (*o).METHOD_INFORMATION.BytesWritten = (*c).METHOD_INFORMATION.BytesWritten;
            }
            t if t == NdisRequestSetInformation => {
                (*o).SET_INFORMATION.BytesRead = (*c).SET_INFORMATION.BytesRead;
                (*o).SET_INFORMATION.BytesNeeded = (*c).SET_INFORMATION.BytesNeeded;
            }
            _ => {
                let (cq, oq) = ((*c).QUERY_INFORMATION, &raw mut (*o).QUERY_INFORMATION);
                let n = cq.BytesWritten.min(cq.InformationBufferLength).min((*oq).InformationBufferLength);
                (*oq).BytesWritten = n;
                (*oq).BytesNeeded = cq.BytesNeeded;
                if n > 0 && cq.InformationBuffer != (*oq).InformationBuffer && !(*oq).InformationBuffer.is_null() {
                    core::ptr::copy_nonoverlapping(
                        cq.InformationBuffer.cast::<u8>(),
                        (*oq).InformationBuffer.cast::<u8>(),
                        n as usize,
                    );
                }
            }
        }
        NdisFreeCloneOidRequest(handle, clone);
        orig
    }
}

/// `FilterOidRequestComplete`: a clone passed down completed later: its
/// results go back into the original, which is completed.
///
/// # Safety
///
/// `clone` is a request this module issued, now complete.
pub(crate) unsafe fn complete(handle: NDIS_HANDLE, clone: PNDIS_OID_REQUEST, status: NDIS_STATUS) {
    // SAFETY: the caller's complete request.
    if clone.is_null() || unsafe { original(clone) }.is_null() {
        return;
    }
    // SAFETY: a clone `pass_down_raw` made (the only requests the library
    // issues), complete; its original pends (the handler returned PENDING).
    let orig = unsafe { finish(handle, clone) };
    // SAFETY: the original, completed once: here, since its handler
    // returned NDIS_STATUS_PENDING.
    unsafe { NdisFOidRequestComplete(handle, orig, status) };
}

/// `FilterCancelOidRequest`: passed down (see [`OidRequest`]).
///
/// # Safety
///
/// `handle` is the module's.
pub(crate) unsafe fn cancel(handle: NDIS_HANDLE, request_id: PVOID) {
    // SAFETY: the module's handle; the id as given.
    unsafe { NdisFCancelOidRequest(handle, request_id) };
}
