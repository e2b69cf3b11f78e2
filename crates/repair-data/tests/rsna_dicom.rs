//! The RSNA loader on DICOM files this test writes itself with dicom-rs (native 8- and
//! 16-bit, JPEG baseline as in the official files, MONOCHROME1), and its errors.
#![cfg(feature = "rsna")]

use std::path::Path;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_pixeldata::Transcode;
use repair_data::{
    load_rsna_official, load_rsna_official_with, read_dicom_grey, read_rsna_labels, Dataset,
    Manifest, Split, SplitConfig, RSNA_IMAGES, RSNA_LABELS,
};

const W: usize = 40;
const H: usize = 30;

/// The kinds of image the test writes, by patient number modulo 4.
#[derive(Clone, Copy)]
enum Kind {
    /// 8-bit, uniformly 100.
    Uniform8,
    /// 16-bit, left half 0, right half 4000 (rescaled to 0 / 255).
    Halves16,
    /// 8-bit uniformly 100, JPEG baseline (the official files' transfer syntax).
    Jpeg,
    /// 8-bit MONOCHROME1, uniformly 55 (reads as 200).
    Inverted,
}

fn write_dicom(path: &Path, kind: Kind, with_pixels: bool) {
    let (bits, photometric) = match kind {
        Kind::Halves16 => (16u16, "MONOCHROME2"),
        Kind::Inverted => (8, "MONOCHROME1"),
        _ => (8, "MONOCHROME2"),
    };
    let mut obj = InMemDicomObject::new_empty();
    let put = |obj: &mut InMemDicomObject, tag, vr, value: PrimitiveValue| {
        obj.put(DataElement::new(tag, vr, value));
    };
    put(
        &mut obj,
        tags::SOP_CLASS_UID,
        VR::UI,
        uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE.into(),
    );
    put(
        &mut obj,
        tags::SOP_INSTANCE_UID,
        VR::UI,
        "1.2.826.0.1.3680043.99.1".into(),
    );
    put(&mut obj, tags::ROWS, VR::US, PrimitiveValue::from(H as u16));
    put(
        &mut obj,
        tags::COLUMNS,
        VR::US,
        PrimitiveValue::from(W as u16),
    );
    put(
        &mut obj,
        tags::SAMPLES_PER_PIXEL,
        VR::US,
        PrimitiveValue::from(1u16),
    );
    put(
        &mut obj,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        photometric.into(),
    );
    put(
        &mut obj,
        tags::BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(bits),
    );
    put(
        &mut obj,
        tags::BITS_STORED,
        VR::US,
        PrimitiveValue::from(bits),
    );
    put(
        &mut obj,
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(bits - 1),
    );
    put(
        &mut obj,
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    if with_pixels {
        let pixels = match kind {
            Kind::Halves16 => PrimitiveValue::U16(
                (0..W * H)
                    .map(|i| if i % W < W / 2 { 0 } else { 4000 })
                    .collect(),
            ),
            Kind::Inverted => PrimitiveValue::from(vec![55u8; W * H]),
            _ => PrimitiveValue::from(vec![100u8; W * H]),
        };
        let vr = if bits == 8 { VR::OB } else { VR::OW };
        put(&mut obj, tags::PIXEL_DATA, vr, pixels);
    }
    let mut file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE)
                .media_storage_sop_instance_uid("1.2.826.0.1.3680043.99.1"),
        )
        .unwrap();
    if matches!(kind, Kind::Jpeg) {
        file.transcode(&dicom_transfer_syntax_registry::entries::JPEG_BASELINE.erased())
            .unwrap();
        assert_eq!(file.meta().transfer_syntax(), uids::JPEG_BASELINE8_BIT);
    }
    file.write_to_file(path).unwrap();
}

fn kind(p: usize) -> Kind {
    [Kind::Uniform8, Kind::Halves16, Kind::Jpeg, Kind::Inverted][p % 4]
}

/// 20 patients; every 5th positive, with two box rows (one saying 0, one 1) for
/// patient 0 as in the official file's multi-box patients.
fn write_rsna(root: &Path) -> Vec<u8> {
    let images = root.join(RSNA_IMAGES);
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("patientId,x,y,width,height,Target\n");
    let mut labels = Vec::new();
    for p in 0..20 {
        let id = format!("p{p:02}-rsna");
        write_dicom(&images.join(format!("{id}.dcm")), kind(p), true);
        let label = u8::from(p % 5 == 0);
        if p == 0 {
            csv.push_str(&format!("{id},,,,,0\n"));
        }
        if label == 1 {
            csv.push_str(&format!("{id},264.0,152.0,213.0,379.0,1\n"));
        } else {
            csv.push_str(&format!("{id},,,,,0\n"));
        }
        labels.push(label);
    }
    std::fs::write(root.join(RSNA_LABELS), csv).unwrap();
    labels
}

#[test]
fn an_rsna_folder_loads_as_grey_images_with_patient_labels() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write_rsna(dir.path());
    let corpus = load_rsna_official(dir.path(), 16).unwrap();
    let images = corpus.images();
    assert_eq!(corpus.name(), "rsna");
    assert_eq!(images.len(), 20);
    assert_eq!(
        images.image_shape(),
        repair_data::ImageShape::new(1, 16, 16)
    );
    assert_eq!(images.raw_labels(), labels);
    assert_eq!(images.raw_labels()[0], 1, "positive if any row says so");
    for p in 0..20 {
        let img = images.image(p);
        match kind(p) {
            Kind::Uniform8 => assert!(img.iter().all(|&v| v == 100), "patient {p}"),
            Kind::Jpeg => assert!(img.iter().all(|&v| v.abs_diff(100) <= 2), "patient {p}"),
            Kind::Inverted => assert!(img.iter().all(|&v| v == 200), "patient {p}"),
            Kind::Halves16 => {
                for row in img.chunks(16) {
                    assert_eq!((row[0], row[15]), (0, 255), "patient {p}");
                }
            }
        }
    }
    // The study's RSNA split: 10 % stratified test, 5 % of the rest repair — which is
    // no image of 20, so the split is refused naming the empty part.
    let e = Split::make(&corpus, &SplitConfig::study("rsna", 43))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the repair part of the split is empty (20 images in all)"),
        "{e}"
    );
}

/// A progress observer that records what it is told (from any thread).
#[derive(Default)]
struct Recorder {
    stages: std::sync::Mutex<Vec<(String, u64)>>,
    steps: std::sync::Mutex<u64>,
    ended: std::sync::Mutex<bool>,
}

impl repair_core::Progress for Recorder {
    fn begin(&self, what: &str, total: u64) {
        self.stages.lock().unwrap().push((what.to_string(), total));
    }
    fn advance(&self, steps: u64, _: Option<&str>) {
        *self.steps.lock().unwrap() += steps;
    }
    fn end(&self) {
        *self.ended.lock().unwrap() = true;
    }
}

#[test]
fn the_import_reports_each_decoded_image_with_the_total() {
    let dir = tempfile::tempdir().unwrap();
    write_rsna(dir.path());
    let seen = Recorder::default();
    let corpus = load_rsna_official_with(dir.path(), 16, &seen).unwrap();
    let stages = seen.stages.into_inner().unwrap();
    assert_eq!(stages, vec![("DICOM files".to_string(), 20)]);
    let steps = seen.steps.into_inner().unwrap();
    assert_eq!(steps, corpus.images().len() as u64, "one step per image");
    assert!(seen.ended.into_inner().unwrap());
}

#[test]
fn an_imported_rsna_folder_is_packed_once_and_read_back_by_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    write_rsna(dir.path());
    let corpus = load_rsna_official(dir.path(), 160).unwrap();
    let manifest = Manifest::builtin("rsna").unwrap();
    let packed = dir.path().join("packed");
    manifest.write_packed(&corpus, &packed).unwrap();
    let back = manifest.load(&packed).unwrap();
    assert_eq!(back.checksum(), corpus.checksum());
    // 20 patients are not the official 26,684: the check says so, class by class.
    let report = manifest.check(&packed, false);
    assert!(!report.is_ok());
    assert!(
        report
            .problems()
            .iter()
            .any(|p| p.contains("expected [20672]")),
        "{report}"
    );
    // A corpus of another size does not fit the manifest.
    let small = load_rsna_official(dir.path(), 16).unwrap();
    let e = manifest
        .write_packed(&small, &packed)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1×16×16") || e.contains("16"), "{e}");
}

#[test]
fn broken_rsna_inputs_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    write_rsna(dir.path());
    let labels_path = dir.path().join(RSNA_LABELS);
    let text = std::fs::read_to_string(&labels_path).unwrap();

    // A patient in the CSV without a DICOM file.
    std::fs::write(&labels_path, format!("{text}ghost-patient,,,,,0\n")).unwrap();
    let e = load_rsna_official(dir.path(), 16).unwrap_err().to_string();
    assert!(
        e.contains(RSNA_LABELS)
            && e.contains("line 23")
            && e.contains("ghost-patient has no image"),
        "{e}"
    );

    // A Target that is not 0/1, and a missing column.
    std::fs::write(&labels_path, text.replacen(",0\n", ",2\n", 1)).unwrap();
    let e = read_rsna_labels(&labels_path).unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("Target `2`"), "{e}");
    std::fs::write(&labels_path, text.replace("Target", "Label")).unwrap();
    let e = read_rsna_labels(&labels_path).unwrap_err().to_string();
    assert!(e.contains("missing column `Target`"), "{e}");
    // A patient id that would name a file outside the image folder.
    std::fs::write(&labels_path, format!("{text}../../secret,,,,,0\n")).unwrap();
    let e = read_rsna_labels(&labels_path).unwrap_err().to_string();
    assert!(
        e.contains("line 23") && e.contains("patientId `../../secret` is not a plain name"),
        "{e}"
    );
    std::fs::write(&labels_path, &text).unwrap();

    // A DICOM file without its pixel data element, and one that is not DICOM at all.
    let broken = dir.path().join(RSNA_IMAGES).join("p03-rsna.dcm");
    write_dicom(&broken, Kind::Uniform8, false);
    let e = load_rsna_official(dir.path(), 16).unwrap_err().to_string();
    assert!(
        e.contains("p03-rsna.dcm") && e.contains("no Pixel Data element"),
        "{e}"
    );
    std::fs::write(&broken, b"not a dicom file").unwrap();
    let e = read_dicom_grey(&broken).unwrap_err().to_string();
    assert!(
        e.contains("p03-rsna.dcm") && e.contains("not a readable DICOM file"),
        "{e}"
    );
}

#[path = "../../../fixtures/mutations.rs"]
mod mutations;

proptest::proptest! {
    #![proptest_config(mutations::config())]

    /// A damaged DICOM file (truncated, bit-flipped, bytes inserted
    /// or replaced) decodes or gives an error naming the file, never a panic.
    #[test]
    fn a_damaged_dicom_file_never_panics(m in mutations::mutations(), kind in 0..4usize) {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.dcm");
        write_dicom(&good, self::kind(kind), true);
        let path = dir.path().join("patient.dcm");
        std::fs::write(&path, mutations::apply(&std::fs::read(&good).unwrap(), &m)).unwrap();
        if let Err(e) = read_dicom_grey(&path) {
            mutations::names_file(&e.to_string(), &path)?;
        }
    }
}
