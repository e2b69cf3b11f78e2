//! The one error type of this crate. Every variant names the file (or value) and the
//! problem, so a user can fix the input without reading our code.

use std::path::PathBuf;

/// Anything that can go wrong while reading, checking or splitting a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A header-less image file whose length is not a whole number of images.
    #[error(
        "{}: size {size} bytes is not a multiple of the image size {image_bytes} bytes \
         (truncated or wrong image shape?)",
        path.display()
    )]
    SizeNotMultiple {
        /// The image file.
        path: PathBuf,
        /// Its length in bytes.
        size: u64,
        /// Bytes of one image (C·H·W).
        image_bytes: usize,
    },
    /// Image and label files disagree on the number of items.
    #[error(
        "{} holds {labels} labels but {} holds {images} images",
        labels_path.display(),
        images_path.display()
    )]
    LabelCountMismatch {
        /// The label file.
        labels_path: PathBuf,
        /// Labels it holds.
        labels: usize,
        /// The image file.
        images_path: PathBuf,
        /// Images it holds.
        images: usize,
    },
    /// A label outside `0..num_classes`.
    #[error(
        "{}: item {index} has label {label}, but the dataset has only {num_classes} classes",
        path.display()
    )]
    LabelOutOfRange {
        /// The label (or CSV) file.
        path: PathBuf,
        /// Item index (0-based) or CSV data row.
        index: usize,
        /// The label found.
        label: u64,
        /// Classes the dataset has.
        num_classes: usize,
    },
    /// A PPM file that is not a binary 8-bit `P6` image with the expected pixels.
    #[error("{}: {problem}", path.display())]
    Ppm {
        /// The PPM file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A CSV file with a missing column, a bad value, or a row that does not fit.
    #[error("{}: line {line}: {problem}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number (1 = header).
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A dataset without a single item.
    #[error("{}: the dataset is empty", path.display())]
    Empty {
        /// The file or folder that was expected to hold items.
        path: PathBuf,
    },
    /// A split ratio outside the open interval (0, 1).
    #[error("split ratio `{name}` = {value} must lie strictly between 0 and 1")]
    BadRatio {
        /// Which ratio.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A saved split that belongs to another dataset (or another version of it).
    #[error("{}: split was made for {expected}, but the data loaded is {found}", path.display())]
    SplitMismatch {
        /// The split file.
        path: PathBuf,
        /// What the split file says.
        expected: String,
        /// What the loaded data is.
        found: String,
    },
    /// A file that parses but says something impossible (manifest, split JSON, ...).
    #[error("{}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// An official archive could not be downloaded.
    #[error("could not download {url}: {problem}")]
    Download {
        /// The archive's URL.
        url: String,
        /// The downloader's reason, in one line.
        problem: String,
    },
    /// A tensor could not be built (device out of memory, unsupported dtype, ...).
    #[error("building a batch tensor: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`DataError::Invalid`] for `path`.
    pub(crate) fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
