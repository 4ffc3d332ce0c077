//! IRQL: [`Rule::IrqlAboveMaximum`] (a DDI called above its documented
//! maximum IRQL) and [`Rule::DispatchLevelFlagWithoutDispatchLevel`] (a
//! dispatch-level argument or flag that says `DISPATCH_LEVEL` while the
//! thread runs below it).
//!
//! The maximum IRQL of each DDI, from its documentation page
//! (`req.irql`):
//!
//! | DDIs | maximum IRQL |
//! |---|---|
//! | `NdisAllocateNetBufferListPool`, `NdisFreeNetBufferListPool`, `NdisAllocateNetBufferPool`, `NdisFreeNetBufferPool` | `DISPATCH_LEVEL` |
//! | `NdisAllocateNetBufferList`, `NdisAllocateNetBufferAndNetBufferList`, `NdisFreeNetBufferList`, `NdisGetPoolFromNetBufferList` | `DISPATCH_LEVEL` |
//! | `NdisAllocateNetBuffer`, `NdisAllocateNetBufferMdlAndData`, `NdisFreeNetBuffer`, `NdisGetPoolFromNetBuffer` | `DISPATCH_LEVEL` |
//! | `NdisAllocateMdl`, `NdisFreeMdl` | `DISPATCH_LEVEL` |
//! | `NdisAllocateCloneNetBufferList`, `NdisFreeCloneNetBufferList` | `DISPATCH_LEVEL` |
//! | `NdisAllocateNetBufferListContext`, `NdisFreeNetBufferListContext` | `DISPATCH_LEVEL` |
//! | `NdisRetreatNetBuffer[List]DataStart`, `NdisAdvanceNetBuffer[List]DataStart` | `DISPATCH_LEVEL` |
//! | `NdisGetDataBuffer`, `NdisCopyFromNetBufferToNetBuffer` | `DISPATCH_LEVEL` |
//! | `FwpsAllocateNetBufferAndNetBufferList0`, `FwpsFreeNetBufferList0`, `FwpsAllocateCloneNetBufferList0`, `FwpsFreeCloneNetBufferList0` | `DISPATCH_LEVEL` |
//! | `FwpsReferenceNetBufferList0`, `FwpsDereferenceNetBufferList0` | `DISPATCH_LEVEL` |
//! | `FwpsInject{TransportSend,TransportReceive,NetworkSend,NetworkReceive,Forward}Async0`, `FwpsQueryPacketInjectionState0` | `DISPATCH_LEVEL` |
//! | `FwpsInjectionHandleCreate0`, `FwpsInjectionHandleDestroy0` | `PASSIVE_LEVEL` |
//! | `FwpsCalloutRegister0`, `FwpsCalloutUnregisterById0` | `PASSIVE_LEVEL` |
//!
//! Dispatch-level arguments: `dispatchLevel` of
//! `FwpsDereferenceNetBufferList0` ("TRUE only if it is known that it is
//! running at IRQL = DISPATCH_LEVEL. Otherwise … FALSE"): TRUE below
//! `DISPATCH_LEVEL` is reported; FALSE at `DISPATCH_LEVEL` is what a caller
//! that does not know passes, and is not. `NdisFreeCloneNetBufferList`'s
//! `FreeCloneFlags` defines no dispatch-level flag. The
//! `NDIS_*_FLAGS_DISPATCH_LEVEL` flags of the filter send, receive, return
//! and complete DDIs ("the current IRQL is DISPATCH_LEVEL") are checked the
//! same way by [`dispatch_claim`] when those DDIs are simulated.
//!
//! Both checks read only this thread's IRQL: no lock is taken unless a
//! rule is broken, and they report at once (before the DDI runs, as
//! Driver Verifier's IRQL checks do).

use super::report::report;
use super::{Rule, v};
use crate::model::irql::{DISPATCH_LEVEL, KIRQL, current};

/// The name of a level, for messages.
fn level_name(l: KIRQL) -> String {
    match l {
        0 => "PASSIVE_LEVEL".to_owned(),
        1 => "APC_LEVEL".to_owned(),
        2 => "DISPATCH_LEVEL".to_owned(),
        n => format!("IRQL {n}"),
    }
}

/// [`Rule::IrqlAboveMaximum`]: `ddi` runs at or below `max`.
#[inline]
pub(crate) fn at_most(max: KIRQL, ddi: &'static str) {
    let now = current();
    if now > max {
        above(now, max, ddi);
    }
}

#[cold]
#[inline(never)]
fn above(now: KIRQL, max: KIRQL, ddi: &'static str) {
    report(vec![v(
        Rule::IrqlAboveMaximum,
        ddi,
        format!("called at {}; its maximum is {}", level_name(now), level_name(max)),
    )]);
}

/// [`Rule::DispatchLevelFlagWithoutDispatchLevel`]: an argument or flag
/// (`what`) that says the caller runs at `DISPATCH_LEVEL` is true.
#[inline]
pub(crate) fn dispatch_claim(claims_dispatch: bool, what: &'static str, ddi: &'static str) {
    let now = current();
    if claims_dispatch && now < DISPATCH_LEVEL {
        claim_false(now, what, ddi);
    }
}

#[cold]
#[inline(never)]
fn claim_false(now: KIRQL, what: &'static str, ddi: &'static str) {
    report(vec![v(
        Rule::DispatchLevelFlagWithoutDispatchLevel,
        ddi,
        format!("{what} says DISPATCH_LEVEL, but the caller runs at {}", level_name(now)),
    )]);
}
