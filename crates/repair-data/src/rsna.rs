//! RSNA Pneumonia Detection (Kaggle, stage 2) in its official layout, the study's second
//! dataset (the study's `dataset/rsna_small/prepare.py`):
//!
//! ```text
//! stage_2_train_labels.csv     patientId,x,y,width,height,Target (one row per box)
//! stage_2_train_images/<patientId>.dcm
//! ```
//!
//! What we follow and where we differ:
//! * A patient with several rows (one per box) is positive if **any** row has
//!   `Target = 1`. The study's code keeps the last row; in the official file all rows of
//!   a patient agree, so both give the same labels.
//! * Patients come in the order of their first row; each is one image (its DICOM).
//! * Pixels are decoded with dicom-rs (`dicom-pixeldata`: native, RLE and JPEG baseline
//!   / lossless transfer syntaxes, the official files are JPEG baseline), Modality LUT
//!   applied. As in the study, values already within 0..=255 are kept and anything else
//!   is rescaled linearly from its own min..max to 0..255. `MONOCHROME1` (white = 0) is
//!   inverted so that every image reads as `MONOCHROME2`.
//! * Images are resized (bilinear, the aspect ratio is not kept: RSNA is square) to the
//!   requested side, the study's 160 × 160.
//! * DICOM files without a CSV row are ignored (the test images live elsewhere); a CSV
//!   patient without a DICOM file is an error naming both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_pixeldata::PixelDecoder;
use rayon::prelude::*;

use crate::corpus::{Corpus, Part};
use crate::dataset::{ImageSet, ImageShape};
use crate::error::{DataError, Result};
use crate::preprocess::resize_pixels;

/// Classes: 0 = no pneumonia, 1 = pneumonia (lung opacity).
pub const RSNA_CLASSES: usize = 2;

/// The official label file, relative to the RSNA folder.
pub const RSNA_LABELS: &str = "stage_2_train_labels.csv";

/// The official image folder, relative to the RSNA folder.
pub const RSNA_IMAGES: &str = "stage_2_train_images";

/// One patient: its id and label (1 if any of its rows says `Target = 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsnaPatient {
    /// `patientId`, also the DICOM file stem.
    pub id: String,
    /// 0 or 1.
    pub label: u8,
    /// 1-based line of its first row in the CSV, for messages.
    pub line: u64,
}

/// Reads `stage_2_train_labels.csv`: columns found by name (`patientId`, `Target`);
/// a missing column, an empty id or a `Target` other than 0/1 is an error naming the
/// file and line.
pub fn read_rsna_labels(path: &Path) -> Result<Vec<RsnaPatient>> {
    let csv_err = |line: u64, problem: String| DataError::Csv {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        other => csv_err(1, format!("{other:?}")),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| csv_err(1, format!("unreadable header: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| csv_err(1, format!("missing column `{name}`")))
    };
    let (id_col, target_col) = (column("patientId")?, column("Target")?);
    let mut patients: Vec<RsnaPatient> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, record) in reader.records().enumerate() {
        let line = k as u64 + 2;
        let record = record.map_err(|e| csv_err(line, e.to_string()))?;
        let field = |c: usize| record.get(c).map(str::trim).unwrap_or("");
        let id = field(id_col);
        if id.is_empty() {
            return Err(csv_err(line, "empty patientId".into()));
        }
        // The id names the image file `<id>.dcm`: it may not be a path.
        if !repair_core::is_plain_name(id) {
            return Err(csv_err(
                line,
                format!("patientId `{id}` is not a plain name (letters, digits, `-`, `_`, `.`)"),
            ));
        }
        let label = match field(target_col) {
            "0" => 0,
            "1" => 1,
            other => {
                return Err(csv_err(
                    line,
                    format!("Target `{other}` of patient {id} is neither 0 nor 1"),
                ))
            }
        };
        match seen.get(id) {
            Some(&at) => patients[at].label = patients[at].label.max(label),
            None => {
                seen.insert(id.to_string(), patients.len());
                patients.push(RsnaPatient {
                    id: id.to_string(),
                    label,
                    line,
                });
            }
        }
    }
    if patients.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(patients)
}

/// Decodes the first frame of a grey DICOM image into `u8` (see the module notes for
/// the value rule) at its own size: (pixels, rows, columns).
///
/// dicom-rs 0.8's JPEG adapter panics on some damaged pixel data (found by the
/// property test in `tests/rsna_dicom.rs`); such a panic is caught and returned as an
/// error naming the file, so one bad image of thousands cannot abort an import.
pub fn read_dicom_grey(path: &Path) -> Result<(Vec<u8>, usize, usize)> {
    std::panic::catch_unwind(|| decode_dicom_grey(path)).unwrap_or_else(|_| {
        Err(DataError::invalid(
            path,
            "the DICOM decoder failed on this file (damaged pixel data?)",
        ))
    })
}

fn decode_dicom_grey(path: &Path) -> Result<(Vec<u8>, usize, usize)> {
    let invalid = |problem: String| DataError::invalid(path, problem);
    let obj = dicom_object::open_file(path).map_err(|e| match std::fs::metadata(path) {
        Err(io) => DataError::io(path, io),
        Ok(_) => invalid(format!("not a readable DICOM file: {e}")),
    })?;
    if obj.element_opt(tags::PIXEL_DATA).ok().flatten().is_none() {
        return Err(invalid(
            "no Pixel Data element (7FE0,0010): not an image".into(),
        ));
    }
    let decoded = obj
        .decode_pixel_data()
        .map_err(|e| invalid(format!("cannot decode the pixel data: {e}")))?;
    if decoded.samples_per_pixel() != 1 {
        return Err(invalid(format!(
            "{} samples per pixel: not a grey image",
            decoded.samples_per_pixel()
        )));
    }
    let (rows, columns) = (decoded.rows() as usize, decoded.columns() as usize);
    let values: Vec<f32> = decoded
        .to_vec_frame(0)
        .map_err(|e| invalid(format!("cannot convert the pixel data: {e}")))?;
    if values.len() != rows * columns || values.is_empty() {
        return Err(invalid(format!(
            "{} pixel values for {rows} × {columns}",
            values.len()
        )));
    }
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let scale = |v: f32| {
        if min >= 0.0 && max <= 255.0 {
            v
        } else if max > min {
            (v - min) * 255.0 / (max - min)
        } else {
            0.0
        }
    };
    let inverted = matches!(
        decoded.photometric_interpretation(),
        dicom_pixeldata::PhotometricInterpretation::Monochrome1
    );
    let pixels = values
        .iter()
        .map(|&v| {
            let grey = scale(v).round().clamp(0.0, 255.0) as u8;
            if inverted {
                255 - grey
            } else {
                grey
            }
        })
        .collect();
    Ok((pixels, rows, columns))
}

/// Loads the official layout under `root` as a corpus `rsna` with one part `train`
/// (every labelled patient; the study's split pools it), grey images resized to
/// `side × side`. Images are decoded in parallel; a failure is returned.
pub fn load_rsna_official(root: &Path, side: usize) -> Result<Corpus> {
    load_rsna_official_with(root, side, &repair_core::NoProgress)
}

/// [`load_rsna_official`], telling `progress` of one stage with a step per patient,
/// advanced after each image is decoded (from any thread): 26,684 DICOM files take
/// minutes, and a caller can show how far it is.
pub fn load_rsna_official_with(
    root: &Path,
    side: usize,
    progress: &dyn repair_core::Progress,
) -> Result<Corpus> {
    if side == 0 {
        return Err(DataError::invalid(root, "image side 0"));
    }
    let labels_path = root.join(RSNA_LABELS);
    let patients = read_rsna_labels(&labels_path)?;
    let images_dir = root.join(RSNA_IMAGES);
    let dicom = |p: &RsnaPatient| -> PathBuf { images_dir.join(format!("{}.dcm", p.id)) };
    if let Some(p) = patients.iter().find(|p| !dicom(p).is_file()) {
        return Err(DataError::Csv {
            path: labels_path,
            line: p.line,
            problem: format!("patient {} has no image {}", p.id, dicom(p).display()),
        });
    }
    let shape = ImageShape::new(1, side, side);
    // Each patient's resized image goes straight to its place in the one buffer.
    let mut pixels = vec![0u8; patients.len() * shape.len()];
    progress.begin("DICOM files", patients.len() as u64);
    pixels
        .par_chunks_mut(shape.len())
        .zip(&patients)
        .try_for_each(|(out, p)| -> Result<()> {
            let (image, rows, columns) = read_dicom_grey(&dicom(p))?;
            out.copy_from_slice(&resize_pixels(
                &image,
                ImageShape::new(1, rows, columns),
                side,
                side,
            ));
            progress.advance(1, None);
            Ok(())
        })?;
    progress.end();
    let labels: Vec<u8> = patients.iter().map(|p| p.label).collect();
    let n = labels.len();
    let images = ImageSet::new(pixels, labels, shape, RSNA_CLASSES)
        .expect("one resized image and a 0/1 label per patient");
    let parts = vec![Part {
        name: "train".into(),
        range: 0..n,
    }];
    Ok(Corpus::new("rsna", images, parts, None))
}
