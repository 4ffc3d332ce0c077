//! The IRQL each thread runs at, as the kernel keeps it per processor: a
//! thread starts at `PASSIVE_LEVEL`; the simulated stack runs classify
//! callouts and injection completions at `DISPATCH_LEVEL`; a test raises
//! and lowers it with [`raise`] (a guard) or [`at`] (a scope).
//!
//! The verifier reads it to report DDIs called above their documented
//! maximum IRQL and dispatch-level arguments that claim `DISPATCH_LEVEL`
//! when the thread is below it.

use std::cell::Cell;
use std::marker::PhantomData;

/// An interrupt request level (`KIRQL`).
pub type KIRQL = u8;
/// `PASSIVE_LEVEL`: threads, most of the DDIs' callers.
pub const PASSIVE_LEVEL: KIRQL = 0;
/// `APC_LEVEL`.
pub const APC_LEVEL: KIRQL = 1;
/// `DISPATCH_LEVEL`: DPCs, spin locks held, the network data path.
pub const DISPATCH_LEVEL: KIRQL = 2;
/// `HIGH_LEVEL`.
pub const HIGH_LEVEL: KIRQL = 15;

thread_local! {
    static CURRENT: Cell<KIRQL> = const { Cell::new(PASSIVE_LEVEL) };
}

/// This thread's IRQL.
pub fn current() -> KIRQL {
    CURRENT.with(Cell::get)
}

/// Raises this thread's IRQL to `level` until the guard is dropped (which
/// lowers it back), as `KeRaiseIrql` / `KeLowerIrql` do.
///
/// # Panics
///
/// When `level` is below the current IRQL: `KeRaiseIrql` bugchecks
/// (`IRQL_NOT_GREATER_OR_EQUAL`).
pub fn raise(level: KIRQL) -> IrqlGuard {
    let previous = current();
    assert!(level >= previous, "KeRaiseIrql to {level} from the higher IRQL {previous} (IRQL_NOT_GREATER_OR_EQUAL)");
    CURRENT.with(|c| c.set(level));
    IrqlGuard { previous, _thread: PhantomData }
}

/// Runs `f` with this thread's IRQL raised to `level`, then lowers it back.
///
/// # Panics
///
/// As [`raise`].
pub fn at<R>(level: KIRQL, f: impl FnOnce() -> R) -> R {
    let _guard = raise(level);
    f()
}

/// A raised IRQL; dropping it lowers the IRQL back to what it was. It
/// belongs to the thread that raised it (it is not `Send`). Leaking it
/// leaves the thread raised, as a driver that never calls `KeLowerIrql`.
#[must_use = "the IRQL is lowered back when the guard is dropped"]
#[derive(Debug)]
pub struct IrqlGuard {
    previous: KIRQL,
    _thread: PhantomData<*const ()>,
}

impl Drop for IrqlGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}
