//! `data fetch gtsrb` then `data import gtsrb`: a small archive in the official layout
//! (full-size PPMs, per-class CSVs, the separate test ground truth), fetched through
//! curl from `file://` URLs, packed with the study's preprocessing, and accepted by the
//! dataset check against the counts and sizes of what the archive holds.

use std::io::Write;
use std::path::Path;

use repair_data::{
    fetch_official, gtsrb_study_preprocess, import_gtsrb_official, load_gtsrb, read_ppm,
    sha256_file, Archive, Dataset, FileUrls, Manifest,
};

const HEADER: &str = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\r\n";

/// A binary PPM of `w × h` whose pixels depend on `seed`.
fn ppm(w: usize, h: usize, seed: u8) -> Vec<u8> {
    let mut bytes = format!("P6\n{w} {h}\n255\n").into_bytes();
    bytes.extend((0..w * h * 3).map(|k| (k as u8).wrapping_mul(7).wrapping_add(seed)));
    bytes
}

fn zip(path: &Path, files: &[(&str, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

/// A progress observer that records the stages and each step's status.
#[derive(Default)]
struct Recorder {
    stages: std::sync::Mutex<Vec<(String, u64)>>,
    steps: std::sync::Mutex<Vec<String>>,
}

impl repair_core::Progress for Recorder {
    fn begin(&self, what: &str, total: u64) {
        self.stages.lock().unwrap().push((what.to_string(), total));
    }
    fn advance(&self, _: u64, status: Option<&str>) {
        self.steps
            .lock()
            .unwrap()
            .push(status.unwrap_or("").to_string());
    }
}

#[test]
fn a_fetched_official_archive_imports_into_a_folder_that_the_check_accepts() {
    let src = tempfile::tempdir().unwrap();
    // Class 0: two frames of track 0; class 1: one frame. Test: classes 1 and 0.
    let train = src.path().join("GTSRB_Final_Training_Images.zip");
    let t0 = "GTSRB/Final_Training/Images/00000";
    let t1 = "GTSRB/Final_Training/Images/00001";
    zip(
        &train,
        &[
            (
                &format!("{t0}/GT-00000.csv"),
                format!("{HEADER}00000_00000.ppm;40;36;5;5;35;31;0\r\n00000_00001.ppm;40;36;5;5;35;31;0\r\n")
                    .into_bytes(),
            ),
            (&format!("{t0}/00000_00000.ppm"), ppm(40, 36, 1)),
            (&format!("{t0}/00000_00001.ppm"), ppm(40, 36, 2)),
            (
                &format!("{t1}/GT-00001.csv"),
                format!("{HEADER}00000_00000.ppm;33;33;5;5;28;28;1\r\n").into_bytes(),
            ),
            (&format!("{t1}/00000_00000.ppm"), ppm(33, 33, 3)),
        ],
    );
    let test = src.path().join("GTSRB_Final_Test_Images.zip");
    zip(
        &test,
        &[
            ("GTSRB/Final_Test/Images/00000.ppm", ppm(50, 45, 4)),
            ("GTSRB/Final_Test/Images/00001.ppm", ppm(31, 34, 5)),
        ],
    );
    let gt = src.path().join("GTSRB_Final_Test_GT.zip");
    let gt_csv = format!("{HEADER}00000.ppm;50;45;5;5;45;40;1\r\n00001.ppm;31;34;5;5;26;29;0\r\n");
    zip(&gt, &[("GT-final_test.csv", gt_csv.into_bytes())]);

    let mut manifest = Manifest::builtin("gtsrb").unwrap();
    manifest.archives = [&train, &test, &gt]
        .iter()
        .map(|p| Archive {
            url: format!("file://{}", p.display()),
            md5: None,
            sha256: None,
        })
        .collect();
    let official = tempfile::tempdir().unwrap();
    let seen = Recorder::default();
    fetch_official(&manifest, official.path(), &FileUrls, &seen).unwrap();
    assert_eq!(
        seen.stages.into_inner().unwrap(),
        vec![("fetch gtsrb".to_string(), 3)]
    );
    assert_eq!(
        seen.steps.into_inner().unwrap(),
        [
            "GTSRB_Final_Training_Images.zip",
            "GTSRB_Final_Test_Images.zip",
            "GTSRB_Final_Test_GT.zip"
        ]
    );

    let packed = tempfile::tempdir().unwrap();
    let corpus = import_gtsrb_official(
        &manifest,
        official.path(),
        packed.path(),
        &gtsrb_study_preprocess(),
    )
    .unwrap();
    assert_eq!(corpus.images().raw_labels(), &[0, 0, 1, 1, 0]);
    // Each image is the study's preprocessing of the official PPM.
    let first = read_ppm(
        &official
            .path()
            .join("GTSRB/Final_Training/Images/00000/00000_00000.ppm"),
    )
    .unwrap();
    let expected = gtsrb_study_preprocess().apply(first);
    assert_eq!((expected.height, expected.width), (32, 32));
    assert_eq!(
        &corpus.images().pixels()[..32 * 32 * 3],
        &expected.pixels[..]
    );

    // The manifest of this archive: its counts per part and class, and the sizes of
    // the packed files (images 32·32·3 bytes each, a label byte each).
    for part in &mut manifest.parts {
        part.count = if part.name == "train" { 3 } else { 2 };
    }
    for class in &mut manifest.classes {
        let counts: [usize; 2] = match class.id {
            0 => [2, 1],
            1 => [1, 1],
            _ => [0, 0],
        };
        class.counts = [
            ("train".to_string(), counts[0]),
            ("test".to_string(), counts[1]),
        ]
        .into_iter()
        .collect();
    }
    for file in &mut manifest.files {
        let path = packed.path().join(&file.name);
        file.bytes = match file.name.as_str() {
            "train_32x32_rgb.u8" => 3 * 3072,
            "test_32x32_rgb.u8" => 2 * 3072,
            "train_labels.u8" => 3,
            "test_labels.u8" => 2,
            _ => std::fs::metadata(&path).unwrap().len(),
        };
        file.sha256 = sha256_file(&path).unwrap();
    }
    let report = manifest.check(packed.path(), true);
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        std::fs::read(packed.path().join("train_labels.u8")).unwrap(),
        vec![0, 0, 1]
    );
    let meta = std::fs::read_to_string(packed.path().join("train_meta.csv")).unwrap();
    assert!(
        meta.contains("00001/00000_00000.ppm;33;33;5;5;28;28;1\n"),
        "{meta}"
    );

    // The packed folder loads as GTSRB, with the two frames of one track in one group.
    let loaded = load_gtsrb(packed.path()).unwrap();
    assert_eq!(loaded.images().pixels(), corpus.images().pixels());
    let groups = loaded.groups().unwrap();
    assert_eq!(groups[0], groups[1]);
    assert_ne!(groups[1], groups[2]);
    assert_eq!(loaded.images().len(), 5);
}
