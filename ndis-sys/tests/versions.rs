//! The NDIS version features: the highest enabled selects the newest
//! generated version at or below it, whose constants, layouts and DDIs the
//! crate then has.

use ndis_sys::*;

/// The generated version the enabled features select, as its minor number.
const SELECTED: u32 = if cfg!(feature = "ndis689") {
    89
} else if cfg!(feature = "ndis680") {
    80
} else if cfg!(feature = "ndis650") {
    50
} else {
    30
};

#[test]
fn the_highest_feature_selects_the_newest_generated_version_at_or_below_it() {
    // What a filter or protocol driver puts in its characteristics: the
    // version it registers as.
    assert_eq!(NDIS_FILTER_MAJOR_VERSION, 6);
    assert_eq!(NDIS_FILTER_MINOR_VERSION, SELECTED);
    assert_eq!(NDIS_PROTOCOL_MINOR_VERSION, SELECTED);
    // The kit's own ladder macros, as the headers saw them.
    assert_eq!(NDIS_SUPPORT_NDIS630, 1);
    assert_eq!(NDIS_SUPPORT_NDIS650, u32::from(SELECTED >= 50));
    assert_eq!(NDIS_SUPPORT_NDIS680, u32::from(SELECTED >= 80));
    assert_eq!(NDIS_SUPPORT_NDIS689, u32::from(SELECTED >= 89));
}

#[test]
fn every_feature_enables_the_one_below_it() {
    // So that a feature between two generated versions selects the lower.
    let enabled = [
        cfg!(feature = "ndis630"),
        cfg!(feature = "ndis640"),
        cfg!(feature = "ndis650"),
        cfg!(feature = "ndis651"),
        cfg!(feature = "ndis660"),
        cfg!(feature = "ndis670"),
        cfg!(feature = "ndis680"),
        cfg!(feature = "ndis681"),
        cfg!(feature = "ndis682"),
        cfg!(feature = "ndis683"),
        cfg!(feature = "ndis684"),
        cfg!(feature = "ndis685"),
        cfg!(feature = "ndis686"),
        cfg!(feature = "ndis687"),
        cfg!(feature = "ndis688"),
        cfg!(feature = "ndis689"),
    ];
    if let Some(highest) = enabled.iter().rposition(|&e| e) {
        assert!(enabled[..=highest].iter().all(|&e| e), "{enabled:?}");
    }
}

/// The DDIs added at a generated version are declared from that version on.
#[test]
fn ddis_follow_the_selected_version() {
    #[cfg(feature = "ndis680")]
    let _ = NdisFSynchronousOidRequest;
    // Of the generated versions, 6.89 is the first from 6.85 on.
    #[cfg(feature = "ndis689")]
    let _ = (NdisRegisterPoll, NdisMonitorReceiveDrop);
}
