//! The classify decision, as a value the library writes into
//! `FWPS_CLASSIFY_OUT0`.
//!
//! The engine says, in `classifyOut->rights`, whether the callout may set
//! the action (`FWPS_RIGHT_ACTION_WRITE`). A classify gets an [`Action`]:
//! [`Action::Writable`] when the right is set, [`Action::ReadOnly`] when a
//! higher-priority filter cleared it (a hard permit or block). Only a
//! [`Writable`] has `permit`, `block`, `absorb` and `continue_`; a
//! [`ReadOnly`] can only leave the action as it is or veto a hard permit
//! ([`ReadOnly::veto`]: `FWP_ACTION_BLOCK` with the right left clear, the
//! one change the documentation allows a callout without the right). So a
//! decision written without the right does not compile.
//!
//! What is written, as the documentation asks:
//!
//! | decision | `actionType` | `rights` | `flags` |
//! |---|---|---|---|
//! | [`Decision::Permit`] | `FWP_ACTION_PERMIT` | right cleared if the filter has `FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT` (a hard permit), else kept (soft) | |
//! | [`Decision::HardPermit`] | `FWP_ACTION_PERMIT` | right cleared | |
//! | [`Decision::Block`] | `FWP_ACTION_BLOCK` | right cleared (a block is final) | |
//! | [`Decision::Absorb`] | `FWP_ACTION_BLOCK` | right cleared | `FWPS_CLASSIFY_OUT_FLAG_ABSORB` |
//! | [`Decision::Continue`] | `FWP_ACTION_CONTINUE` | kept | |
//! | veto (read-only) | `FWP_ACTION_BLOCK` | stays clear | |

use core::marker::PhantomData;

use fwps_sys::{
    FWP_ACTION_BLOCK, FWP_ACTION_CONTINUE, FWP_ACTION_PERMIT, FWPS_CLASSIFY_OUT_FLAG_ABSORB, FWPS_CLASSIFY_OUT0,
    FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT, FWPS_RIGHT_ACTION_WRITE,
};

/// A decision a callout with the write right may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Permit; hard (right cleared) when the filter asks for it with
    /// `FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT`, soft otherwise.
    Permit,
    /// Permit, and clear the right: lower sublayers can only veto.
    HardPermit,
    /// Block (final: the right is cleared).
    Block,
    /// Block silently: the packet is absorbed (the callout took it, e.g.
    /// to inject a modified copy), no audit event.
    Absorb,
    /// No decision: the next filter decides.
    Continue,
}

/// The classify's `FWPS_CLASSIFY_OUT0`, split by whether the callout holds
/// the write right.
pub enum Action<'c> {
    /// `FWPS_RIGHT_ACTION_WRITE` is set: any decision.
    Writable(Writable<'c>),
    /// The right is clear: leave the action, or veto.
    ReadOnly(ReadOnly<'c>),
}

/// The classify out of a callout that holds the write right.
///
/// # Invariants
///
/// `out` is the engine's classify out for the call `'c`, with
/// `FWPS_RIGHT_ACTION_WRITE` set; `filter_flags` are the filter's flags.
pub struct Writable<'c> {
    pub(crate) out: &'c mut FWPS_CLASSIFY_OUT0,
    pub(crate) filter_flags: u16,
    pub(crate) filter_id: u64,
}

/// The classify out of a callout without the write right.
pub struct ReadOnly<'c> {
    out: &'c mut FWPS_CLASSIFY_OUT0,
}

/// Proof that a classify's action was handled (decided, left, vetoed or
/// pended). Its lifetime is the classify call's own, invariant, so it can
/// only come from that call's [`Action`].
pub struct Decided<'c> {
    _c: PhantomData<fn(&'c ()) -> &'c ()>,
}

impl<'c> Decided<'c> {
    #[inline]
    pub(crate) fn new() -> Decided<'c> {
        Decided { _c: PhantomData }
    }
}

impl<'c> Action<'c> {
    /// Splits the engine's classify out by its rights.
    #[inline]
    pub(crate) fn new(out: &'c mut FWPS_CLASSIFY_OUT0, filter_flags: u16, filter_id: u64) -> Action<'c> {
        if out.rights & FWPS_RIGHT_ACTION_WRITE != 0 {
            Action::Writable(Writable { out, filter_flags, filter_id })
        } else {
            Action::ReadOnly(ReadOnly { out })
        }
    }

    /// Takes `decision` if the right is held; without it, leaves the action
    /// as it is and says so (`Err(Unchanged)`), or — for a block — vetoes.
    #[inline]
    pub fn decide(self, decision: Decision) -> Result<Decided<'c>, Unchanged<'c>> {
        match self {
            Action::Writable(w) => Ok(w.decide(decision)),
            Action::ReadOnly(r) if matches!(decision, Decision::Block | Decision::Absorb) => Ok(r.veto()),
            Action::ReadOnly(r) => Err(Unchanged { decided: r.leave() }),
        }
    }

    /// The action the classify out holds now (`FWP_ACTION_*`).
    #[inline]
    pub fn current(&self) -> u32 {
        match self {
            Action::Writable(w) => w.out.actionType,
            Action::ReadOnly(r) => r.out.actionType,
        }
    }
}

/// A decision not written for want of the write right; the action was left
/// as a higher-priority filter set it. Holds the [`Decided`] to return.
pub struct Unchanged<'c> {
    /// The classify's proof of handling: the action stands.
    pub decided: Decided<'c>,
}

impl<'c> Writable<'c> {
    /// Writes `decision` (see the module's table).
    #[inline]
    pub fn decide(self, decision: Decision) -> Decided<'c> {
        let out = self.out;
        match decision {
            Decision::Permit => {
                out.actionType = FWP_ACTION_PERMIT;
                if u32::from(self.filter_flags) & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT != 0 {
                    out.rights &= !FWPS_RIGHT_ACTION_WRITE;
                }
            }
            Decision::HardPermit => {
                out.actionType = FWP_ACTION_PERMIT;
                out.rights &= !FWPS_RIGHT_ACTION_WRITE;
            }
            Decision::Block => {
                out.actionType = FWP_ACTION_BLOCK;
                out.rights &= !FWPS_RIGHT_ACTION_WRITE;
            }
            Decision::Absorb => {
                out.actionType = FWP_ACTION_BLOCK;
                out.flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
                out.rights &= !FWPS_RIGHT_ACTION_WRITE;
            }
            Decision::Continue => out.actionType = FWP_ACTION_CONTINUE,
        }
        Decided::new()
    }

    /// [`Decision::Permit`].
    #[inline]
    pub fn permit(self) -> Decided<'c> {
        self.decide(Decision::Permit)
    }

    /// [`Decision::Block`].
    #[inline]
    pub fn block(self) -> Decided<'c> {
        self.decide(Decision::Block)
    }

    /// [`Decision::Absorb`].
    #[inline]
    pub fn absorb(self) -> Decided<'c> {
        self.decide(Decision::Absorb)
    }

    /// [`Decision::Continue`].
    #[inline]
    pub fn continue_(self) -> Decided<'c> {
        self.decide(Decision::Continue)
    }
}

impl<'c> ReadOnly<'c> {
    /// Leaves the action as the higher-priority filter set it.
    #[inline]
    pub fn leave(self) -> Decided<'c> {
        Decided::new()
    }

    /// Vetoes a hard permit: `FWP_ACTION_BLOCK`, the right left clear.
    #[inline]
    pub fn veto(self) -> Decided<'c> {
        self.out.actionType = FWP_ACTION_BLOCK;
        Decided::new()
    }
}
