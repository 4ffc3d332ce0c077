// Misuse: NdisAllocateNetBuffer over the caller's MDLs from an NB pool that
// carries its own data.
// Raw twin: ndis-sim tests/verifier.rs `wrong_pool_kind`.
use ui_tests::*;

fn main() {
    let pool = NbPool::with_data(&owner(), TAG, core::num::NonZeroU32::new(64).unwrap()).unwrap();
    let mut bytes = [0u8; 16];
    let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
    let mut chain = MdlChain::new(&mut mdl);
    let _nb = pool.allocate_over(&mut chain, 0, 16);
}
