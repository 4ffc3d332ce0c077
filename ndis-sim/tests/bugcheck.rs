//! By default a violation stops the process, after printing the report, as
//! a bugcheck stops the machine. Run as a child process of this test.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;

const CHILD: &str = "NDIS_SIM_BUGCHECK_CHILD";

#[test]
fn a_violation_in_the_default_mode_stops_the_process_with_the_report() {
    if std::env::var_os(CHILD).is_some() {
        let _s = ndis_sim::Session::new();
        let pool = nbl_pool(false, 0, 0);
        unsafe {
            let nbl = NdisAllocateNetBufferList(pool, 0, 0);
            NdisFreeNetBufferList(nbl);
            NdisFreeNetBufferList(nbl);
        }
        unreachable!("the double free must have stopped the process");
    }
    if cfg!(miri) {
        return; // Miri runs no child processes; the collecting tests cover the report.
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_violation_in_the_default_mode_stops_the_process_with_the_report", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("NDIS verifier: DoubleFree in NdisFreeNetBufferList"), "{stderr}");
    assert!(!stderr.contains("must have stopped"), "{stderr}");
}
