//! The NDIS version features: the highest enabled selects its version,
//! whose constants, layouts and DDIs the crate then has — each version
//! exactly as the kit's gates declare it.

use ndis_sys::*;

/// Every version feature, ascending, with its minor number.
const FEATURES: [(bool, u32); 16] = [
    (cfg!(feature = "ndis630"), 30),
    (cfg!(feature = "ndis640"), 40),
    (cfg!(feature = "ndis650"), 50),
    (cfg!(feature = "ndis651"), 51),
    (cfg!(feature = "ndis660"), 60),
    (cfg!(feature = "ndis670"), 70),
    (cfg!(feature = "ndis680"), 80),
    (cfg!(feature = "ndis681"), 81),
    (cfg!(feature = "ndis682"), 82),
    (cfg!(feature = "ndis683"), 83),
    (cfg!(feature = "ndis684"), 84),
    (cfg!(feature = "ndis685"), 85),
    (cfg!(feature = "ndis686"), 86),
    (cfg!(feature = "ndis687"), 87),
    (cfg!(feature = "ndis688"), 88),
    (cfg!(feature = "ndis689"), 89),
];

/// The version the enabled features select (the highest), as its minor
/// number; 30 (the default) when none is.
fn selected() -> u32 {
    FEATURES.iter().rev().find(|(on, _)| *on).map_or(30, |(_, minor)| *minor)
}

#[test]
fn the_highest_feature_selects_its_own_version() {
    let selected = selected();
    // What a filter or protocol driver puts in its characteristics: the
    // version it registers as.
    assert_eq!(NDIS_FILTER_MAJOR_VERSION, 6);
    assert_eq!(NDIS_FILTER_MINOR_VERSION, selected);
    assert_eq!(NDIS_PROTOCOL_MINOR_VERSION, selected);
    // The kit's own ladder macros, as the headers saw them.
    assert_eq!(NDIS_SUPPORT_NDIS630, 1);
    assert_eq!(NDIS_SUPPORT_NDIS640, u32::from(selected >= 40));
    assert_eq!(NDIS_SUPPORT_NDIS650, u32::from(selected >= 50));
    assert_eq!(NDIS_SUPPORT_NDIS680, u32::from(selected >= 80));
    assert_eq!(NDIS_SUPPORT_NDIS684, u32::from(selected >= 84));
    assert_eq!(NDIS_SUPPORT_NDIS689, u32::from(selected >= 89));
}

#[test]
fn every_feature_enables_the_one_below_it() {
    // So that "version ≥ v" is `feature = "ndisv"`, as the bindings' cfgs
    // have it.
    let enabled = FEATURES.map(|(on, _)| on);
    if let Some(highest) = enabled.iter().rposition(|&e| e) {
        assert!(enabled[..=highest].iter().all(|&e| e), "{enabled:?}");
    }
}

/// A DDI or record is declared from the version that adds it on: the
/// versions between those bindgen runs for (6.85, 6.87) included.
#[test]
fn ddis_follow_the_selected_version() {
    #[cfg(feature = "ndis680")]
    let _ = NdisFSynchronousOidRequest;
    #[cfg(feature = "ndis685")]
    let _ = NdisRegisterPoll;
    #[cfg(feature = "ndis687")]
    let _ = NdisMonitorReceiveDrop;
    #[cfg(feature = "ndis683")]
    let _: NDIS_UDP_SEGMENTATION_OFFLOAD_NET_BUFFER_LIST_INFO;
    // The pool parameters grow at 6.87 (revision 2).
    let revision_2 = cfg!(feature = "ndis687");
    let size = if revision_2 { 20 } else { 16 };
    assert_eq!(size_of::<NET_BUFFER_LIST_POOL_PARAMETERS>(), size);
}
