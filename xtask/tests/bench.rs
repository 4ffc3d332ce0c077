//! The driver-side instruction split on the real bench: its calibration
//! passes (`driver_side` fails otherwise) and its figures are the driver's.

use std::process::Command;

#[test]
fn the_driver_side_split_passes_its_calibration_and_excludes_the_simulator() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        xtask::skip("valgrind is not installed (Debian: apt-get install valgrind)");
        return;
    }
    let root = xtask::workspace_root();
    let table = xtask::bench::driver_side(&root).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = table.measured.iter().map(|m| m.name.as_str()).collect();
    for expected in ["nbl", "inspect", "check-ddi", "check-callback"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for m in &table.measured {
        for (split, variant) in m.splits.iter().zip(m.variants) {
            assert!(split.driver > 0, "{} {variant}: no driver instructions", m.name);
            // On a driver path the driver's code is a small part of each
            // iteration; the simulator's DDIs are the rest.
            if m.kind == "path" {
                assert!(split.driver * 10 < split.total, "{} {variant}: {} of {}", m.name, split.driver, split.total);
            }
            assert_eq!(split.driver + split.simulator, split.total, "{} {variant}", m.name);
        }
    }
    assert!(table.report.contains("| nbl |") && table.report.contains("| inspect |"), "{}", table.report);
}
