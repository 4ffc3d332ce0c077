//! The simulator's bookkeeping: every object a DDI made, by address, with
//! what the verifier needs to know about it.
//!
//! The objects themselves are the real records of ndis-sys, allocated here
//! and handed out by pointer, exactly as NDIS hands them out; the registry
//! lives beside them. One mutex guards the registry; the records are read
//! and written through raw pointers while it is held.

use std::alloc::Layout;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ndis_sys::*;

use crate::verifier::{self, Rule, SESSION, Violation};

/// A raw pointer the registry may keep across threads: the registry is only
/// touched under its mutex, and what the pointer names is an object this
/// simulator allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw(pub *mut u8);
// SAFETY: see the type's documentation; the pointee is only accessed while
// the state mutex is held, or by the caller that owns the object.
unsafe impl Send for Raw {}

/// Memory the simulator allocated, with the layout to free it with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub ptr: Raw,
    pub layout: Layout,
}

impl Block {
    /// Zeroed memory for `layout` (size > 0).
    pub fn zeroed(layout: Layout) -> Option<Block> {
        // SAFETY: every layout used here has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        (!ptr.is_null()).then_some(Block { ptr: Raw(ptr), layout })
    }

    /// Zeroed memory for one `T`.
    pub fn of<T>() -> Option<Block> {
        Block::zeroed(Layout::new::<T>())
    }

    pub fn cast<T>(self) -> *mut T {
        self.ptr.0.cast()
    }

    /// Returns the memory to the allocator.
    ///
    /// # Safety
    ///
    /// The block came from [`Block::zeroed`] and is freed once.
    pub unsafe fn free(self) {
        // SAFETY: the caller guarantees the block is live and was allocated
        // with this layout.
        unsafe { std::alloc::dealloc(self.ptr.0, self.layout) }
    }
}

/// How an NBL came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NblOrigin {
    /// `NdisAllocateNetBufferList` / `NdisAllocateNetBufferAndNetBufferList`
    Ndis,
    /// `FwpsAllocateNetBufferAndNetBufferList0`
    Fwps,
    /// `NdisAllocateCloneNetBufferList`
    NdisClone,
    /// `FwpsAllocateCloneNetBufferList0`
    FwpsClone,
    /// indicated by the (simulated) stack
    Stack,
}

impl NblOrigin {
    pub fn allocator(self) -> &'static str {
        match self {
            NblOrigin::Ndis => "NdisAllocateNetBufferList",
            NblOrigin::Fwps => "FwpsAllocateNetBufferAndNetBufferList0",
            NblOrigin::NdisClone => "NdisAllocateCloneNetBufferList",
            NblOrigin::FwpsClone => "FwpsAllocateCloneNetBufferList0",
            NblOrigin::Stack => "the stack",
        }
    }

    pub fn free_function(self) -> &'static str {
        match self {
            NblOrigin::Ndis => "NdisFreeNetBufferList",
            NblOrigin::Fwps => "FwpsFreeNetBufferList0",
            NblOrigin::NdisClone => "NdisFreeCloneNetBufferList",
            NblOrigin::FwpsClone => "FwpsFreeCloneNetBufferList0",
            NblOrigin::Stack => "(none: the stack completes it)",
        }
    }
}

/// A context block pushed by `NdisAllocateNetBufferListContext`.
#[derive(Debug)]
pub(crate) struct Pushed {
    pub size: u16,
    /// The block allocated for it, when the backfill did not suffice.
    pub block: Option<Block>,
}

/// The state of one NB of a clone when the clone was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NbShape {
    pub nb: usize,
    pub mdl_chain: usize,
    pub current_mdl: usize,
    pub current_mdl_offset: u32,
    pub data_offset: u32,
    pub data_length: u32,
    /// (MDL, its Next, its ByteCount) along the chain.
    pub mdls: Vec<(usize, usize, u32)>,
}

#[derive(Debug)]
pub(crate) struct CloneInfo {
    pub parent: Raw,
    pub shape: Vec<NbShape>,
    /// NBs and MDLs the clone DDI allocated for the clone.
    pub nbs: Vec<Raw>,
    pub mdls: Vec<Raw>,
}

#[derive(Debug)]
pub(crate) struct InjectionRecord {
    pub handle: usize,
    pub context: Raw,
}

#[derive(Debug)]
pub(crate) struct NblInfo {
    pub pool: usize,
    pub origin: NblOrigin,
    pub block: Block,
    /// The NB allocated with the NBL (pools with `fAllocateNetBuffer`, FWPS).
    pub prealloc_nb: Option<Raw>,
    /// The context block made with the NBL (Size/Offset of the first context).
    pub base_context: Option<Block>,
    pub pushed: Vec<Pushed>,
    pub clone: Option<Box<CloneInfo>>,
    pub references: u32,
    pub injected: Option<InjectionRecord>,
    /// For stack NBLs: released when the last reference goes.
    pub stack_returned: bool,
    /// For stack NBLs: what the stack expects back (offsets, length).
    pub stack_shape: Option<(u32, u32)>,
    /// For stack NBLs: the injection this packet came from, if any.
    pub came_from: Option<InjectionRecord>,
}

#[derive(Debug)]
pub(crate) struct NbInfo {
    /// The NB pool, or the NBL pool for a preallocated NB, or 0.
    pub pool: usize,
    /// The NBL a preallocated NB belongs to.
    pub owner: Option<usize>,
    pub block: Block,
    /// The MDL (with its data) allocated with the NB (pools with `DataSize`).
    pub data: Option<Raw>,
    /// MDLs a retreat put at the head of the chain: (MDL, made by the
    /// caller's handler).
    pub retreat_mdls: Vec<(Raw, bool)>,
}

#[derive(Debug)]
pub(crate) struct MdlInfo {
    /// Allocated by `NdisAllocateMdl` (freed by `NdisFreeMdl`), or by
    /// NDIS itself for its own purposes.
    pub by_caller: bool,
    pub block: Block,
    /// The data NDIS allocated for the MDL to describe, freed with it.
    pub data: Option<Block>,
}

#[derive(Debug, Clone)]
pub(crate) struct NblPoolInfo {
    pub allocate_nb: bool,
    pub context_size: u16,
    pub data_size: u32,
    pub outstanding: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct NbPoolInfo {
    pub data_size: u32,
    pub outstanding: usize,
}

#[derive(Debug)]
pub(crate) enum Body {
    NblPool(NblPoolInfo),
    NbPool(NbPoolInfo),
    Nbl(NblInfo),
    Nb(NbInfo),
    Mdl(MdlInfo),
    InjectionHandle { pending: usize },
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::NblPool(_) => "nbl-pool",
            Body::NbPool(_) => "nb-pool",
            Body::Nbl(_) => "nbl",
            Body::Nb(_) => "nb",
            Body::Mdl(_) => "mdl",
            Body::InjectionHandle { .. } => "injection-handle",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Obj {
    pub id: u64,
    pub session: u64,
    pub tag: u32,
    /// `None` while alive; the DDI that freed it once dead.
    pub freed_by: Option<&'static str>,
    pub body: Body,
}

impl Obj {
    pub fn name(&self) -> String {
        format!("{}#{}", self.body.kind(), self.id)
    }
}

/// A multiplicative hash for addresses: the registry's hot path.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// How many freed objects are remembered, to report double frees and uses
/// after free, before the oldest is forgotten.
const GRAVEYARD: usize = 1 << 14;

/// Freed NBL records wait this long before their memory is used again, so
/// that a double free or a use after free of a recent NBL is still caught.
const QUARANTINE: usize = 256;

#[derive(Default)]
pub(crate) struct State {
    pub objs: HashMap<usize, Obj, BuildHasherDefault<AddrHasher>>,
    next_id: u64,
    graveyard: VecDeque<usize>,
    /// Freed NET_BUFFER_LIST records, oldest first, for reuse (NDIS pools
    /// keep theirs too).
    nbl_cache: VecDeque<Block>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Runs `f` on the state, then reports what it found (after the lock is
/// released, so that a reporting panic leaves the state usable).
pub(crate) fn with<R>(f: impl FnOnce(&mut State, &mut Vec<Violation>) -> R) -> R {
    let mut found = Vec::new();
    let r = {
        let mut guard: MutexGuard<'_, Option<State>> = STATE.lock().unwrap_or_else(PoisonError::into_inner);
        f(guard.get_or_insert_with(State::default), &mut found)
    };
    verifier::report(found);
    r
}

/// A violation, ready to push.
pub(crate) fn v(rule: Rule, ddi: &'static str, message: impl Into<String>) -> Violation {
    Violation { rule, ddi, message: message.into() }
}

impl State {
    /// Registers a new live object at `addr`, replacing a remembered dead
    /// one there. Returns its id.
    pub fn insert(&mut self, addr: usize, tag: u32, body: Body) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let session = SESSION.load(std::sync::atomic::Ordering::Relaxed);
        self.objs.insert(addr, Obj { id, session, tag, freed_by: None, body });
        id
    }

    /// A zeroed NET_BUFFER_LIST record: a recycled one once enough wait.
    pub fn nbl_block(&mut self) -> Option<Block> {
        if self.nbl_cache.len() > QUARANTINE
            && let Some(b) = self.nbl_cache.pop_front()
        {
            // SAFETY: the block is a NET_BUFFER_LIST record no one owns.
            unsafe { b.ptr.0.write_bytes(0, b.layout.size()) };
            return Some(b);
        }
        Block::of::<NET_BUFFER_LIST>()
    }

    /// Takes back a freed NET_BUFFER_LIST record.
    pub fn recycle_nbl_block(&mut self, b: Block) {
        self.nbl_cache.push_back(b);
    }

    /// Marks the object dead, remembered for a while to catch double frees
    /// and uses after free.
    pub fn bury(&mut self, addr: usize, by: &'static str) {
        if let Some(obj) = self.objs.get_mut(&addr) {
            obj.freed_by = Some(by);
        }
        self.remember(addr);
    }

    /// Remembers a dead object's address (its `freed_by` already set).
    pub fn remember(&mut self, addr: usize) {
        self.graveyard.push_back(addr);
        if self.graveyard.len() > GRAVEYARD
            && let Some(old) = self.graveyard.pop_front()
            && self.objs.get(&old).is_some_and(|o| o.freed_by.is_some())
        {
            self.objs.remove(&old);
        }
    }

    /// The object's name for messages, or a description of the address.
    pub fn name(&self, addr: usize) -> String {
        match self.objs.get(&addr) {
            Some(o) => o.name(),
            None if addr == 0 => "NULL".to_owned(),
            None => format!("{addr:#x}"),
        }
    }

    /// Checks that `addr` is a live object of kind `kind`; reports why not.
    pub fn live(&self, addr: usize, kind: &'static str, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
        match self.objs.get(&addr) {
            Some(o) if o.body.kind() == kind && o.freed_by.is_none() => true,
            Some(o) if o.freed_by.is_some() => {
                let rule = if ddi.contains("Free") { Rule::DoubleFree } else { Rule::UseAfterFree };
                found.push(v(rule, ddi, format!("{} was already freed by {}", o.name(), o.freed_by.unwrap_or("?"))));
                false
            }
            Some(o) => {
                found.push(v(Rule::NotAnObject, ddi, format!("{} is a {}, not a {kind}", o.name(), o.body.kind())));
                false
            }
            None => {
                found.push(v(Rule::NotAnObject, ddi, format!("{addr:#x} is not a {kind} NDIS allocated")));
                false
            }
        }
    }

    pub fn nbl(&self, addr: usize) -> Option<&NblInfo> {
        match self.objs.get(&addr).map(|o| &o.body) {
            Some(Body::Nbl(n)) => Some(n),
            _ => None,
        }
    }

    pub fn nbl_mut(&mut self, addr: usize) -> Option<&mut NblInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::Nbl(n)) => Some(n),
            _ => None,
        }
    }

    pub fn nb_mut(&mut self, addr: usize) -> Option<&mut NbInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::Nb(n)) => Some(n),
            _ => None,
        }
    }

    pub fn nbl_pool_mut(&mut self, addr: usize) -> Option<&mut NblPoolInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::NblPool(p)) => Some(p),
            _ => None,
        }
    }

    pub fn nb_pool_mut(&mut self, addr: usize) -> Option<&mut NbPoolInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::NbPool(p)) => Some(p),
            _ => None,
        }
    }

    /// Adjusts a pool's outstanding count (NBL or NB pool); 0 is no pool.
    pub fn pool_count(&mut self, pool: usize, up: bool) {
        let count = match self.objs.get_mut(&pool).map(|o| &mut o.body) {
            Some(Body::NblPool(p)) => &mut p.outstanding,
            Some(Body::NbPool(p)) => &mut p.outstanding,
            _ => return,
        };
        if up {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
        }
    }

    pub fn tag_of(&self, pool: usize) -> u32 {
        self.objs.get(&pool).map_or(0, |o| o.tag)
    }

    /// Whether an NBL is injected and not yet completed; reports it if so.
    pub fn owned_by_stack(&self, nbl: usize, ddi: &'static str, found: &mut Vec<Violation>) -> bool {
        let injected = self.nbl(nbl).is_some_and(|n| n.injected.is_some());
        if injected {
            found.push(v(
                Rule::NetBufferListOwnedByStack,
                ddi,
                format!("{} is injected and its completion has not run", self.name(nbl)),
            ));
        }
        injected
    }
}

// ---- reading and checking NET_BUFFERs and MDL chains ----

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

/// Describes the first difference between two shapes, naming objects.
pub(crate) fn shape_difference(st: &State, was: &[NbShape], now: &[NbShape]) -> Option<String> {
    if was.len() != now.len() {
        return Some(format!("it had {} NET_BUFFERs and now has {}", was.len(), now.len()));
    }
    for (i, (a, b)) in was.iter().zip(now).enumerate() {
        if a.nb != b.nb {
            return Some(format!("NET_BUFFER {i} was {} and is now {}", st.name(a.nb), st.name(b.nb)));
        }
        let nb = st.name(a.nb);
        if a.mdls != b.mdls || a.mdl_chain != b.mdl_chain {
            return Some(format!(
                "{nb}'s MDL chain was [{}] and is now [{}]",
                a.mdls.iter().map(|m| st.name(m.0)).collect::<Vec<_>>().join(", "),
                b.mdls.iter().map(|m| st.name(m.0)).collect::<Vec<_>>().join(", ")
            ));
        }
        let fields = [
            ("DataOffset", a.data_offset, b.data_offset),
            ("DataLength", a.data_length, b.data_length),
            ("CurrentMdlOffset", a.current_mdl_offset, b.current_mdl_offset),
        ];
        for (name, x, y) in fields {
            if x != y {
                return Some(format!("{nb}'s {name} was {x} and is now {y}"));
            }
        }
        if a.current_mdl != b.current_mdl {
            return Some(format!(
                "{nb}'s CurrentMdl was {} and is now {}",
                st.name(a.current_mdl),
                st.name(b.current_mdl)
            ));
        }
    }
    None
}

// ---- leaks ----

/// One object allocated and not freed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// `nbl#3`, `pool#1`, …
    pub object: String,
    /// The pool it came from, if any (`pool#1`).
    pub pool: Option<String>,
    /// The pool tag, as four characters.
    pub tag: String,
}

/// What a session allocated and did not free, by pool and tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeakReport {
    /// The leaked objects, oldest first.
    pub leaks: Vec<Leak>,
}

impl LeakReport {
    /// Whether nothing leaked.
    pub fn is_empty(&self) -> bool {
        self.leaks.is_empty()
    }

    /// How many objects leaked.
    pub fn len(&self) -> usize {
        self.leaks.len()
    }
}

impl std::fmt::Display for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.leaks.is_empty() {
            return f.write_str("no leaks");
        }
        let mut by: std::collections::BTreeMap<(String, String), Vec<&str>> = Default::default();
        for l in &self.leaks {
            by.entry((l.pool.clone().unwrap_or_else(|| "(no pool)".into()), l.tag.clone()))
                .or_default()
                .push(&l.object);
        }
        writeln!(f, "{} objects leaked:", self.leaks.len())?;
        for ((pool, tag), objs) in by {
            writeln!(f, "  {pool} tag '{tag}': {}", objs.join(", "))?;
        }
        Ok(())
    }
}

/// A pool tag as its four characters (stored little-endian, as C's
/// multi-character constants `'tseT'` read back as "Test").
pub(crate) fn tag_text(tag: u32) -> String {
    tag.to_le_bytes().iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }).collect()
}

pub(crate) fn leaks(session: u64) -> LeakReport {
    with(|st, _| {
        let mut items: Vec<(&u64, Leak)> = st
            .objs
            .values()
            .filter(|o| o.freed_by.is_none() && o.session == session)
            // Parts of another object (a preallocated NB, MDLs NDIS made for
            // data, clones or retreats) go with it: the owner is the leak.
            .filter(|o| !matches!(o.body, Body::Nb(NbInfo { owner: Some(_), .. })))
            .filter(|o| !matches!(o.body, Body::Mdl(MdlInfo { by_caller: false, .. })))
            .map(|o| {
                let pool = match &o.body {
                    Body::Nbl(n) => Some(n.pool),
                    Body::Nb(n) => Some(n.pool),
                    _ => None,
                }
                .filter(|p| *p != 0);
                (&o.id, Leak { object: o.name(), pool: pool.map(|p| st.name(p)), tag: tag_text(o.tag) })
            })
            .collect();
        items.sort_by_key(|(id, _)| **id);
        LeakReport { leaks: items.into_iter().map(|(_, l)| l).collect() }
    })
}
