//! Tests on the real PneumoniaMNIST in the shared data folder.

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use repair_data::{
    load_pneumonia, DataError, Dataset, Manifest, Split, SplitConfig, SplitPart, SplitRule,
};

fn corpus() -> repair_data::Corpus {
    load_pneumonia(&data_root::data_root().join("pneumonia")).unwrap()
}

#[test]
fn the_official_parts_have_the_medmnist_counts() {
    let c = corpus();
    let counts = |p: &str| c.part_view(p).unwrap().class_counts();
    assert_eq!(counts("train"), vec![1_214, 3_494]);
    assert_eq!(counts("val"), vec![135, 389]);
    assert_eq!(counts("test"), vec![234, 390]);
    assert!(Manifest::builtin("pneumonia")
        .unwrap()
        .check(&data_root::data_root().join("pneumonia"), true)
        .is_ok());
}

#[test]
fn the_study_rule_pools_and_stratifies() {
    let c = corpus();
    let split = Split::make(&c, &SplitConfig::study("pneumonia", 43)).unwrap();
    // 5,856 pooled: test floor(585.6) = 585; repair floor(0.05 × 5,271) = 263;
    // val floor(0.2 × 5,008) = 1,001; train 4,007.
    let sizes: Vec<usize> = SplitPart::ALL
        .iter()
        .map(|&p| split.indices(p).len())
        .collect();
    assert_eq!(sizes, vec![4_007, 1_001, 263, 585]);
    // Stratified: each split keeps the 1,583 : 4,273 class ratio (27.0 % normal).
    for part in [SplitPart::Test, SplitPart::Repair] {
        let counts = split.view(&c, part).class_counts();
        let share = counts[0] as f64 / (counts[0] + counts[1]) as f64;
        assert!(
            (share - 1_583.0 / 5_856.0).abs() < 0.005,
            "{part:?}: {counts:?}"
        );
    }
    // Test draws from all three official parts.
    let from = |name: &str| {
        let r = c.part(name).unwrap().range.clone();
        split.test.iter().filter(|i| r.contains(i)).count()
    };
    assert!(from("train") > 0 && from("val") > 0 && from("test") > 0);
}

#[test]
fn the_official_rule_keeps_official_val_and_test() {
    let c = corpus();
    let config = SplitConfig::study("pneumonia", 1).with_rule(SplitRule::Official);
    let split = Split::make(&c, &config).unwrap();
    assert_eq!(
        split.val,
        c.part("val").unwrap().range.clone().collect::<Vec<_>>()
    );
    assert_eq!(
        split.test,
        c.part("test").unwrap().range.clone().collect::<Vec<_>>()
    );
    assert_eq!(split.repair.len(), 235); // floor(0.05 × 4,708)
    assert_eq!(split.train.len(), 4_708 - 235);
}

#[test]
fn ratios_outside_the_unit_interval_are_refused() {
    let c = corpus();
    for bad in [0.0, 1.0, -0.1, f64::NAN] {
        let mut config = SplitConfig::study("pneumonia", 1);
        config.repair_ratio = bad;
        let err = Split::make(&c, &config).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BadRatio {
                    name: "repair_ratio",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn the_by_track_rule_needs_tracks() {
    let c = corpus();
    let config = SplitConfig::study("pneumonia", 1).with_rule(SplitRule::ByTrack);
    let err = Split::make(&c, &config).unwrap_err().to_string();
    assert!(err.contains("needs track ids"), "{err}");
}
