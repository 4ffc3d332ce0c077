// Misuse: FwpsAllocateNetBufferAndNetBufferList0 over the caller's MDLs from
// a pool that preallocates data (DataSize), whose NET_BUFFER has its own.
// Raw twin: ndis-sim tests/verifier.rs `wrong_pool_kind`.
use core::num::NonZeroU32;
use ui_tests::*;

fn main() {
    let options = NblPoolOptions::new(TAG).with_data(NonZeroU32::new(64).unwrap());
    let pool: NblPool<Flow, _> = NblPool::new(&owner(), options).unwrap();
    let mut bytes = [0u8; 16];
    let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
    let mut chain = MdlChain::new(&mut mdl);
    let _nbl = pool.fwps_allocate_over(&mut chain, 0, 16, Flow { id: 1, bytes: 0 });
}
