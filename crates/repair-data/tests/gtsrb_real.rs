//! Tests on the complete real GTSRB in the shared data folder.

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use std::collections::HashSet;
use std::sync::OnceLock;

use repair_data::{
    load_gtsrb, load_gtsrb_official, read_gt_csv, read_ppm, Corpus, DataError, Dataset, Manifest,
    Preprocess, Split, SplitConfig, SplitPart, SplitRule,
};

fn gtsrb() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| load_gtsrb(&data_root::data_root().join("gtsrb")).unwrap())
}

#[test]
fn the_packed_set_has_the_official_size_and_per_class_counts() {
    let corpus = gtsrb();
    let manifest = Manifest::builtin("gtsrb").unwrap();
    let train = corpus.part_view("train").unwrap();
    let test = corpus.part_view("test").unwrap();
    assert_eq!((train.len(), test.len()), (39_209, 12_630));
    let expected =
        |part: &str| -> Vec<usize> { manifest.classes.iter().map(|c| c.counts[part]).collect() };
    assert_eq!(train.class_counts(), expected("train"));
    assert_eq!(test.class_counts(), expected("test"));
    assert_eq!(train.class_counts()[27], 240, "Pedestrians");
    // 1,307 physical signs (tracks) in the training set.
    let groups = corpus.groups().unwrap();
    let tracks: HashSet<u32> = groups[..39_209].iter().copied().collect();
    assert_eq!(tracks.len(), 1_307);
}

#[test]
fn the_study_split_has_the_papers_sizes_and_is_a_partition() {
    let corpus = gtsrb();
    let split = Split::make(corpus, &SplitConfig::study("gtsrb", 42)).unwrap();
    assert_eq!(split.repair.len(), 11_762); // floor(0.3 × 39,209)
    assert_eq!(split.val.len(), 5_489); // floor(0.2 × 27,447)
    assert_eq!(split.train.len(), 21_958);
    assert_eq!(split.test.len(), 12_630);
    let mut all: Vec<usize> = SplitPart::ALL
        .iter()
        .flat_map(|&p| split.indices(p).to_vec())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..51_839).collect::<Vec<_>>(),
        "disjoint and covering"
    );
    assert!(
        split.test.iter().all(|&i| i >= 39_209),
        "test is the official test set"
    );
}

#[test]
fn the_same_seed_gives_the_same_split_and_another_seed_another() {
    let corpus = gtsrb();
    let a = Split::make(corpus, &SplitConfig::study("gtsrb", 1024)).unwrap();
    let b = Split::make(corpus, &SplitConfig::study("gtsrb", 1024)).unwrap();
    let c = Split::make(corpus, &SplitConfig::study("gtsrb", 2048)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.repair, c.repair);
    assert_ne!(a.val, c.val);
    assert_eq!(a.repair.len(), c.repair.len());
}

#[test]
fn the_by_track_split_never_puts_one_sign_in_two_splits() {
    let corpus = gtsrb();
    let config = SplitConfig::study("gtsrb", 7).with_rule(SplitRule::ByTrack);
    let split = Split::make(corpus, &config).unwrap();
    let groups = corpus.groups().unwrap();
    let mut owner = std::collections::HashMap::new();
    for part in [SplitPart::Train, SplitPart::Val, SplitPart::Repair] {
        for &i in split.indices(part) {
            let previous = owner.insert(groups[i], part);
            assert!(
                previous.is_none() || previous == Some(part),
                "track {} in two splits",
                groups[i]
            );
        }
    }
    // Whole tracks of ~30 frames: sizes land near the study's, not exactly on them.
    let near = |found: usize, target: f64| (found as f64 - target).abs() / target < 0.05;
    assert!(
        near(split.repair.len(), 11_762.0),
        "repair {}",
        split.repair.len()
    );
    assert!(near(split.val.len(), 5_489.0), "val {}", split.val.len());
    assert_eq!(
        split.train.len() + split.val.len() + split.repair.len(),
        39_209
    );
    // Every class keeps images in train and in repair.
    for part in [SplitPart::Train, SplitPart::Repair] {
        let counts = split.view(corpus, part).class_counts();
        assert!(counts.iter().all(|&n| n > 0), "{part:?}: {counts:?}");
    }
}

#[test]
fn a_saved_split_reloads_identically_and_refuses_other_data() {
    let corpus = gtsrb();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.json");
    let split = Split::make(corpus, &SplitConfig::study("gtsrb", 5)).unwrap();
    split.save(&path).unwrap();
    assert_eq!(Split::load(&path, corpus).unwrap(), split);

    let pneumonia = repair_data::load_pneumonia(&data_root::data_root().join("pneumonia")).unwrap();
    let err = Split::load(&path, &pneumonia).unwrap_err();
    assert!(matches!(err, DataError::SplitMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("split.json") && msg.contains("made for gtsrb"),
        "{msg}"
    );

    // A split file whose repair or test part is empty (edited, or made by another
    // tool) is refused, naming the file and the part.
    for part in ["repair", "test"] {
        let mut emptied: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        emptied[part] = serde_json::json!([]);
        let edited = dir.path().join(format!("no-{part}.json"));
        std::fs::write(&edited, emptied.to_string()).unwrap();
        let msg = Split::load(&edited, corpus).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("no-{part}.json"))
                && msg.contains(&format!("the {part} part of the split is empty")),
            "{msg}"
        );
    }
}

#[test]
fn every_sample_ppm_decodes_to_the_packed_bytes() {
    let root = data_root::data_root().join("gtsrb");
    let corpus = gtsrb();
    let meta = read_gt_csv(&root.join("train_meta.csv")).unwrap();
    let index_of: std::collections::HashMap<&str, usize> = meta
        .iter()
        .enumerate()
        .map(|(i, r)| (r.filename.as_str(), i))
        .collect();
    let sample = root.join("sample_ppm/GTSRB");
    let mut checked = 0;
    for class in 0..43 {
        let folder = sample.join(format!("Final_Training/Images/{class:05}"));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ppm") {
                let name = format!("{class:05}/{}", path.file_name().unwrap().to_str().unwrap());
                let img = read_ppm(&path).unwrap();
                assert_eq!((img.width, img.height), (32, 32));
                assert_eq!(
                    img.pixels,
                    corpus.images().image(index_of[name.as_str()]),
                    "{name}"
                );
                checked += 1;
            }
        }
    }
    for n in 0..30 {
        let img = read_ppm(&sample.join(format!("Final_Test/Images/{n:05}.ppm"))).unwrap();
        assert_eq!(img.pixels, corpus.images().image(39_209 + n), "test {n}");
        checked += 1;
    }
    assert_eq!(checked, 116);
}

#[test]
fn the_official_layout_loader_reads_the_sample_like_the_packed_files() {
    let root = data_root::data_root().join("gtsrb");
    let packed = gtsrb();
    let sample = load_gtsrb_official(&root.join("sample_ppm"), &Preprocess::none()).unwrap();
    assert_eq!(sample.part("train").unwrap().range.len(), 86);
    assert_eq!(sample.part("test").unwrap().range.len(), 30);
    // Test images are the first 30 of the official test set, in order.
    for n in 0..30 {
        let i = 86 + n;
        assert_eq!(sample.images().image(i), packed.images().image(39_209 + n));
        assert_eq!(sample.images().label(i), packed.images().label(39_209 + n));
    }
    // Two tracks per class: first and last.
    let train_counts = sample.part_view("train").unwrap().class_counts();
    assert_eq!(train_counts, vec![2; 43]);

    let study = load_gtsrb_official(&root.join("sample_ppm"), &Preprocess::study(24)).unwrap();
    assert_eq!(
        study.images().image_shape(),
        repair_data::ImageShape::new(3, 24, 24)
    );
    assert_eq!(study.images().raw_labels(), sample.images().raw_labels());
}

#[test]
fn the_manifest_check_passes_on_the_real_folder() {
    let manifest = Manifest::builtin("gtsrb").unwrap();
    let report = manifest.check(&data_root::data_root().join("gtsrb"), true);
    assert!(report.is_ok(), "{report}");
    let table = report.to_string();
    assert!(
        table.contains("Pedestrians") && table.contains("240/240") && table.ends_with("match"),
        "{table}"
    );
}

#[test]
fn the_manifest_check_fails_clearly_on_a_truncated_copy() {
    let root = data_root::data_root().join("gtsrb");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let truncated = dir.path().join("test_32x32_rgb.u8");
    std::fs::remove_file(&truncated).unwrap();
    let bytes = std::fs::read(root.join("test_32x32_rgb.u8")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();

    let report = Manifest::builtin("gtsrb").unwrap().check(dir.path(), false);
    assert!(!report.is_ok());
    let problems = report.problems().join("\n");
    assert!(
        problems.contains("test_32x32_rgb.u8: 38798360 bytes, expected 38799360"),
        "{problems}"
    );
    assert!(
        problems.contains("not a multiple of the image size"),
        "{problems}"
    );
}
