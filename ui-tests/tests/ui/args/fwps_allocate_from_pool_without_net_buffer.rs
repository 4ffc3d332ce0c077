// Misuse: FwpsAllocateNetBufferAndNetBufferList0 from a pool made without
// fAllocateNetBuffer (the DDI initializes the pool's preallocated NET_BUFFER).
// Raw twin: ndis-sim tests/verifier.rs `wrong_pool_kind`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let _nbl = pool.fwps_allocate_empty(Flow { id: 1, bytes: 0 });
}
