//! The object model: pools, NBLs, NBs, MDLs, contexts, references, clones
//! and injections, their states and the transitions between them.
//!
//! The objects themselves are the real records of ndis-sys, allocated here
//! and handed out by pointer, exactly as NDIS hands them out; the registry
//! ([`State`]) lives beside them, keyed by address. One mutex guards the
//! registry; the records are read and written through raw pointers while it
//! is held. The model knows nothing of rules: a transition assumes its
//! arguments were checked (by the verifier) and only changes state.

pub(crate) mod block;
pub(crate) mod callout;
pub(crate) mod clone;
pub(crate) mod context;
pub(crate) mod injection;
pub mod irql;
pub(crate) mod lent;
pub(crate) mod mdl;
pub(crate) mod nb;
pub(crate) mod nbl;
pub(crate) mod objects;
pub(crate) mod pool;
pub(crate) mod records;
pub(crate) mod retreat;

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) use block::{Block, Raw};
pub(crate) use objects::*;

/// The current session's number; objects are stamped with it.
pub(crate) static SESSION: AtomicU64 = AtomicU64::new(0);

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

/// The registry: every object a DDI made, by address.
pub(crate) struct State {
    pub objs: HashMap<usize, Obj, BuildHasherDefault<AddrHasher>>,
    next_id: u64,
    graveyard: VecDeque<usize>,
    /// Freed NET_BUFFER_LIST records, oldest first, for reuse.
    pub(crate) nbl_cache: VecDeque<Block>,
}

static STATE: Mutex<State> = Mutex::new(State {
    objs: HashMap::with_hasher(BuildHasherDefault::new()),
    next_id: 0,
    graveyard: VecDeque::new(),
    nbl_cache: VecDeque::new(),
});

/// Locks the registry.
pub(crate) fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// Registers a new live object at `addr`, replacing a remembered dead
    /// one there. Returns its id.
    pub fn insert(&mut self, addr: usize, tag: u32, body: Body) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let obj = Obj { id, session: SESSION.load(Ordering::Relaxed), tag, freed_by: None, body };
        // A dead object remembered at this address is replaced in place.
        match self.objs.entry(addr) {
            std::collections::hash_map::Entry::Occupied(mut e) => *e.get_mut() = obj,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(obj);
            }
        }
        id
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
    pub fn name(&self, addr: usize) -> Name {
        match self.objs.get(&addr) {
            Some(o) => o.name(),
            None if addr == 0 => Name::Null,
            None => Name::Addr(addr),
        }
    }

    /// The NBL's bookkeeping, if `addr` is an NBL (alive or dead).
    pub fn nbl(&self, addr: usize) -> Option<&NblInfo> {
        match self.objs.get(&addr).map(|o| &o.body) {
            Some(Body::Nbl(n)) => Some(n),
            _ => None,
        }
    }

    /// As [`State::nbl`], mutably.
    pub fn nbl_mut(&mut self, addr: usize) -> Option<&mut NblInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::Nbl(n)) => Some(n),
            _ => None,
        }
    }

    /// The NB's bookkeeping, if `addr` is an NB.
    pub fn nb_mut(&mut self, addr: usize) -> Option<&mut NbInfo> {
        match self.objs.get_mut(&addr).map(|o| &mut o.body) {
            Some(Body::Nb(n)) => Some(n),
            _ => None,
        }
    }

    /// The NBL pool's parameters, if `addr` is an NBL pool.
    pub fn nbl_pool(&self, addr: usize) -> Option<&NblPoolInfo> {
        match self.objs.get(&addr).map(|o| &o.body) {
            Some(Body::NblPool(p)) => Some(p),
            _ => None,
        }
    }

    /// The NB pool's parameters, if `addr` is an NB pool.
    pub fn nb_pool(&self, addr: usize) -> Option<&NbPoolInfo> {
        match self.objs.get(&addr).map(|o| &o.body) {
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

    /// The tag of a pool (0 for none).
    pub fn tag_of(&self, pool: usize) -> u32 {
        self.objs.get(&pool).map_or(0, |o| o.tag)
    }
}

/// A pool tag as its four characters (stored little-endian, as C's
/// multi-character constants `'tseT'` read back as "Test").
pub(crate) fn tag_text(tag: u32) -> String {
    tag.to_le_bytes().iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }).collect()
}

/// Runs `f` on the registry (for transitions no rule checks).
pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(&mut lock())
}
