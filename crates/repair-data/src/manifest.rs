//! Dataset manifests (`datasets/<name>.toml`): classes with names and official counts
//! per part, image shape, the packed files with sizes and SHA-256, and the official
//! archives. [`Manifest::check`] verifies a data folder against one.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corpus::Corpus;
use crate::dataset::{Dataset, ImageShape};
use crate::error::{DataError, Result};

/// One official part in packed form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestPart {
    /// `train`, `val` or `test`.
    pub name: String,
    /// Image file name.
    pub images: String,
    /// Label file name.
    pub labels: String,
    /// Official number of images.
    pub count: usize,
}

/// A file of the packed layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the data folder.
    pub name: String,
    /// Exact size.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// An official archive to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// Where it is published.
    pub url: String,
    /// Published MD5, when known.
    #[serde(default)]
    pub md5: Option<String>,
    /// SHA-256, when known.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// A class: id, human name, official count per part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// Label value.
    pub id: usize,
    /// Human-readable name (GTSRB: the sign).
    pub name: String,
    /// Official number of images per part name.
    pub counts: BTreeMap<String, usize>,
}

/// Everything we know about a dataset before reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Short name (`gtsrb`).
    pub name: String,
    /// Full title.
    pub title: String,
    /// Number of classes.
    pub num_classes: usize,
    /// Channels, height, width of the packed images.
    pub image_shape: [usize; 3],
    /// Official parts, in corpus order.
    pub parts: Vec<ManifestPart>,
    /// Packed files with sizes and checksums.
    pub files: Vec<ManifestFile>,
    /// Official archives.
    #[serde(default)]
    pub archives: Vec<Archive>,
    /// Classes, by id.
    pub classes: Vec<ClassInfo>,
}

/// The manifests shipped in `datasets/`, compiled in so tools work from any folder.
const BUILTIN: [(&str, &str); 3] = [
    ("gtsrb", include_str!("../../../datasets/gtsrb.toml")),
    (
        "pneumonia",
        include_str!("../../../datasets/pneumonia.toml"),
    ),
    ("rsna", include_str!("../../../datasets/rsna.toml")),
];

impl Manifest {
    /// Names of the built-in manifests.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// The built-in manifest `name` (from `datasets/<name>.toml`).
    pub fn builtin(name: &str) -> Result<Manifest> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let known: Vec<_> = Self::builtin_names().collect();
            DataError::invalid(
                format!("datasets/{name}.toml"),
                format!("unknown dataset `{name}` (known: {})", known.join(", ")),
            )
        })?;
        Self::parse(&PathBuf::from(format!("datasets/{name}.toml")), text)
    }

    /// Parses and validates manifest text; `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
        let m: Manifest =
            toml::from_str(text).map_err(|e| DataError::invalid(path, e.to_string()))?;
        if m.classes.len() != m.num_classes || m.classes.iter().enumerate().any(|(i, c)| c.id != i)
        {
            return Err(DataError::invalid(
                path,
                format!("needs classes with ids 0..{} in order", m.num_classes),
            ));
        }
        for part in &m.parts {
            let sum: usize = m
                .classes
                .iter()
                .map(|c| c.counts.get(&part.name).copied().unwrap_or(0))
                .sum();
            if sum != part.count {
                return Err(DataError::invalid(
                    path,
                    format!(
                        "class counts of part `{}` sum to {sum}, not {}",
                        part.name, part.count
                    ),
                ));
            }
        }
        Ok(m)
    }

    /// Image shape as an [`ImageShape`].
    pub fn shape(&self) -> ImageShape {
        let [c, h, w] = self.image_shape;
        ImageShape::new(c, h, w)
    }

    /// Loads the packed data in `dir` with this dataset's loader.
    pub fn load(&self, dir: &Path) -> Result<Corpus> {
        match self.name.as_str() {
            "gtsrb" => crate::gtsrb::load_gtsrb(dir),
            "pneumonia" => crate::pneumonia::load_pneumonia(dir),
            _ => {
                let parts: Vec<_> = self
                    .parts
                    .iter()
                    .map(|p| crate::packed::PackedPart {
                        name: p.name.clone(),
                        images: dir.join(&p.images),
                        labels: dir.join(&p.labels),
                    })
                    .collect();
                let (images, parts) =
                    crate::packed::read_packed(&parts, self.shape(), self.num_classes)?;
                Ok(Corpus::new(&self.name, images, parts, None))
            }
        }
    }

    /// Writes `corpus` into `dir` in this manifest's packed layout (one image and one
    /// label file per part, each atomically), so that [`Manifest::load`] reads it back:
    /// how a dataset decoded from its official files (RSNA's DICOMs) is stored once.
    pub fn write_packed(&self, corpus: &Corpus, dir: &Path) -> Result<()> {
        let images = corpus.images();
        if images.image_shape() != self.shape() || images.num_classes() != self.num_classes {
            return Err(DataError::invalid(
                dir,
                format!(
                    "{} holds {} images of {} classes, datasets/{}.toml wants {} and {}",
                    corpus.name(),
                    images.image_shape(),
                    images.num_classes(),
                    self.name,
                    self.shape(),
                    self.num_classes
                ),
            ));
        }
        for part in &self.parts {
            let range = corpus
                .part(&part.name)
                .ok_or_else(|| {
                    DataError::invalid(
                        dir,
                        format!("{} has no part `{}`", corpus.name(), part.name),
                    )
                })?
                .range
                .clone();
            let bytes = images.image_shape().len();
            let pixels = &images.pixels()[range.start * bytes..range.end * bytes];
            crate::atomic::write_atomic(&dir.join(&part.images), pixels)?;
            crate::atomic::write_atomic(&dir.join(&part.labels), &images.raw_labels()[range])?;
        }
        Ok(())
    }

    /// Verifies `dir`: every file's size (and, with `hashes`, SHA-256), then loads the
    /// data and compares image shape and per-class counts of every part.
    pub fn check(&self, dir: &Path, hashes: bool) -> CheckReport {
        let files = self
            .files
            .par_iter()
            .map(|f| check_file(&dir.join(&f.name), f, hashes))
            .collect();
        let mut report = CheckReport {
            dataset: self.name.clone(),
            dir: dir.to_path_buf(),
            files,
            part_names: self.parts.iter().map(|p| p.name.clone()).collect(),
            classes: Vec::new(),
            load_error: None,
        };
        match self.load(dir) {
            Err(e) => report.load_error = Some(e.to_string()),
            Ok(corpus) => {
                if corpus.images().image_shape() != self.shape() {
                    report.load_error = Some(format!(
                        "images are {}, the manifest says {}",
                        corpus.images().image_shape(),
                        self.shape()
                    ));
                }
                let found: Vec<Vec<usize>> = self
                    .parts
                    .iter()
                    .map(|p| {
                        corpus
                            .part_view(&p.name)
                            .map_or_else(|| vec![0; self.num_classes], |v| v.class_counts())
                    })
                    .collect();
                report.classes = self
                    .classes
                    .iter()
                    .map(|c| ClassRow {
                        id: c.id,
                        name: c.name.clone(),
                        expected: self
                            .parts
                            .iter()
                            .map(|p| c.counts.get(&p.name).copied().unwrap_or(0))
                            .collect(),
                        found: found.iter().map(|f| f[c.id]).collect(),
                    })
                    .collect();
            }
        }
        report
    }
}

/// Result of checking one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// File name.
    pub name: String,
    /// `None` when fine, else what is wrong.
    pub problem: Option<String>,
}

/// Expected and found counts of one class.
#[derive(Debug, Clone)]
pub struct ClassRow {
    /// Class id.
    pub id: usize,
    /// Class name.
    pub name: String,
    /// Official count per part (manifest order).
    pub expected: Vec<usize>,
    /// Count found per part.
    pub found: Vec<usize>,
}

/// What [`Manifest::check`] found; `Display` prints the per-class table.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Dataset name.
    pub dataset: String,
    /// Folder checked.
    pub dir: PathBuf,
    /// One entry per manifest file.
    pub files: Vec<FileCheck>,
    /// Part names, column order of the table.
    pub part_names: Vec<String>,
    /// Per-class rows (empty when the data could not be loaded).
    pub classes: Vec<ClassRow>,
    /// Why the data could not be loaded or does not fit the manifest.
    pub load_error: Option<String>,
}

impl CheckReport {
    /// True when every file and every count matches.
    pub fn is_ok(&self) -> bool {
        self.load_error.is_none()
            && self.files.iter().all(|f| f.problem.is_none())
            && !self.classes.is_empty()
            && self.classes.iter().all(|c| c.expected == c.found)
    }

    /// The problems, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .files
            .iter()
            .filter_map(|f| f.problem.as_ref().map(|p| format!("{}: {p}", f.name)))
            .collect();
        out.extend(self.load_error.iter().cloned());
        for c in self.classes.iter().filter(|c| c.expected != c.found) {
            out.push(format!(
                "class {} ({}): expected {:?} images per part, found {:?}",
                c.id, c.name, c.expected, c.found
            ));
        }
        out
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} in {}", self.dataset, self.dir.display())?;
        if !self.classes.is_empty() {
            let width = self
                .classes
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            write!(f, "{:>5}  {:<width$}", "class", "name")?;
            for p in &self.part_names {
                write!(f, "  {:>13}", format!("{p} found/exp"))?;
            }
            writeln!(f)?;
            for c in &self.classes {
                write!(f, "{:>5}  {:<width$}", c.id, c.name)?;
                for (found, exp) in c.found.iter().zip(&c.expected) {
                    let mark = if found == exp { ' ' } else { '!' };
                    write!(f, "  {:>13}", format!("{found}/{exp}{mark}"))?;
                }
                writeln!(f)?;
            }
            write!(f, "{:>5}  {:<width$}", "all", "")?;
            for k in 0..self.part_names.len() {
                let found: usize = self.classes.iter().map(|c| c.found[k]).sum();
                let exp: usize = self.classes.iter().map(|c| c.expected[k]).sum();
                write!(f, "  {:>13}", format!("{found}/{exp} "))?;
            }
            writeln!(f)?;
        }
        let problems = self.problems();
        if problems.is_empty() {
            write!(
                f,
                "OK: {} files and all per-class counts match",
                self.files.len()
            )
        } else {
            writeln!(f, "FAILED:")?;
            for p in &problems {
                writeln!(f, "  {p}")?;
            }
            Ok(())
        }
    }
}

fn check_file(path: &Path, expected: &ManifestFile, hashes: bool) -> FileCheck {
    let problem = (|| -> std::result::Result<(), String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("missing or unreadable: {e}"))?
            .len();
        if size != expected.bytes {
            return Err(format!(
                "{size} bytes, expected {} (truncated or wrong file)",
                expected.bytes
            ));
        }
        if hashes && !expected.sha256.is_empty() {
            let found = sha256_file(path).map_err(|e| e.to_string())?;
            if found != expected.sha256 {
                return Err(format!("SHA-256 {found}, expected {}", expected.sha256));
            }
        }
        Ok(())
    })()
    .err();
    FileCheck {
        name: expected.name.clone(),
        problem,
    }
}

/// SHA-256 of a file, lower-case hex, read in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_manifests_parse_and_agree_with_the_loaders() {
        let g = Manifest::builtin("gtsrb").unwrap();
        assert_eq!(g.num_classes, crate::gtsrb::GTSRB_CLASSES);
        assert_eq!(g.shape(), crate::gtsrb::GTSRB_SHAPE);
        assert_eq!(g.classes[14].name, "Stop");
        assert_eq!(
            g.parts.iter().map(|p| p.count).collect::<Vec<_>>(),
            vec![39_209, 12_630]
        );
        let p = Manifest::builtin("pneumonia").unwrap();
        assert_eq!(p.shape(), crate::pneumonia::PNEUMONIA_SHAPE);
        assert_eq!(p.classes[1].counts["train"], 3_494);
        let r = Manifest::builtin("rsna").unwrap();
        assert_eq!(r.shape(), ImageShape::new(1, 160, 160));
        assert_eq!(r.parts[0].count, 20_672 + 6_012);
        assert!(r.files.is_empty());
    }

    #[test]
    fn an_unknown_dataset_lists_the_known_ones() {
        let err = Manifest::builtin("cifar").unwrap_err().to_string();
        assert!(
            err.contains("unknown dataset `cifar`") && err.contains("gtsrb"),
            "{err}"
        );
    }

    #[test]
    fn inconsistent_class_counts_are_refused() {
        let text = include_str!("../../../datasets/pneumonia.toml")
            .replace("train = 1214", "train = 1215");
        let err = Manifest::parse(Path::new("bad.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("sum to 4709"),
            "{err}"
        );
    }
}
