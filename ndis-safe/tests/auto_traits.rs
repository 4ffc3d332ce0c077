//! Auto traits of the safe types: what may cross threads, what may be
//! copied. (`Undo` records must be used once; brands must not be Send-able
//! out of their scope by copying.)
#![allow(missing_docs, reason = "test")]

use ndis_safe::clone::{Changes, Fwps, Ndis, Undo};
use ndis_safe::{
    BorrowedNbl, FwpsNbl, Mdl, MdlChain, NbPool, Nbl, NblClone, NblPool, NetBuffer, NetBufferList, NetBufferOwned,
    NoContext, Pushed, Retreated,
};
use static_assertions::{assert_impl_all, assert_not_impl_any};

assert_impl_all!(NblPool: Send, Sync);
assert_impl_all!(NbPool: Send, Sync);
assert_impl_all!(Nbl<'static>: Send, Sync);
assert_impl_all!(FwpsNbl<'static>: Send, Sync);
assert_impl_all!(NblClone<'static, Ndis>: Send, Sync);
assert_impl_all!(NblClone<'static, Fwps>: Send, Sync);
assert_impl_all!(NetBufferOwned<'static>: Send, Sync);
assert_impl_all!(Mdl<'static>: Send);
assert_impl_all!(MdlChain<'static>: Send);
assert_impl_all!(NetBufferList: Sync);
assert_impl_all!(NetBuffer: Sync);

// Owners are not copies: one value, one free.
assert_not_impl_any!(Nbl<'static>: Clone, Copy);
assert_not_impl_any!(NblClone<'static, Ndis>: Clone, Copy);
assert_not_impl_any!(NetBufferOwned<'static>: Clone, Copy);
assert_not_impl_any!(Mdl<'static>: Clone, Copy);
assert_not_impl_any!(NblPool: Clone, Copy);
// A lent NBL stays on the thread the stack lent it on.
assert_not_impl_any!(BorrowedNbl<'static>: Send, Sync, Clone, Copy);
// Guards and records are used once, in place.
assert_not_impl_any!(Retreated<'static>: Send, Sync, Clone, Copy);
assert_not_impl_any!(Pushed<'static, Mark>: Send, Sync, Clone, Copy);
assert_not_impl_any!(Undo<'static>: Clone, Copy);
assert_not_impl_any!(Changes<'static, 'static, 'static>: Send, Sync, Clone, Copy);
// Views are only ever behind references.
assert_not_impl_any!(NetBufferList: Clone, Copy, Send);
assert_not_impl_any!(NetBuffer: Clone, Copy, Send);

#[derive(ndis_safe::PushedContext)]
#[repr(C)]
struct Mark(u64);

#[test]
fn no_context_is_zero_sized() {
    assert_eq!(size_of::<NoContext>(), 0);
}

#[test]
fn a_clone_is_its_pointer_its_pool_counter_and_its_change_log() {
    use ndis_safe::clone::{Fwps, Log, NblClone, Unmodifiable};
    let word = size_of::<usize>();
    assert_eq!(size_of::<Log>(), 72);
    assert_eq!(size_of::<NblClone<'static, Fwps>>(), 2 * word + size_of::<Log>());
    assert_eq!(size_of::<NblClone<'static, Fwps, NoContext, Unmodifiable>>(), 2 * word);
}
