//! A [`Corpus`]: every official image of one dataset in one shared buffer, with the
//! official parts (train, val, test) as index ranges. Splits index into a corpus, so one
//! index list can mix official parts (the study pools PneumoniaMNIST's parts before
//! splitting) and one checksum identifies the data a split belongs to.

use std::ops::Range;

use xxhash_rust::xxh3::Xxh3;

use rayon::prelude::*;

use crate::dataset::{Dataset, ImageSet, ImageShape, Subset};
use crate::error::{DataError, Result};
use crate::preprocess::resize_pixels;

/// One official part of a corpus, e.g. GTSRB's `train` (0..39,209).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Official name: `train`, `val` or `test`.
    pub name: String,
    /// Its items in the corpus.
    pub range: Range<usize>,
}

/// All images of a dataset, its official parts, and (for GTSRB) which physical sign
/// (track) each image shows.
#[derive(Debug, Clone)]
pub struct Corpus {
    name: String,
    images: ImageSet,
    parts: Vec<Part>,
    groups: Option<Vec<u32>>,
    checksum: String,
}

impl Corpus {
    /// Assembles a corpus. `parts` must tile `0..images.len()` in order; `groups`, when
    /// given, holds one group id per image (images of one group must never be split
    /// apart by a group-aware split rule).
    pub fn new(
        name: impl Into<String>,
        images: ImageSet,
        parts: Vec<Part>,
        groups: Option<Vec<u32>>,
    ) -> Self {
        let mut next = 0;
        for part in &parts {
            assert_eq!(part.range.start, next, "corpus parts must tile the images");
            next = part.range.end;
        }
        assert_eq!(next, images.len(), "corpus parts must cover every image");
        if let Some(g) = &groups {
            assert_eq!(g.len(), images.len(), "one group id per image");
        }
        let checksum = checksum(&images);
        Corpus {
            name: name.into(),
            images,
            parts,
            groups,
            checksum,
        }
    }

    /// Dataset name (`gtsrb`, `pneumonia`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every image of the corpus.
    pub fn images(&self) -> &ImageSet {
        &self.images
    }

    /// The official parts, in corpus order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The official part called `name`, if the dataset has one.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// A view of the official part called `name` (sharing the pixels).
    pub fn part_view(&self, name: &str) -> Option<Subset<ImageSet>> {
        let range = self.part(name)?.range.clone();
        Some(self.images.subset(range.collect::<Vec<_>>()))
    }

    /// Group (GTSRB: track) id of each image, when the dataset has groups.
    pub fn groups(&self) -> Option<&[u32]> {
        self.groups.as_deref()
    }

    /// A fingerprint of shape, class count, labels and pixels (`xxh3-64:` + hex). Saved
    /// splits record it so that they cannot be applied to other data by mistake.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// The same corpus with every image resized (bilinear) to `height × width`: for
    /// models with a minimum input size (DenseNet-121 needs sides ≥ 32, the study fed it
    /// RSNA at 160 × 160). Parts and groups are kept; the checksum is of the new pixels,
    /// so a split saved for one size is refused for another.
    pub fn resized(&self, height: usize, width: usize) -> Result<Corpus> {
        let old = self.images.image_shape();
        if (old.height, old.width) == (height, width) {
            return Ok(self.clone());
        }
        if height == 0 || width == 0 || !matches!(old.channels, 1 | 3) {
            return Err(DataError::invalid(
                &self.name,
                format!("cannot resize {old} images to {height}×{width}"),
            ));
        }
        let shape = ImageShape::new(old.channels, height, width);
        let pixels: Vec<u8> = (0..self.images.len())
            .into_par_iter()
            .flat_map_iter(|i| resize_pixels(self.images.image(i), old, height, width))
            .collect();
        let images = ImageSet::new(
            pixels,
            self.images.raw_labels().to_vec(),
            shape,
            self.images.num_classes(),
        )
        .expect("same labels, one resized image each");
        Ok(Corpus::new(
            self.name.clone(),
            images,
            self.parts.clone(),
            self.groups.clone(),
        ))
    }

    /// A short description for messages: name, size and checksum.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} images, {})",
            self.name,
            self.images.len(),
            self.checksum
        )
    }
}

/// xxh3-64 over everything that defines the data. Fast (≈ 10 GB/s), so it costs a few
/// milliseconds even for GTSRB; it is a fingerprint, not a security measure (the
/// manifest's SHA-256 sums are for that).
fn checksum(images: &ImageSet) -> String {
    let mut h = Xxh3::new();
    let s = images.image_shape();
    for v in [
        s.channels,
        s.height,
        s.width,
        images.num_classes(),
        images.len(),
    ] {
        h.update(&(v as u64).to_le_bytes());
    }
    h.update(images.raw_labels());
    h.update(images.pixels());
    repair_core::hash_tag(h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(channels: usize) -> Corpus {
        let shape = ImageShape::new(channels, 4, 4);
        // Image k is uniformly k·40; labels alternate.
        let pixels = (0..3u8).flat_map(|k| vec![k * 40; shape.len()]).collect();
        let images = ImageSet::new(pixels, vec![0, 1, 0], shape, 2).unwrap();
        let parts = vec![
            Part {
                name: "train".into(),
                range: 0..2,
            },
            Part {
                name: "test".into(),
                range: 2..3,
            },
        ];
        Corpus::new("tiny", images, parts, None)
    }

    #[test]
    fn resizing_keeps_labels_parts_and_uniform_images() {
        for channels in [1, 3] {
            let small = corpus(channels);
            let big = small.resized(8, 6).unwrap();
            assert_eq!(big.images().image_shape(), ImageShape::new(channels, 8, 6));
            assert_eq!(big.images().raw_labels(), small.images().raw_labels());
            assert_eq!(big.parts(), small.parts());
            for k in 0..3 {
                assert!(big.images().image(k).iter().all(|&v| v == k as u8 * 40));
            }
            assert_ne!(big.checksum(), small.checksum());
            assert_eq!(small.resized(4, 4).unwrap().checksum(), small.checksum());
        }
        let err = corpus(2).resized(8, 8).unwrap_err().to_string();
        assert!(
            err.contains("tiny") && err.contains("cannot resize"),
            "{err}"
        );
    }
}
