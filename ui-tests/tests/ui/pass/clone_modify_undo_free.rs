// The right way: clone, modify, undo one change, let Drop undo the rest and free.
use ui_tests::*;

fn main() {
    let session = ndis_sim::Session::collecting();
    {
        let pool: NblPool<NoContext, _> = NblPool::new(&owner(), NblPoolOptions::new(TAG).with_net_buffer()).unwrap();
        let mut bytes = [0u8; 32];
        let mut mdl = Mdl::new(&owner(), &mut bytes).unwrap();
        let mut chain = MdlChain::new(&mut mdl);
        let parent = pool.allocate_over(&mut chain, 8, 24, NoContext).unwrap();
        let mut clone = parent.clone_nbl::<Ndis>().unwrap();
        clone.modify(|mut c| {
            let kept = c.retreat(8).unwrap();
            let undone = c.advance(4).unwrap();
            c.undo(undone).unwrap();
            let _ = kept;
        });
    }
    assert!(session.reports().is_empty());
    assert!(session.leaks().is_empty());
}
