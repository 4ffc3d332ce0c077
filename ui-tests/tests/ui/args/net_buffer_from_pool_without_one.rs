// Misuse: NdisAllocateNetBufferAndNetBufferList from a pool made without
// fAllocateNetBuffer.
// Raw twin: ndis-sim tests/verifier.rs `wrong_pool_kind`.
use ui_tests::*;

fn main() {
    let pool: NblPool<Flow> = NblPool::new(&owner(), NblPoolOptions::new(TAG)).unwrap();
    let mut bytes = [0u8; 16];
    let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
    let mut chain = MdlChain::new(&mut mdl);
    let _nbl = pool.allocate_over(&mut chain, 0, 16, Flow { id: 1, bytes: 0 });
}
