//! The study's optional GTSRB preprocessing (its `dataset/gtsrb/
//! prepare.py`): RGB → HSV, histogram-equalise V, HSV → RGB; centre square crop; resize.
//!
//! What we follow and where we differ:
//! * Equalisation follows `skimage.exposure.equalize_hist(v, nbins=256)` on the float V
//!   channel exactly: a 256-bin histogram over `[min V, max V]` (numpy's rule for a
//!   constant image: `[v − 0.5, v + 0.5]`), its normalised cumulative sum, and linear
//!   interpolation of every V at the bin centres. Hue and saturation are untouched, so
//!   HSV → RGB reduces to scaling R, G, B by `V'/V` (a black pixel becomes grey `V'`).
//! * The study keeps float pixels; we round to `u8` after each step, as our datasets
//!   store `u8`.
//! * The crop is the central `min(h, w)` square starting at `h/2 − side/2`,
//!   `w/2 − side/2` (integer division).
//! * Resizing uses the `image` crate's triangle (bilinear, area-aware when shrinking)
//!   filter, close to but not bit-identical with `skimage.transform.resize`'s
//!   anti-aliased bilinear resize.

use image::imageops::{self, FilterType};
use serde::{Deserialize, Serialize};

use crate::dataset::ImageShape;
use crate::ppm::RgbImage;

/// Which preprocessing steps to run, in the study's order: equalise, crop, resize.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Histogram-equalise the HSV value channel.
    pub equalize_value: bool,
    /// Cut the central square.
    pub centre_crop: bool,
    /// Resize to (height, width).
    pub resize: Option<(usize, usize)>,
}

impl Preprocess {
    /// No preprocessing: pixels exactly as stored.
    pub fn none() -> Self {
        Self::default()
    }

    /// The study's pipeline: equalise V, centre crop, resize to `size × size`.
    pub fn study(size: usize) -> Self {
        Preprocess {
            equalize_value: true,
            centre_crop: true,
            resize: Some((size, size)),
        }
    }

    /// Runs the enabled steps on one image.
    pub fn apply(&self, mut img: RgbImage) -> RgbImage {
        if self.equalize_value {
            equalize_value(&mut img);
        }
        if self.centre_crop {
            img = centre_crop(&img);
        }
        if let Some((h, w)) = self.resize {
            img = resize(&img, h, w);
        }
        img
    }
}

/// Histogram-equalises the HSV V channel in place (skimage semantics, see module doc).
pub fn equalize_value(img: &mut RgbImage) {
    let values: Vec<f64> = img
        .pixels
        .chunks_exact(3)
        .map(|p| f64::from(*p.iter().max().expect("3 channels")) / 255.0)
        .collect();
    let Some(equalized) = equalize_hist(&values) else {
        return;
    };
    for ((px, &v), &v_new) in img.pixels.chunks_exact_mut(3).zip(&values).zip(&equalized) {
        if v > 0.0 {
            let scale = v_new / v;
            for c in px.iter_mut() {
                *c = to_u8(f64::from(*c) / 255.0 * scale);
            }
        } else {
            px.fill(to_u8(v_new));
        }
    }
}

/// `skimage.exposure.equalize_hist(values, nbins=256)`; `None` for no values.
fn equalize_hist(values: &[f64]) -> Option<Vec<f64>> {
    const BINS: usize = 256;
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    // numpy.histogram widens an empty range to ±0.5.
    let (lo, hi) = if min == max {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    };
    let width = (hi - lo) / BINS as f64;
    let mut cdf = [0f64; BINS];
    for &v in values {
        let bin = (((v - lo) / (hi - lo)) * BINS as f64) as usize;
        cdf[bin.min(BINS - 1)] += 1.0;
    }
    for k in 1..BINS {
        cdf[k] += cdf[k - 1];
    }
    let total = cdf[BINS - 1];
    cdf.iter_mut().for_each(|c| *c /= total);
    let centre = |k: usize| lo + (k as f64 + 0.5) * width;
    // numpy.interp at the bin centres, clamped at both ends.
    Some(
        values
            .iter()
            .map(|&v| {
                let pos = (v - centre(0)) / width;
                if pos <= 0.0 {
                    cdf[0]
                } else if pos >= (BINS - 1) as f64 {
                    cdf[BINS - 1]
                } else {
                    let k = pos.floor() as usize;
                    let t = pos - k as f64;
                    cdf[k] + t * (cdf[k + 1] - cdf[k])
                }
            })
            .collect(),
    )
}

fn to_u8(x: f64) -> u8 {
    (x * 255.0).round().clamp(0.0, 255.0) as u8
}

/// The central `min(h, w)` square.
pub fn centre_crop(img: &RgbImage) -> RgbImage {
    let side = img.width.min(img.height);
    let top = img.height / 2 - side / 2;
    let left = img.width / 2 - side / 2;
    let mut pixels = Vec::with_capacity(side * side * 3);
    for y in top..top + side {
        let row = (y * img.width + left) * 3;
        pixels.extend_from_slice(&img.pixels[row..row + side * 3]);
    }
    RgbImage {
        width: side,
        height: side,
        pixels,
    }
}

/// Bilinear (triangle-filter) resize to `height × width`; a no-op at the same size.
pub fn resize(img: &RgbImage, height: usize, width: usize) -> RgbImage {
    let shape = ImageShape::new(3, img.height, img.width);
    RgbImage {
        width,
        height,
        pixels: resize_pixels(&img.pixels, shape, height, width),
    }
}

/// Bilinear (triangle-filter) resize of one grey or RGB image stored H × W × C (what
/// [`resize`] runs for RGB); a copy at the same size.
///
/// # Panics
/// When `pixels` does not hold one image of `shape`, or it has neither 1 nor 3
/// channels (callers pass images of an [`ImageSet`](crate::ImageSet)).
pub fn resize_pixels(pixels: &[u8], shape: ImageShape, height: usize, width: usize) -> Vec<u8> {
    assert_eq!(pixels.len(), shape.len(), "one image of {shape}");
    if (shape.height, shape.width) == (height, width) {
        return pixels.to_vec();
    }
    let (w, h) = (shape.width as u32, shape.height as u32);
    let (nw, nh) = (width as u32, height as u32);
    match shape.channels {
        1 => {
            let img = image::GrayImage::from_raw(w, h, pixels.to_vec()).expect("sizes checked");
            imageops::resize(&img, nw, nh, FilterType::Triangle).into_raw()
        }
        3 => {
            let img = image::RgbImage::from_raw(w, h, pixels.to_vec()).expect("sizes checked");
            imageops::resize(&img, nw, nh, FilterType::Triangle).into_raw()
        }
        c => panic!("cannot resize {c}-channel images"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: usize, height: usize, f: impl Fn(usize, usize) -> [u8; 3]) -> RgbImage {
        let pixels = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| f(x, y))
            .collect();
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    #[test]
    fn equalisation_spreads_a_dark_image_over_the_full_range_and_keeps_hue() {
        // A dark gradient: V from 10/255 to 73/255, hue pure red-ish (R > G = B).
        let mut img = image(64, 1, |x, _| [10 + x as u8, 5, 5]);
        equalize_value(&mut img);
        let v: Vec<u8> = img.pixels.chunks(3).map(|p| p[0]).collect();
        // skimage: the darkest pixel maps to cdf of its bin (1/64), the brightest to 1.
        assert_eq!(v[0], to_u8(1.0 / 64.0));
        assert_eq!(*v.last().unwrap(), 255);
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "monotone: {v:?}");
        for p in img.pixels.chunks(3) {
            // Ratios G/R stay (rounding aside): hue and saturation are kept.
            assert_eq!(p[1], p[2]);
            assert!(p[0] >= p[1]);
        }
    }

    #[test]
    fn equalisation_matches_numpy_on_a_constant_image() {
        // numpy widens the range to ±0.5: every value sits halfway between bins 127
        // and 128, so interp gives 0.5 and grey 128 (rounded from 127.5).
        let mut img = image(3, 3, |_, _| [40, 40, 40]);
        equalize_value(&mut img);
        assert!(img.pixels.iter().all(|&c| c == 128), "{:?}", img.pixels);
    }

    #[test]
    fn a_black_pixel_becomes_grey_at_its_equalised_value() {
        let mut img = image(2, 1, |x, _| if x == 0 { [0, 0, 0] } else { [200, 100, 0] });
        equalize_value(&mut img);
        assert_eq!(&img.pixels[..3], &[img.pixels[0]; 3]);
        assert_eq!(img.pixels[3], 255);
    }

    #[test]
    fn the_centre_crop_keeps_the_middle_square() {
        let img = image(5, 3, |x, y| [x as u8, y as u8, 0]);
        let out = centre_crop(&img);
        assert_eq!((out.width, out.height), (3, 3));
        // columns 1..4 (5/2 − 3/2 = 1)
        assert_eq!(&out.pixels[..3], &[1, 0, 0]);
        assert_eq!(&out.pixels[out.pixels.len() - 3..], &[3, 2, 0]);
    }

    #[test]
    fn resizing_gives_the_requested_shape_and_keeps_flat_colours() {
        let img = image(50, 40, |_, _| [12, 200, 99]);
        let out = resize(&img, 32, 32);
        assert_eq!(
            (out.width, out.height, out.pixels.len()),
            (32, 32, 32 * 32 * 3)
        );
        assert!(out.pixels.chunks(3).all(|p| p == [12, 200, 99]));
    }

    #[test]
    fn the_study_pipeline_runs_all_three_steps() {
        let img = image(40, 30, |x, y| [(x * 6) as u8, (y * 8) as u8, 50]);
        let out = Preprocess::study(16).apply(img);
        assert_eq!((out.width, out.height), (16, 16));
        assert_eq!(Preprocess::none().apply(out.clone()), out);
    }
}
