//! Data offsets: [`Rule::NullMdlWithData`], [`Rule::DataOutsideMdlChain`],
//! [`Rule::AdvancePastData`], and [`Rule::MissingFreeMdlHandler`] for the
//! MDLs a retreat added.

use ndis_sys::*;

use super::{Rule, Violation, v};
use crate::model::State;
use crate::model::records::{chain, chain_len, mdl_len, nb_data};

/// Checks that an NB's data lies inside its MDL chain and that CurrentMdl
/// and CurrentMdlOffset agree with DataOffset. Returns what is wrong.
///
/// # Safety
///
/// `nb` and its chain's MDLs are live.
pub(crate) unsafe fn nb_inconsistency(nb: *mut NET_BUFFER) -> Option<String> {
    // SAFETY: the caller guarantees `nb` and its MDLs are live.
    let d = unsafe { nb_data(nb) };
    if d.mdl_chain.is_null() {
        return (d.data_offset != 0 || d.data_length != 0)
            .then(|| format!("no MDL chain but DataOffset {} and DataLength {}", d.data_offset, d.data_length));
    }
    // SAFETY: as above.
    let mdls = unsafe { chain(d.mdl_chain) };
    // SAFETY: as above.
    let total: u64 = mdls.iter().map(|m| u64::from(unsafe { mdl_len(*m) })).sum();
    let end = u64::from(d.data_offset) + u64::from(d.data_length);
    if end > total {
        return Some(format!(
            "DataOffset {} + DataLength {} = {end} is beyond the MDL chain's {total} bytes",
            d.data_offset, d.data_length
        ));
    }
    // Where the data start is, counting from the chain's start, and the
    // boundary alternative (end of the previous MDL).
    let mut at = 0u64;
    for &m in &mdls {
        // SAFETY: as above.
        let len = u64::from(unsafe { mdl_len(m) });
        if m == d.current_mdl {
            let start = at + u64::from(d.current_mdl_offset);
            if u64::from(d.current_mdl_offset) <= len && start == u64::from(d.data_offset) {
                return None;
            }
            return Some(format!(
                "CurrentMdl + CurrentMdlOffset {} is byte {start} of the chain, but DataOffset is {}",
                d.current_mdl_offset, d.data_offset
            ));
        }
        at += len;
    }
    Some("CurrentMdl is not on the NB's MDL chain".to_owned())
}

/// [`Rule::DataOutsideMdlChain`]: the NB's data lies inside its MDL chain
/// and its current MDL and offset agree with `DataOffset`.
///
/// # Safety
///
/// `nb` and its chain's MDLs are live.
pub(crate) unsafe fn consistent(
    st: &State,
    nb: *mut NET_BUFFER,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    // SAFETY: the caller's guarantee.
    match unsafe { nb_inconsistency(nb) } {
        None => true,
        Some(e) => {
            found.push(v(Rule::DataOutsideMdlChain, ddi, format!("{}: {e}", st.name(nb as usize))));
            false
        }
    }
}

/// [`Rule::NullMdlWithData`], [`Rule::DataOutsideMdlChain`]: the MDL-chain
/// arguments of the NB allocators.
///
/// # Safety
///
/// The chain's MDLs are live.
pub(crate) unsafe fn chain_args(
    chain: *mut MDL,
    offset: u32,
    length: SIZE_T,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    if chain.is_null() {
        if offset != 0 || length != 0 {
            found.push(v(
                Rule::NullMdlWithData,
                ddi,
                format!("MdlChain is NULL but DataOffset is {offset} and DataLength is {length}"),
            ));
            return false;
        }
        return true;
    }
    // SAFETY: the caller guarantees the chain's MDLs are live.
    let total = unsafe { chain_len(chain) };
    if u64::from(offset) + length > total {
        found.push(v(
            Rule::DataOutsideMdlChain,
            ddi,
            format!("DataOffset {offset} + DataLength {length} is beyond the MDL chain's {total} bytes"),
        ));
        return false;
    }
    if length > u32::MAX as SIZE_T {
        found.push(v(Rule::DataOutsideMdlChain, ddi, format!("DataLength {length} does not fit a ULONG")));
        return false;
    }
    true
}

/// The NB arguments of the NBL-and-NB allocators, against the pool: with a
/// NULL chain and a pool with data, inside the pool's `DataSize`.
///
/// # Safety
///
/// The chain's MDLs are live.
pub(crate) unsafe fn nbl_nb_args(
    st: &State,
    pool: NDIS_HANDLE,
    chain: *mut MDL,
    offset: u32,
    length: SIZE_T,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    let data = st.nbl_pool(pool as usize).map_or(0, |p| p.data_size);
    if chain.is_null() && data > 0 {
        if u64::from(offset) + length > u64::from(data) {
            found.push(v(
                Rule::DataOutsideMdlChain,
                ddi,
                format!("DataOffset {offset} + DataLength {length} is beyond the pool's DataSize {data}"),
            ));
            return false;
        }
        return true;
    }
    // SAFETY: the caller guarantees the chain's MDLs are live.
    unsafe { chain_args(chain, offset, length, ddi, found) }
}

/// [`Rule::AdvancePastData`]: an advance by at most the data length.
///
/// # Safety
///
/// `nb` is live.
pub(crate) unsafe fn advance_within(
    st: &State,
    nb: *mut NET_BUFFER,
    delta: u32,
    ddi: &'static str,
    found: &mut Vec<Violation>,
) -> bool {
    // SAFETY: the caller guarantees `nb` is live.
    let length = unsafe { *NET_BUFFER_DATA_LENGTH(nb) };
    if delta > length {
        found.push(v(
            Rule::AdvancePastData,
            ddi,
            format!("advancing {} by {delta} bytes, past its {length} bytes of data", st.name(nb as usize)),
        ));
        return false;
    }
    true
}

/// [`Rule::MissingFreeMdlHandler`]: MDLs the caller's allocate handler
/// made, freed by an advance, need a free handler.
pub(crate) fn free_handler_given(
    st: &State,
    handler: NET_BUFFER_FREE_MDL,
    freed: &[*mut MDL],
    ddi: &'static str,
    found: &mut Vec<Violation>,
) {
    if handler.is_some() {
        return;
    }
    for &m in freed {
        found.push(v(
            Rule::MissingFreeMdlHandler,
            ddi,
            format!("{} came from the caller's allocate handler; no free handler was given", st.name(m as usize)),
        ));
    }
}
