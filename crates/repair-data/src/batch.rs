//! Seeded mini-batches as candle tensors.
//!
//! Images stay `u8` in memory; each batch is converted to `f32` N × C × H × W in [0, 1]
//! (optionally normalised per channel) when it is asked for, one image per rayon task.
//! The order of epoch `e` is a pure function of (seed, e): a ChaCha8 stream seeded with
//! `seed`, on stream number `e`. So a resumed training sees exactly the batches an
//! uninterrupted one would, on any thread count.

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::Result;

/// Per-channel `(x − mean) / std`, applied after scaling to [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean of each channel, in [0, 1] units.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel, in [0, 1] units.
    pub std: Vec<f32>,
}

/// One mini-batch.
#[derive(Debug)]
pub struct Batch {
    /// `f32` images, N × C × H × W.
    pub images: Tensor,
    /// `u32` labels, N.
    pub labels: Tensor,
    /// The dataset indices of the images, in batch order.
    pub indices: Vec<usize>,
}

/// Turns a dataset into seeded, per-epoch-shuffled mini-batches.
#[derive(Debug, Clone)]
pub struct Batcher<D> {
    data: D,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
    drop_last: bool,
    normalisation: Option<Normalisation>,
    device: Device,
}

impl<D: Dataset> Batcher<D> {
    /// Batches of `batch_size` (must be > 0), shuffled every epoch, the last batch kept
    /// even when short, no normalisation, on the CPU.
    pub fn new(data: D, batch_size: usize, seed: u64) -> Self {
        assert!(batch_size > 0, "batch size must be positive");
        Batcher {
            data,
            batch_size,
            seed,
            shuffle: true,
            drop_last: false,
            normalisation: None,
            device: Device::Cpu,
        }
    }

    /// Keep dataset order (evaluation).
    pub fn in_order(mut self) -> Self {
        self.shuffle = false;
        self
    }

    /// Drop a last batch shorter than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Normalise each channel; `mean` and `std` need one value per channel.
    pub fn normalise(mut self, normalisation: Normalisation) -> Self {
        let c = self.data.image_shape().channels;
        assert!(
            normalisation.mean.len() == c && normalisation.std.len() == c,
            "normalisation needs {c} means and stds"
        );
        self.normalisation = Some(normalisation);
        self
    }

    /// Put batches on `device`.
    pub fn on(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// The dataset.
    pub fn data(&self) -> &D {
        &self.data
    }

    /// Batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.data.len() / self.batch_size
        } else {
            self.data.len().div_ceil(self.batch_size)
        }
    }

    /// Item order of epoch `epoch` (identity when not shuffling).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        if self.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(epoch);
            order.shuffle(&mut rng);
        }
        order
    }

    /// The batches of epoch `epoch`, built lazily.
    pub fn epoch(&self, epoch: u64) -> impl Iterator<Item = Result<Batch>> + '_ {
        let order = self.order(epoch);
        let n = self.batches_per_epoch();
        (0..n).map(move |b| {
            let end = ((b + 1) * self.batch_size).min(order.len());
            self.batch(&order[b * self.batch_size..end])
        })
    }

    /// The batch of the given dataset indices.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        let shape = self.data.image_shape();
        let pixels = to_f32_chw(&self.data, indices, self.normalisation.as_ref());
        let images = Tensor::from_vec(
            pixels,
            (indices.len(), shape.channels, shape.height, shape.width),
            &self.device,
        )?;
        let labels: Vec<u32> = indices.iter().map(|&i| self.data.label(i) as u32).collect();
        let labels = Tensor::from_vec(labels, indices.len(), &self.device)?;
        Ok(Batch {
            images,
            labels,
            indices: indices.to_vec(),
        })
    }
}

/// Converts the images at `indices` to `f32` N × C × H × W in [0, 1] (then normalised),
/// one image per rayon task.
pub fn to_f32_chw<D: Dataset + ?Sized>(
    data: &D,
    indices: &[usize],
    normalisation: Option<&Normalisation>,
) -> Vec<f32> {
    let shape = data.image_shape();
    let (c, hw) = (shape.channels, shape.height * shape.width);
    let mut out = vec![0f32; indices.len() * shape.len()];
    // One 256-entry table per channel: x/255, then (x − mean)/std, computed exactly as
    // PyTorch's ToTensor + Normalize would, once per batch instead of once per pixel.
    let tables: Vec<[f32; 256]> = (0..c)
        .map(|ch| {
            std::array::from_fn(|byte| {
                let x = byte as f32 / 255.0;
                match normalisation {
                    Some(n) => (x - n.mean[ch]) / n.std[ch],
                    None => x,
                }
            })
        })
        .collect();
    out.par_chunks_mut(shape.len())
        .zip(indices.par_iter())
        .for_each(|(dst, &i)| {
            let src = data.image(i);
            for (ch, table) in tables.iter().enumerate() {
                let plane = &mut dst[ch * hw..(ch + 1) * hw];
                for (d, &byte) in plane.iter_mut().zip(src[ch..].iter().step_by(c)) {
                    *d = table[byte as usize];
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ImageSet, ImageShape};

    fn rgb_set(n: usize) -> ImageSet {
        // 2×2 RGB images; pixel bytes encode (image, position, channel).
        let shape = ImageShape::new(3, 2, 2);
        let pixels = (0..n * 12).map(|k| (k % 251) as u8).collect();
        let labels = (0..n).map(|i| (i % 3) as u8).collect();
        ImageSet::new(pixels, labels, shape, 3).unwrap()
    }

    #[test]
    fn batches_are_chw_floats_in_unit_range() {
        let set = rgb_set(3);
        let batcher = Batcher::new(&set, 2, 0).in_order();
        let batches: Vec<Batch> = batcher.epoch(0).collect::<Result<_>>().unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].images.dims(), &[2, 3, 2, 2]);
        assert_eq!(batches[1].images.dims(), &[1, 3, 2, 2]);
        let img0 = batches[0]
            .images
            .get(0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        // HWC bytes 0..12 → channel planes R = bytes 0,3,6,9 ...
        let expected: Vec<f32> = [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]
            .iter()
            .map(|&b| b as f32 / 255.0)
            .collect();
        assert_eq!(img0, expected);
        assert_eq!(batches[1].labels.to_vec1::<u32>().unwrap(), vec![2]);
    }

    #[test]
    fn normalisation_is_per_channel() {
        let set = rgb_set(1);
        let norm = Normalisation {
            mean: vec![0.5, 0.0, 0.0],
            std: vec![0.5, 1.0, 2.0],
        };
        let v = to_f32_chw(&set, &[0], Some(&norm));
        assert!((v[0] - (0.0 / 255.0 - 0.5) / 0.5).abs() < 1e-6);
        assert!((v[4] - 1.0 / 255.0).abs() < 1e-6);
        assert!((v[8] - 2.0 / 255.0 / 2.0).abs() < 1e-6);
    }

    #[test]
    fn each_epoch_has_its_own_seeded_order() {
        let set = rgb_set(50);
        let a = Batcher::new(&set, 8, 7);
        let b = Batcher::new(&set, 8, 7);
        assert_eq!(a.order(3), b.order(3));
        assert_ne!(a.order(3), a.order(4));
        assert_ne!(a.order(3), Batcher::new(&set, 8, 8).order(3));
        let mut sorted = a.order(3);
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn the_order_does_not_depend_on_the_thread_count() {
        let set = rgb_set(40);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let b = Batcher::new(&set, 16, 11);
                b.epoch(2)
                    .map(|batch| {
                        batch
                            .unwrap()
                            .images
                            .flatten_all()
                            .unwrap()
                            .to_vec1::<f32>()
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn drop_last_drops_the_short_batch() {
        let set = rgb_set(5);
        let b = Batcher::new(&set, 2, 0).drop_last(true);
        assert_eq!(b.batches_per_epoch(), 2);
        assert_eq!(b.epoch(0).count(), 2);
    }
}
