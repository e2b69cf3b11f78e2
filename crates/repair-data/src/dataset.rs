//! The narrow [`Dataset`] trait, the in-memory [`ImageSet`] and index-list [`Subset`]
//! views that share its pixels.
//!
//! Images are kept as `u8` in the layout of the packed files, **H × W × C** (interleaved
//! channels), so loading is a plain read and a subset never copies pixels. Conversion to
//! `f32` N × C × H × W happens one batch at a time (see [`crate::Batcher`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The shape of one image: channels, height, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Channels (1 = grey, 3 = RGB).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl ImageShape {
    /// A shape from (C, H, W).
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        ImageShape {
            channels,
            height,
            width,
        }
    }

    /// Bytes (= values) in one image.
    pub const fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True for a shape with no pixels.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

/// A labelled image classification dataset: what every later stage needs, nothing more.
///
/// Required: [`len`](Dataset::len), [`num_classes`](Dataset::num_classes),
/// [`image_shape`](Dataset::image_shape), [`image`](Dataset::image),
/// [`label`](Dataset::label); the rest is provided.
pub trait Dataset: Send + Sync {
    /// Number of items.
    fn len(&self) -> usize;
    /// Number of classes; every label is below it.
    fn num_classes(&self) -> usize;
    /// Shape (C, H, W) shared by every image.
    fn image_shape(&self) -> ImageShape;
    /// Pixels of item `index`, `u8`, H × W × C interleaved. Panics when out of range,
    /// like slice indexing.
    fn image(&self, index: usize) -> &[u8];
    /// Class of item `index`. Panics when out of range.
    fn label(&self, index: usize) -> usize;

    /// True when there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items per class, indexed by class.
    fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for i in 0..self.len() {
            counts[self.label(i)] += 1;
        }
        counts
    }

    /// All labels, in item order.
    fn labels(&self) -> Vec<usize> {
        (0..self.len()).map(|i| self.label(i)).collect()
    }
}

/// References and `Arc`s of a dataset are datasets too (forwarding every method).
macro_rules! forward_dataset {
    ($($wrapper:ty),*) => {$(
        impl<D: Dataset + ?Sized> Dataset for $wrapper {
            fn len(&self) -> usize {
                (**self).len()
            }
            fn num_classes(&self) -> usize {
                (**self).num_classes()
            }
            fn image_shape(&self) -> ImageShape {
                (**self).image_shape()
            }
            fn image(&self, index: usize) -> &[u8] {
                (**self).image(index)
            }
            fn label(&self, index: usize) -> usize {
                (**self).label(index)
            }
        }
    )*};
}

forward_dataset!(&D, Arc<D>);

/// Images and labels held in memory. Cloning is cheap (the buffers are shared), so views
/// and loaders hand out clones freely.
#[derive(Clone)]
pub struct ImageSet {
    pixels: Arc<Vec<u8>>,
    labels: Arc<Vec<u8>>,
    shape: ImageShape,
    num_classes: usize,
}

impl std::fmt::Debug for ImageSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageSet")
            .field("len", &self.labels.len())
            .field("shape", &self.shape)
            .field("num_classes", &self.num_classes)
            .finish()
    }
}

/// Why raw buffers cannot form an [`ImageSet`]; the loaders turn it into a
/// [`crate::DataError`] that names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSetProblem {
    /// Pixel buffer length is not `labels × shape.len()`.
    PixelCount {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A label ≥ `num_classes`.
    Label {
        /// Item index.
        index: usize,
        /// The label.
        label: u8,
    },
}

impl ImageSet {
    /// Builds a set from interleaved `u8` pixels (H × W × C per image) and one label per
    /// image, checking that the sizes agree and every label is below `num_classes`.
    pub fn new(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        shape: ImageShape,
        num_classes: usize,
    ) -> Result<Self, ImageSetProblem> {
        let expected = labels.len() * shape.len();
        if pixels.len() != expected {
            return Err(ImageSetProblem::PixelCount {
                expected,
                found: pixels.len(),
            });
        }
        if let Some(index) = labels.iter().position(|&l| l as usize >= num_classes) {
            return Err(ImageSetProblem::Label {
                index,
                label: labels[index],
            });
        }
        Ok(ImageSet {
            pixels: Arc::new(pixels),
            labels: Arc::new(labels),
            shape,
            num_classes,
        })
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels as stored (`u8`).
    pub fn raw_labels(&self) -> &[u8] {
        &self.labels
    }

    /// A view of the items at `indices` (in that order), sharing the pixels.
    pub fn subset(&self, indices: impl Into<Arc<[usize]>>) -> Subset<ImageSet> {
        Subset::new(self.clone(), indices)
    }

    /// True when both sets share the same pixel buffer (no copy was made).
    #[cfg(test)]
    pub(crate) fn shares_pixels_with(&self, other: &ImageSet) -> bool {
        Arc::ptr_eq(&self.pixels, &other.pixels)
    }
}

impl Dataset for ImageSet {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn image_shape(&self) -> ImageShape {
        self.shape
    }
    fn image(&self, index: usize) -> &[u8] {
        let n = self.shape.len();
        &self.pixels[index * n..(index + 1) * n]
    }
    fn label(&self, index: usize) -> usize {
        self.labels[index] as usize
    }
}

/// The items of a base dataset at an index list, in list order; no pixel is copied.
#[derive(Debug, Clone)]
pub struct Subset<D> {
    base: D,
    indices: Arc<[usize]>,
}

impl<D: Dataset> Subset<D> {
    /// A view of `base` at `indices`. Panics when an index is out of range, since that is
    /// a programming error (splits are checked against their dataset when loaded).
    pub fn new(base: D, indices: impl Into<Arc<[usize]>>) -> Self {
        let indices = indices.into();
        if let Some(&bad) = indices.iter().find(|&&i| i >= base.len()) {
            panic!(
                "subset index {bad} out of range for a dataset of {}",
                base.len()
            );
        }
        Subset { base, indices }
    }

    /// Indices into the base dataset, in view order.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The dataset this is a view of.
    pub fn base(&self) -> &D {
        &self.base
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn num_classes(&self) -> usize {
        self.base.num_classes()
    }
    fn image_shape(&self) -> ImageShape {
        self.base.image_shape()
    }
    fn image(&self, index: usize) -> &[u8] {
        self.base.image(self.indices[index])
    }
    fn label(&self, index: usize) -> usize {
        self.base.label(self.indices[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageSet {
        // 4 grey 1×2 images: pixels 10·i, 10·i+1; labels 0,1,2,0.
        let pixels = (0..4u8).flat_map(|i| [10 * i, 10 * i + 1]).collect();
        ImageSet::new(pixels, vec![0, 1, 2, 0], ImageShape::new(1, 1, 2), 3).unwrap()
    }

    #[test]
    fn an_image_set_returns_each_image_and_label() {
        let set = tiny();
        assert_eq!(set.len(), 4);
        assert_eq!(set.image(2), &[20, 21]);
        assert_eq!(set.label(1), 1);
        assert_eq!(set.class_counts(), vec![2, 1, 1]);
    }

    #[test]
    fn a_subset_shares_pixels_and_follows_its_index_order() {
        let set = tiny();
        let view = set.subset(vec![3, 1]);
        assert_eq!(view.len(), 2);
        assert_eq!(view.image(0), &[30, 31]);
        assert_eq!(view.label(1), 1);
        assert!(view.base().shares_pixels_with(&set));
        assert_eq!(view.image(0).as_ptr(), set.image(3).as_ptr());
        // A view of a view still points into the same buffer.
        let inner = Subset::new(&view, vec![1]);
        assert_eq!(inner.image(0).as_ptr(), set.image(1).as_ptr());
    }

    #[test]
    fn mismatched_buffers_are_refused() {
        let shape = ImageShape::new(1, 1, 2);
        assert_eq!(
            ImageSet::new(vec![0; 5], vec![0, 0, 0], shape, 2).unwrap_err(),
            ImageSetProblem::PixelCount {
                expected: 6,
                found: 5
            }
        );
        assert_eq!(
            ImageSet::new(vec![0; 4], vec![0, 7], shape, 2).unwrap_err(),
            ImageSetProblem::Label { index: 1, label: 7 }
        );
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn a_subset_index_beyond_the_base_panics() {
        tiny().subset(vec![4]);
    }
}
