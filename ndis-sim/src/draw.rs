//! NBL chains drawn as text, the way a debugger extension shows them: each
//! NBL with its origin, pool, status, parent and clones, context stack, NBs
//! with their offsets, and each NB's MDLs with how much of them is data.
//!
//! ```text
//! nbl#4 (FwpsAllocateCloneNetBufferList0) parent nbl#2, ChildRefCount 0, status 0x0
//!   contexts: [16 used of 16]
//!   nb#5 DataOffset 20, DataLength 28, CurrentMdl mdl#3 +20
//!     mdl#3 48 bytes: 20 unused, 28 data: 45 00 00 30 00 00 …
//! ```

use std::fmt::Write as _;

use ndis_sys::*;

use crate::model::records::{chain, mdl_len, mdl_va, nb_data, nbs};
use crate::model::{Body, State, tag_text, with_state};

/// How many data bytes a drawing shows per MDL.
const PREVIEW: usize = 12;

/// Draws the NBL chain starting at `nbl` (following `Next`).
///
/// # Safety
///
/// `nbl` is NULL or a live NBL whose NBs and MDLs are live.
pub unsafe fn draw(nbl: *mut NET_BUFFER_LIST) -> String {
    with_state(|st| {
        let mut out = String::new();
        let mut n = nbl;
        let mut count = 0;
        while !n.is_null() && count < 64 {
            // SAFETY: the caller guarantees the chain is live.
            unsafe { draw_one(st, n, &mut out) };
            // SAFETY: as above.
            n = unsafe { *NET_BUFFER_LIST_NEXT_NBL(n) };
            count += 1;
        }
        if nbl.is_null() {
            out.push_str("(no NBL)\n");
        }
        out
    })
}

/// # Safety
///
/// As [`draw`].
unsafe fn draw_one(st: &State, nbl: *mut NET_BUFFER_LIST, out: &mut String) {
    let addr = nbl as usize;
    let info = st.nbl(addr);
    let origin = info.map_or("not from NDIS", |i| i.origin.allocator());
    // SAFETY: the caller guarantees `nbl` is live.
    let (parent, children, status) =
        unsafe { (*NET_BUFFER_LIST_PARENT(nbl), *NET_BUFFER_LIST_CHILD_REF_COUNT(nbl), *NET_BUFFER_LIST_STATUS(nbl)) };
    let _ = write!(out, "{} ({origin})", st.name(addr));
    if let Some(i) = info
        && i.pool != 0
    {
        let _ = write!(out, " from {} '{}'", st.name(i.pool), tag_text(st.tag_of(i.pool)));
    }
    if !parent.is_null() {
        let _ = write!(out, " parent {}", st.name(parent as usize));
    }
    let _ = write!(out, ", ChildRefCount {children}, status {status:#x}");
    if let Some(i) = info {
        if i.references > 0 {
            let _ = write!(out, ", {} references", i.references);
        }
        if i.injected.is_some() {
            let _ = write!(out, ", injected (the stack owns it)");
        }
    }
    out.push('\n');

    // Context stack, innermost first.
    // SAFETY: as above; context blocks are live while the NBL is.
    let mut ctx = unsafe { (*nbl).Context };
    if !ctx.is_null() {
        out.push_str("  contexts:");
        let mut first = true;
        while !ctx.is_null() {
            // SAFETY: as above.
            let (size, offset, next) = unsafe { ((*ctx).Size, (*ctx).Offset, (*ctx).Next) };
            let _ = write!(out, "{} [{} used of {size}]", if first { "" } else { " ->" }, size - offset);
            first = false;
            ctx = next;
        }
        out.push('\n');
    }

    // SAFETY: as above.
    for nb in unsafe { nbs(nbl) } {
        // SAFETY: as above.
        let d = unsafe { nb_data(nb) };
        let _ = writeln!(
            out,
            "  {} DataOffset {}, DataLength {}, CurrentMdl {} +{}",
            st.name(nb as usize),
            d.data_offset,
            d.data_length,
            st.name(d.current_mdl as usize),
            d.current_mdl_offset
        );
        let mut at: u64 = 0;
        let start = u64::from(d.data_offset);
        let end = start + u64::from(d.data_length);
        // SAFETY: as above.
        for m in unsafe { chain(d.mdl_chain) } {
            // SAFETY: as above.
            let (len, va) = unsafe { (u64::from(mdl_len(m)), mdl_va(m)) };
            let lo = start.clamp(at, at + len) - at;
            let hi = end.clamp(at, at + len) - at;
            let mut line = format!("    {} {len} bytes:", st.name(m as usize));
            if lo > 0 {
                let _ = write!(line, " {lo} unused,");
            }
            let _ = write!(line, " {} data", hi - lo);
            if hi > lo {
                let shown = ((hi - lo) as usize).min(PREVIEW);
                line.push(':');
                for i in 0..shown {
                    // SAFETY: the bytes are inside the MDL's buffer.
                    let b = unsafe { *va.add(lo as usize + i) };
                    let _ = write!(line, " {b:02x}");
                }
                if (hi - lo) as usize > shown {
                    line.push_str(" …");
                }
            }
            if hi < len && hi > 0 && end < at + len {
                let _ = write!(line, ", {} after", len - hi);
            }
            if matches!(st.objs.get(&(m as usize)).map(|o| &o.body), Some(Body::Mdl(mi)) if !mi.by_caller && mi.data.is_some())
            {
                line.push_str(" (NDIS data)");
            }
            out.push_str(&line);
            out.push('\n');
            at += len;
        }
    }
}
