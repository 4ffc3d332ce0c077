// Misuse: an NBL FwpsAllocateNetBufferAndNetBufferList0 made, freed as an
// NDIS one (NdisFreeNetBufferList).
// Raw twin: ndis-sim tests/verifier.rs `wrong_free_function`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
    let nbl: Nbl<'_, Flow> = pool.fwps_allocate_empty(Flow { id: 1, bytes: 0 }).unwrap();
    drop(nbl);
}
