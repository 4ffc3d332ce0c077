//! Reading and writing the records themselves: an NB's data fields, MDL
//! chains, where an offset falls, the NBs of an NBL, and copies in and out
//! of the data an NB describes.

use ndis_sys::*;

use super::objects::NbShape;

/// The data fields of an NB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NbData {
    pub mdl_chain: *mut MDL,
    pub current_mdl: *mut MDL,
    pub current_mdl_offset: u32,
    pub data_offset: u32,
    pub data_length: u32,
    pub next: *mut NET_BUFFER,
}
/// Reads an NB's data fields.
///
/// # Safety
///
/// `nb` points to a live NET_BUFFER.
pub(crate) unsafe fn nb_data(nb: *mut NET_BUFFER) -> NbData {
    // SAFETY: the caller guarantees `nb` is live; these are field reads.
    unsafe {
        NbData {
            mdl_chain: *NET_BUFFER_FIRST_MDL(nb),
            current_mdl: *NET_BUFFER_CURRENT_MDL(nb),
            current_mdl_offset: *NET_BUFFER_CURRENT_MDL_OFFSET(nb),
            data_offset: *NET_BUFFER_DATA_OFFSET(nb),
            data_length: *NET_BUFFER_DATA_LENGTH(nb),
            next: *NET_BUFFER_NEXT_NB(nb),
        }
    }
}

/// Writes an NB's offset fields (not `Next`).
///
/// # Safety
///
/// `nb` points to a live NET_BUFFER this code may write.
pub(crate) unsafe fn set_nb_data(nb: *mut NET_BUFFER, d: NbData) {
    // SAFETY: the caller guarantees `nb` is live and writable.
    unsafe {
        *NET_BUFFER_FIRST_MDL(nb) = d.mdl_chain;
        *NET_BUFFER_CURRENT_MDL(nb) = d.current_mdl;
        *NET_BUFFER_CURRENT_MDL_OFFSET(nb) = d.current_mdl_offset;
        *NET_BUFFER_DATA_OFFSET(nb) = d.data_offset;
        *NET_BUFFER_DATA_LENGTH(nb) = d.data_length;
    }
}

/// The longest MDL chain walked before it is taken for a cycle.
const MAX_CHAIN: usize = 1 << 16;

/// The MDLs of a chain, in order (stopping at a cycle).
///
/// # Safety
///
/// Every MDL on the chain is live.
pub(crate) unsafe fn chain(first: *mut MDL) -> Vec<*mut MDL> {
    let mut out = Vec::new();
    let mut m = first;
    while !m.is_null() && out.len() < MAX_CHAIN {
        out.push(m);
        // SAFETY: the caller guarantees the chain's MDLs are live.
        m = unsafe { *NDIS_MDL_LINKAGE(m) };
    }
    out
}

/// The bytes an MDL describes.
///
/// # Safety
///
/// `mdl` is live.
pub(crate) unsafe fn mdl_len(mdl: *mut MDL) -> u32 {
    // SAFETY: the caller guarantees `mdl` is live.
    unsafe { MmGetMdlByteCount(mdl) }
}

/// The system address of an MDL's buffer (`MmGetSystemAddressForMdlSafe`:
/// every MDL here describes nonpaged memory mapped in system space).
///
/// # Safety
///
/// `mdl` is live.
pub(crate) unsafe fn mdl_va(mdl: *mut MDL) -> *mut u8 {
    // SAFETY: the caller guarantees `mdl` is live; field reads.
    unsafe {
        let flags = *MDL_FLAGS(mdl);
        if flags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
            (*mdl).MappedSystemVa.cast()
        } else {
            MmGetMdlVirtualAddress(mdl).cast()
        }
    }
}

/// Where `offset` bytes into a chain fall: (MDL, offset in it). At a
/// boundary the next MDL is chosen (offset 0), except at the chain's end.
///
/// # Safety
///
/// Every MDL on the chain is live.
pub(crate) unsafe fn locate(first: *mut MDL, offset: u64) -> Option<(*mut MDL, u32)> {
    let mut m = first;
    let mut off = offset;
    let mut steps = 0;
    while !m.is_null() && steps < MAX_CHAIN {
        // SAFETY: the caller guarantees the chain's MDLs are live.
        let (len, next) = unsafe { (u64::from(mdl_len(m)), *NDIS_MDL_LINKAGE(m)) };
        if off < len || (off == len && next.is_null()) {
            return Some((m, off as u32));
        }
        off -= len;
        m = next;
        steps += 1;
    }
    None
}

/// The bytes in a chain.
///
/// # Safety
///
/// The chain's MDLs are live.
pub(crate) unsafe fn chain_len(chain: *mut MDL) -> u64 {
    // SAFETY: the caller guarantees the chain's MDLs are live.
    unsafe { self::chain(chain).into_iter().map(|m| u64::from(mdl_len(m))).sum() }
}

/// The NBs of an NBL, in order.
///
/// # Safety
///
/// `nbl` and its NBs are live.
pub(crate) unsafe fn nbs(nbl: *mut NET_BUFFER_LIST) -> Vec<*mut NET_BUFFER> {
    let mut out = Vec::new();
    // SAFETY: the caller guarantees `nbl` and its NBs are live.
    let mut nb = unsafe { *NET_BUFFER_LIST_FIRST_NB(nbl) };
    while !nb.is_null() && out.len() < MAX_CHAIN {
        out.push(nb);
        // SAFETY: as above.
        nb = unsafe { *NET_BUFFER_NEXT_NB(nb) };
    }
    out
}

/// Records the shape of each NB of an NBL (for clones).
///
/// # Safety
///
/// `nbl`, its NBs and their MDLs are live.
pub(crate) unsafe fn shape(nbl: *mut NET_BUFFER_LIST) -> Vec<NbShape> {
    // SAFETY: the caller guarantees everything reachable is live.
    unsafe {
        nbs(nbl)
            .into_iter()
            .map(|nb| {
                let d = nb_data(nb);
                NbShape {
                    nb: nb as usize,
                    mdl_chain: d.mdl_chain as usize,
                    current_mdl: d.current_mdl as usize,
                    current_mdl_offset: d.current_mdl_offset,
                    data_offset: d.data_offset,
                    data_length: d.data_length,
                    mdls: chain(d.mdl_chain)
                        .into_iter()
                        .map(|m| (m as usize, *NDIS_MDL_LINKAGE(m) as usize, mdl_len(m)))
                        .collect(),
                }
            })
            .collect()
    }
}

/// Calls `each(span, done, n)` for the MDL spans that hold `len` bytes of an
/// NB's data starting `from` bytes into it, in order: `span` points at `n`
/// bytes of them, the ones `done` bytes into the range.
///
/// # Safety
///
/// `nb` and its MDLs are live; the range lies inside the data.
unsafe fn for_each_span(nb: *mut NET_BUFFER, from: u32, len: u32, mut each: impl FnMut(*mut u8, usize, usize)) {
    // SAFETY: the caller guarantees all of the above.
    unsafe {
        let d = nb_data(nb);
        let Some((mut mdl, mut off)) = locate(d.mdl_chain, u64::from(d.data_offset) + u64::from(from)) else {
            return;
        };
        let mut done = 0u32;
        while done < len && !mdl.is_null() {
            let n = (mdl_len(mdl) - off).min(len - done);
            each(mdl_va(mdl).add(off as usize), done as usize, n as usize);
            done += n;
            mdl = *NDIS_MDL_LINKAGE(mdl);
            off = 0;
        }
    }
}

/// Copies `len` bytes of an NB's data starting `from` bytes into it.
///
/// # Safety
///
/// `nb` and its MDLs are live; `out` is valid for `len` bytes; the range
/// lies inside the data.
pub(crate) unsafe fn copy_out(nb: *mut NET_BUFFER, from: u32, out: *mut u8, len: u32) {
    // SAFETY: the caller guarantees the walk's requirements; each span is
    // `n` readable bytes and `out + done` has `n` writable ones left.
    unsafe { for_each_span(nb, from, len, |span, done, n| core::ptr::copy_nonoverlapping(span, out.add(done), n)) }
}

/// Copies `len` bytes into an NB's data starting `at` bytes into it.
///
/// # Safety
///
/// As [`copy_out`], with `src` readable.
pub(crate) unsafe fn copy_in(nb: *mut NET_BUFFER, at: u32, src: *const u8, len: u32) {
    // SAFETY: the caller guarantees the walk's requirements; each span is
    // `n` writable bytes and `src + done` has `n` readable ones left (they
    // may overlap: `copy` allows it).
    unsafe { for_each_span(nb, at, len, |span, done, n| core::ptr::copy(src.add(done), span, n)) }
}
