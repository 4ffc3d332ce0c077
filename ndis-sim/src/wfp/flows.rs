//! Flow contexts (`FwpsFlowAssociateContext0`, `FwpsFlowRemoveContext0`,
//! `flowDeleteFn`) and unregistration, which must find none left.

use fwps_sys::*;

use super::engine::with_engine;
use crate::model::callout;
use crate::verifier::{Rule, report, v};

/// `FwpsFlowAssociateContext0`'s transition.
pub(super) fn associate(flow: u64, layer: u16, id: u32, context: u64) -> NTSTATUS {
    if !callout::callouts().iter().any(|c| c.id == id) {
        return ndis_sys::STATUS_INVALID_PARAMETER;
    }
    with_engine(|e| {
        if e.flows.iter().any(|(k, _)| *k == (flow, layer, id)) {
            return STATUS_OBJECT_NAME_EXISTS;
        }
        e.flows.push(((flow, layer, id), context));
        0
    })
}

/// `STATUS_OBJECT_NAME_EXISTS`: a context is already associated.
const STATUS_OBJECT_NAME_EXISTS: NTSTATUS = 0x4000_0000;

/// Calls the flow-delete functions of the contexts `pick` selects, after
/// taking them out of the engine (so a callback may call the DDIs).
fn delete_contexts(pick: impl Fn(&(u64, u16, u32)) -> bool) -> usize {
    let gone: Vec<((u64, u16, u32), u64)> = with_engine(|e| {
        let (gone, kept) = std::mem::take(&mut e.flows).into_iter().partition(|(k, _)| pick(k));
        e.flows = kept;
        gone
    });
    for ((_, layer, id), context) in &gone {
        let f = callout::callouts().iter().find(|c| c.id == *id).and_then(|c| c.flow_delete);
        if let Some(f) = f {
            // SAFETY: the callout's own flow-delete function, as the engine calls it.
            unsafe { f(*layer, *id, *context) };
        }
    }
    gone.len()
}

/// `FwpsFlowRemoveContext0`'s transition: the callout's `flowDeleteFn`
/// runs before it returns.
pub(super) fn remove_context(flow: u64, layer: u16, id: u32) -> NTSTATUS {
    if delete_contexts(|k| *k == (flow, layer, id)) == 0 { ndis_sys::STATUS_INVALID_PARAMETER } else { 0 }
}

/// Ends flow `flow`, as the stack does when its connection closes: each
/// callout's context on it is deleted through its `flowDeleteFn`. Returns
/// how many contexts it had.
pub fn end_flow(flow: u64) -> usize {
    delete_contexts(|k| k.0 == flow)
}

/// How many flow contexts callout `id` has associated.
pub fn flow_contexts(id: u32) -> usize {
    with_engine(|e| e.flows.iter().filter(|(k, _)| k.2 == id).count())
}

/// Unregistration, by id or key: refused (`STATUS_DEVICE_BUSY`) while
/// filters reference the callout or classifies of it run; with flow
/// contexts left, reported, the contexts deleted through its
/// `flowDeleteFn`, and refused too (retrying then succeeds).
pub(crate) fn unregister(id: Option<u32>, key: Option<GUID>, ddi: &'static str) -> NTSTATUS {
    let found = callout::callouts()
        .iter()
        .find(|c| id.is_some_and(|i| i == c.id) || key.is_some_and(|k| callout::same_guid(&k, &c.key)))
        .map(|c| c.id);
    let Some(id) = found else { return ndis_sys::STATUS_INVALID_PARAMETER };
    let left = flow_contexts(id);
    if left > 0 {
        report::report(vec![v(
            Rule::FlowContextLeftAtUnregister,
            ddi,
            format!("callout {id} unregistered with {left} flow context(s) still associated"),
        )]);
        delete_contexts(|k| k.2 == id);
        return super::STATUS_DEVICE_BUSY;
    }
    match callout::unregister_where(|c| c.id == id) {
        callout::Unregistered::Done => 0,
        callout::Unregistered::Busy => super::STATUS_DEVICE_BUSY,
        callout::Unregistered::Unknown => ndis_sys::STATUS_INVALID_PARAMETER,
    }
}
