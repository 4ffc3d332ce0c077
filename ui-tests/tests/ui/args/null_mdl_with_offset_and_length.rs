// Misuse: an NB with no MDL chain but a data offset and length.
// Raw twin: ndis-sim tests/verifier.rs `null_mdl_with_data`.
use ui_tests::*;

fn main() {
    let pool = NbPool::new(&owner(), TAG).unwrap();
    let _nb = pool.allocate_empty(4, 10);
}
