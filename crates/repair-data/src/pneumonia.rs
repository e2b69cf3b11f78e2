//! PneumoniaMNIST (MedMNIST v2) in the packed layout: `{train,val,test}_28x28_gray.u8`
//! with `{train,val,test}_labels.u8`; label 0 = normal, 1 = pneumonia.

use std::path::Path;

use crate::corpus::Corpus;
use crate::dataset::ImageShape;
use crate::error::Result;
use crate::packed::{read_packed, PackedPart};

/// Number of PneumoniaMNIST classes (normal, pneumonia).
pub const PNEUMONIA_CLASSES: usize = 2;

/// Shape of a PneumoniaMNIST image.
pub const PNEUMONIA_SHAPE: ImageShape = ImageShape::new(1, 28, 28);

/// Loads packed PneumoniaMNIST from `dir` as a corpus with parts `train` (4,708),
/// `val` (524) and `test` (624), in that order.
pub fn load_pneumonia(dir: &Path) -> Result<Corpus> {
    let parts = ["train", "val", "test"].map(|name| PackedPart {
        name: name.to_string(),
        images: dir.join(format!("{name}_28x28_gray.u8")),
        labels: dir.join(format!("{name}_labels.u8")),
    });
    let (images, parts) = read_packed(&parts, PNEUMONIA_SHAPE, PNEUMONIA_CLASSES)?;
    Ok(Corpus::new("pneumonia", images, parts, None))
}
