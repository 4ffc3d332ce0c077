// Misuse: freeing an MDL (and its buffer) while an NBL describes it.
// Raw twin: ndis-sim tests/verifier.rs `use_after_free`.
use ui_tests::*;

fn main() {
    let pool: NblPool<NoContext, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
    let mut bytes = [0u8; 16];
    let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
    let mut chain = MdlChain::new(&mut mdl);
    let nbl = pool.allocate_over(&mut chain, 0, 16, NoContext).unwrap();
    drop(mdl);
    drop(nbl);
}
