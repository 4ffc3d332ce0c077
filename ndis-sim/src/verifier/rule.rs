//! The rules, as reports name them, and a broken rule: a [`Violation`].

use std::fmt;

/// A rule of the DDIs' documented contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// An object was freed twice.
    DoubleFree,
    /// An object was used after it was freed (detected while its address
    /// has not been reused).
    UseAfterFree,
    /// A pointer or handle that is not an object of the kind the DDI takes.
    NotAnObject,
    /// Freed with another family's function (NDIS vs FWPS vs clone frees,
    /// `NdisFreeMdl` on an MDL NDIS allocated itself, …).
    WrongFreeFunction,
    /// A pool freed while objects allocated from it are alive.
    PoolFreedWithOutstandingAllocations,
    /// A NET_BUFFER preallocated with its NBL freed on its own.
    PreallocatedNetBufferFreed,
    /// A parent NBL freed, completed or released while clones of it live.
    ParentFreedWithLiveClones,
    /// A clone freed while its NB chain, MDL chain or data offsets differ
    /// from what the clone DDI made.
    CloneFreedWhileModified,
    /// `NdisFreeNetBufferListContext` with a size other than the last
    /// allocation's, or with nothing to free.
    ContextFreedOutOfOrder,
    /// An NBL freed while contexts pushed with
    /// `NdisAllocateNetBufferListContext` are still allocated.
    ContextLeftAllocated,
    /// A context size or backfill that is not a multiple of
    /// `MEMORY_ALLOCATION_ALIGNMENT` (pools and NBL allocations), or of the
    /// pointer size (`NdisAllocateNetBufferListContext`).
    MisalignedContextSize,
    /// Pool parameters with a wrong object header, or `DataSize` without
    /// `fAllocateNetBuffer`.
    InvalidPoolParameters,
    /// A NULL MDL chain with a non-zero data offset or length.
    NullMdlWithData,
    /// A data offset or length outside the MDL chain, or `CurrentMdl` /
    /// `CurrentMdlOffset` inconsistent with `DataOffset`.
    DataOutsideMdlChain,
    /// Advancing by more than the data length.
    AdvancePastData,
    /// A DDI used with a pool of a kind it does not take:
    /// `NdisAllocateNetBuffer` from an NB pool with data,
    /// `NdisAllocateNetBufferMdlAndData` from one without,
    /// `NdisAllocateNetBufferAndNetBufferList` and
    /// `FwpsAllocateNetBufferAndNetBufferList0` from an NBL pool without
    /// `fAllocateNetBuffer`, the clone DDIs with an NBL pool that
    /// preallocates a NET_BUFFER or an NB pool with data.
    WrongPoolKind,
    /// An MDL a caller's allocate handler made, freed with no free handler.
    MissingFreeMdlHandler,
    /// `FwpsDereferenceNetBufferList0` without a matching reference.
    DereferenceWithoutReference,
    /// An NBL used, freed or injected again while the stack owns it
    /// (injected and not yet completed).
    NetBufferListOwnedByStack,
    /// An injection handle destroyed twice, or used after it was destroyed.
    InvalidInjectionHandle,
    /// An NBL the stack indicated returned with its data offset or length
    /// changed (classify must advance back what it retreated).
    StackNetBufferListModified,
    /// A DDI called above the maximum IRQL its documentation states.
    IrqlAboveMaximum,
    /// A dispatch-level argument or flag (`dispatchLevel` TRUE,
    /// `NDIS_*_FLAGS_DISPATCH_LEVEL`) passed by a caller running below
    /// `DISPATCH_LEVEL`.
    DispatchLevelFlagWithoutDispatchLevel,
    /// A classify changed `classifyOut->actionType` without
    /// `FWPS_RIGHT_ACTION_WRITE`, other than to veto with a block.
    ClassifyOutWrittenWithoutRight,
    /// A classify handle released twice, used after its release, completed
    /// without being pended or twice, or not one the engine gave.
    ClassifyHandleMisuse,
    /// A callout unregistered while flow contexts it associated are still
    /// associated (the engine deletes them, calling its `flowDeleteFn`, and
    /// refuses with `STATUS_DEVICE_BUSY`).
    FlowContextLeftAtUnregister,
    /// `FwpsPendOperation0` with a completion handle of no classify in
    /// progress, or `FwpsCompleteOperation0` twice or with a context the
    /// engine did not give.
    PendedOperationMisuse,
    /// The remote address or control data of a send injection
    /// (`FWPS_TRANSPORT_SEND_PARAMS1`) changed or freed before its
    /// completion: the stack reads them until then.
    SendParamsChangedBeforeCompletion,
    /// An NBL completed, returned or passed on by a filter module that
    /// already handed it on (or whose origin has it back).
    NetBufferListGivenBackTwice,
    /// An NBL completed, returned or passed on by a filter module that
    /// does not hold it.
    NetBufferListWrongFilter,
    /// A send returned down or indicated up, a receive completed up or sent
    /// down, an NBL that came back passed on again, or a filter's own NBL
    /// completed or returned.
    NetBufferListWrongDirection,
    /// An NBL's `SourceHandle` changed on the way, or a filter's own NBL
    /// sent without its `NdisFilterHandle` there.
    SourceHandleChanged,
    /// A chain whose `Next` links loop, or whose `NumberOfNetBufferLists`
    /// is not its length.
    ChainLinksBroken,
    /// A filter module sends or indicates while paused (or deregistered
    /// while attached).
    FilterPaused,
    /// `NdisFPauseComplete` or `NdisFRestartComplete` with none pending,
    /// or twice.
    PauseOrRestartNotPending,
    /// A pause completed while NBLs the module originated (its own, sent
    /// down or indicated up by it) are not back. What it passed through is
    /// back before its pause starts: NDIS pauses the layers above first.
    PauseCompletedWithOutstanding,
    /// An NBL indicated with `NDIS_RECEIVE_FLAGS_RESOURCES` used after the
    /// receive handler returned, returned with `NdisFReturnNetBufferLists`,
    /// or indicated up without the flag.
    ResourcesNetBufferListKept,
    /// A pause or restart still pending when the stack is dropped (the
    /// watchdog).
    PauseNeverCompleted,
    /// An OID request completed twice: `NdisFOidRequestComplete` on a
    /// request already completed, or by a filter whose `FilterOidRequest`
    /// also returned a status other than `NDIS_STATUS_PENDING`.
    OidCompletedTwice,
    /// `NdisFOidRequestComplete` on a request NDIS did not hand this filter
    /// module (one it issued itself, another module's, or no request).
    OidNotGiven,
    /// A filter module issued an OID request (`NdisFOidRequest`) while one
    /// it issued before is not complete.
    OidRequestWhileOneOutstanding,
    /// A request cloned with `NdisAllocateCloneOidRequest` freed
    /// (`NdisFreeCloneOidRequest`) after it was issued and before its
    /// completion.
    CloneOidFreedBeforeCompletion,
    /// An OID request issued from the protocol still not complete when the
    /// stack is dropped (the watchdog).
    OidNeverCompleted,
}

impl Rule {
    /// The rule as the documentation states it.
    pub fn text(self) -> &'static str {
        match self {
            Rule::DoubleFree => "an object must be freed exactly once",
            Rule::UseAfterFree => "a freed object must not be used",
            Rule::NotAnObject => "the DDI takes an object its allocator returned",
            Rule::WrongFreeFunction => "an object is freed by the function matching its allocator",
            Rule::PoolFreedWithOutstandingAllocations => {
                "a pool is freed only after everything allocated from it is freed"
            }
            Rule::PreallocatedNetBufferFreed => {
                "a NET_BUFFER preallocated with its NET_BUFFER_LIST is freed with the NET_BUFFER_LIST"
            }
            Rule::ParentFreedWithLiveClones => "a parent NET_BUFFER_LIST outlives its clones (ChildRefCount must be 0)",
            Rule::CloneFreedWhileModified => {
                "a clone's NET_BUFFER and MDL chains and data offsets are restored before it is freed"
            }
            Rule::ContextFreedOutOfOrder => {
                "NET_BUFFER_LIST contexts are freed last-in first-out, with the size they were allocated with"
            }
            Rule::ContextLeftAllocated => "contexts allocated on an NBL are freed before the NBL",
            Rule::MisalignedContextSize => "context sizes and backfills are multiples of their alignment",
            Rule::InvalidPoolParameters => "pool parameters carry a valid header and consistent fields",
            Rule::NullMdlWithData => "with a NULL MDL chain, the data offset and length are 0",
            Rule::DataOutsideMdlChain => "a NET_BUFFER's data lies inside its MDL chain",
            Rule::AdvancePastData => "the data start advances by at most the data length",
            Rule::WrongPoolKind => "each DDI allocates from a pool of the kind it takes",
            Rule::MissingFreeMdlHandler => "MDLs made by a caller's allocate handler are freed through a free handler",
            Rule::DereferenceWithoutReference => "every dereference matches a reference",
            Rule::NetBufferListOwnedByStack => {
                "an injected NET_BUFFER_LIST belongs to the stack until its completion returns it"
            }
            Rule::InvalidInjectionHandle => "an injection handle is used and destroyed only while valid",
            Rule::StackNetBufferListModified => {
                "an indicated NET_BUFFER_LIST goes back to the stack with the data offsets it came with"
            }
            Rule::IrqlAboveMaximum => "a DDI is called at or below its documented maximum IRQL",
            Rule::DispatchLevelFlagWithoutDispatchLevel => {
                "a dispatch-level argument or flag says DISPATCH_LEVEL only when the caller runs at DISPATCH_LEVEL"
            }
            Rule::ClassifyOutWrittenWithoutRight => {
                "without FWPS_RIGHT_ACTION_WRITE a callout leaves the action as it is, except to veto with FWP_ACTION_BLOCK"
            }
            Rule::ClassifyHandleMisuse => {
                "a classify handle is acquired, pended, completed once and released once, in that order"
            }
            Rule::SendParamsChangedBeforeCompletion => {
                "a send injection's remote address and control data stay valid and unchanged until its completion"
            }
            Rule::PendedOperationMisuse => {
                "an operation is pended from its classify's completion handle and completed exactly once"
            }
            Rule::FlowContextLeftAtUnregister => {
                "a callout removes its flow contexts (FwpsFlowRemoveContext0) before it is unregistered"
            }
            Rule::NetBufferListGivenBackTwice => "a filter hands each NBL it is given on, or back, exactly once",
            Rule::NetBufferListWrongFilter => "a filter completes, returns or passes on only the NBLs it holds",
            Rule::NetBufferListWrongDirection => {
                "sends go down and are completed up, receives go up and are returned down; a filter frees its own NBLs"
            }
            Rule::SourceHandleChanged => {
                "a filter leaves SourceHandle as it came, and sets its NdisFilterHandle there in NBLs it originates"
            }
            Rule::ChainLinksBroken => "a chain's Next links end in NULL and its count is NumberOfNetBufferLists",
            Rule::FilterPaused => "a paused filter module neither sends nor indicates receives",
            Rule::PauseOrRestartNotPending => "a pause or restart is completed once, and only while pending",
            Rule::PauseCompletedWithOutstanding => {
                "a pause completes only when every NBL the module originated (sent down or indicated up) is back"
            }
            Rule::ResourcesNetBufferListKept => {
                "an NBL indicated with NDIS_RECEIVE_FLAGS_RESOURCES is the miniport's again when the receive handler returns"
            }
            Rule::PauseNeverCompleted => "a pending pause or restart is completed",
            Rule::OidCompletedTwice => {
                "an OID request is completed exactly once: by the handler's status, or by NdisFOidRequestComplete after NDIS_STATUS_PENDING"
            }
            Rule::OidNotGiven => "a filter completes only the OID requests NDIS handed it",
            Rule::OidRequestWhileOneOutstanding => {
                "a filter module has at most one OID request of its own outstanding below it"
            }
            Rule::CloneOidFreedBeforeCompletion => {
                "a cloned OID request is freed only after the request issued with it completed"
            }
            Rule::OidNeverCompleted => "every OID request is completed",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// A broken rule: which, where, and what was involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule broken.
    pub rule: Rule,
    /// The DDI that saw it.
    pub ddi: &'static str,
    /// What happened, naming the objects (`nbl#3`, `pool#1`, …).
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NDIS verifier: {} in {}: {} (rule: {})", self.rule, self.ddi, self.message, self.rule.text())
    }
}
