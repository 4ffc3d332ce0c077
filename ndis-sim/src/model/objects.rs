//! What the registry knows about each object: its kind, where it came
//! from, and the state the verifier's rules read.

use std::fmt;

use super::block::{Block, Raw};

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
    /// The DDI that allocates NBLs of this origin.
    pub fn allocator(self) -> &'static str {
        match self {
            NblOrigin::Ndis => "NdisAllocateNetBufferList",
            NblOrigin::Fwps => "FwpsAllocateNetBufferAndNetBufferList0",
            NblOrigin::NdisClone => "NdisAllocateCloneNetBufferList",
            NblOrigin::FwpsClone => "FwpsAllocateCloneNetBufferList0",
            NblOrigin::Stack => "the stack",
        }
    }

    /// The DDI that frees NBLs of this origin.
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

/// The state of one NB of an NBL at a moment (a clone when it was made, a
/// lent NBL when it was lent).
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

/// What a clone DDI made, to check the clone is back to it when freed.
#[derive(Debug)]
pub(crate) struct CloneInfo {
    pub parent: Raw,
    pub shape: Vec<NbShape>,
    /// NBs and MDLs the clone DDI allocated for the clone.
    pub nbs: Vec<Raw>,
    pub mdls: Vec<Raw>,
}

/// An injection: the handle and the injection context it was made with.
#[derive(Debug)]
pub(crate) struct InjectionRecord {
    pub handle: usize,
    pub context: Raw,
}

/// What the stack knows of an NBL it lent to a driver.
#[derive(Debug)]
pub(crate) struct LentInfo {
    /// (DataOffset, DataLength) as lent: what the stack expects back.
    pub shape: (u32, u32),
    /// The driver's callback returned: the stack takes the NBL back at the
    /// last reference.
    pub returned: bool,
    /// The injection this packet came from, if any.
    pub came_from: Option<InjectionRecord>,
}

/// An NBL's bookkeeping.
#[derive(Debug)]
pub(crate) struct NblInfo {
    pub pool: usize,
    pub origin: NblOrigin,
    /// The record itself (its address is the NBL's; the pointer keeps the
    /// allocation's provenance for when it is freed).
    pub record: Raw,
    /// The NB allocated with the NBL (pools with `fAllocateNetBuffer`, FWPS).
    pub prealloc_nb: Option<Raw>,
    /// The context block made with the NBL (Size/Offset of the first context).
    pub base_context: Option<Block>,
    pub pushed: Vec<Pushed>,
    pub clone: Option<Box<CloneInfo>>,
    pub references: u32,
    pub injected: Option<InjectionRecord>,
    /// For NBLs the stack lent.
    pub lent: Option<Box<LentInfo>>,
}

/// An NB's bookkeeping.
#[derive(Debug)]
pub(crate) struct NbInfo {
    /// The NB pool, or the NBL pool for a preallocated NB, or 0.
    pub pool: usize,
    /// The NBL a preallocated NB belongs to.
    pub owner: Option<usize>,
    pub block: Block,
    /// The MDL (with its data) allocated with the NB (pools with `DataSize`,
    /// or a stack's packet).
    pub data: Option<Raw>,
    /// The MDLs chained after `data` when the stack lent a packet split
    /// across several (each with its piece of the data), freed with it.
    pub more_data: Vec<Raw>,
    /// MDLs a retreat put at the head of the chain: (MDL, made by the
    /// caller's handler).
    pub retreat_mdls: Vec<(Raw, bool)>,
}

/// An MDL's bookkeeping.
#[derive(Debug)]
pub(crate) struct MdlInfo {
    /// Allocated by `NdisAllocateMdl` (freed by `NdisFreeMdl`), or by
    /// NDIS itself for its own purposes.
    pub by_caller: bool,
    pub block: Block,
    /// The data NDIS allocated for the MDL to describe, freed with it.
    pub data: Option<Block>,
}

/// An NBL pool's parameters and count.
#[derive(Debug, Clone)]
pub(crate) struct NblPoolInfo {
    pub allocate_nb: bool,
    pub context_size: u16,
    pub data_size: u32,
    pub outstanding: usize,
}

/// An NB pool's parameters and count.
#[derive(Debug, Clone)]
pub(crate) struct NbPoolInfo {
    pub data_size: u32,
    pub outstanding: usize,
}

/// An object of one kind.
#[derive(Debug)]
pub(crate) enum Body {
    NblPool(NblPoolInfo),
    NbPool(NbPoolInfo),
    Nbl(NblInfo),
    Nb(NbInfo),
    Mdl(MdlInfo),
    InjectionHandle { pending: usize },
}

/// The kinds of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NblPool,
    NbPool,
    Nbl,
    Nb,
    Mdl,
    InjectionHandle,
}

impl Kind {
    /// The kind, as names and messages spell it.
    pub fn text(self) -> &'static str {
        match self {
            Kind::NblPool => "nbl-pool",
            Kind::NbPool => "nb-pool",
            Kind::Nbl => "nbl",
            Kind::Nb => "nb",
            Kind::Mdl => "mdl",
            Kind::InjectionHandle => "injection-handle",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl Body {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::NblPool(_) => Kind::NblPool,
            Body::NbPool(_) => Kind::NbPool,
            Body::Nbl(_) => Kind::Nbl,
            Body::Nb(_) => Kind::Nb,
            Body::Mdl(_) => Kind::Mdl,
            Body::InjectionHandle { .. } => Kind::InjectionHandle,
        }
    }
}

/// One registered object, alive or remembered dead.
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
    /// The object's name (`nbl#5`), formatted only when displayed.
    pub fn name(&self) -> Name {
        Name::Obj { kind: self.body.kind(), id: self.id }
    }
}

/// An object's name for reports and drawings: `nbl#5`, `NULL`, or an
/// address NDIS did not allocate. Holds the parts; formats when displayed,
/// so that naming costs nothing on paths where nothing is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name {
    Obj { kind: Kind, id: u64 },
    Null,
    Addr(usize),
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Obj { kind, id } => write!(f, "{kind}#{id}"),
            Name::Null => f.write_str("NULL"),
            Name::Addr(a) => write!(f, "{a:#x}"),
        }
    }
}
