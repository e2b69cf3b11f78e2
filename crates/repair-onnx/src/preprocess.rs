//! How an ONNX model wants its images: stated by the user (`--input-size`, `--scale`,
//! `--mean`, `--std`, `--nhwc`), since an ONNX file does not say how it was trained.

use serde::{Deserialize, Serialize};

/// The model's preprocessing: a pixel p in 0..=255 becomes (p · scale − mean_c) / std_c,
/// in an (N, C, H, W) tensor (N, H, W, C with `nhwc`) of `height × width` images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Multiplies the 0..=255 pixel (1/255 gives [0, 1]).
    pub scale: f32,
    /// Per-channel mean after scaling (one value: every channel).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation after scaling.
    pub std: Vec<f32>,
    /// Channels last (Keras / TensorFlow exports).
    pub nhwc: bool,
}

/// A preprocessing that cannot fit the model's input or the images, saying which value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPreprocess(pub String);

impl Preprocess {
    /// Checks the values for `channels` input channels.
    pub fn validate(&self, channels: usize) -> Result<(), BadPreprocess> {
        let bad = |problem: String| Err(BadPreprocess(problem));
        if self.height == 0 || self.width == 0 {
            return bad(format!(
                "input size {}×{}: both at least 1",
                self.height, self.width
            ));
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return bad(format!("scale {}: a positive number", self.scale));
        }
        for (name, values) in [("mean", &self.mean), ("std", &self.std)] {
            if values.len() != 1 && values.len() != channels {
                return bad(format!(
                    "{name}: {} values for {channels} channels (give 1 or {channels})",
                    values.len()
                ));
            }
            if values.iter().any(|v| !v.is_finite()) {
                return bad(format!("{name}: {values:?} has a value that is not finite"));
            }
        }
        if self.std.iter().any(|&s| s <= 0.0) {
            return bad(format!("std: {:?} must be positive", self.std));
        }
        Ok(())
    }

    /// The model input of `pixels` (N images of H × W × C interleaved 0..=255 values,
    /// as repair-data stores them).
    pub fn apply(&self, pixels: &[u8], channels: usize) -> Vec<f32> {
        let plane = self.height * self.width;
        let per_image = channels * plane;
        let at = |v: &[f32], c: usize| if v.len() == 1 { v[0] } else { v[c] };
        let mut out = vec![0.0; pixels.len()];
        for (n, image) in pixels.chunks_exact(per_image).enumerate() {
            for c in 0..channels {
                let (mean, std) = (at(&self.mean, c), at(&self.std, c));
                for k in 0..plane {
                    let value = (f32::from(image[k * channels + c]) * self.scale - mean) / std;
                    let to = if self.nhwc {
                        k * channels + c
                    } else {
                        c * plane + k
                    };
                    out[n * per_image + to] = value;
                }
            }
        }
        out
    }

    /// The input tensor's shape for `n` images.
    pub fn shape(&self, n: usize, channels: usize) -> [usize; 4] {
        if self.nhwc {
            [n, self.height, self.width, channels]
        } else {
            [n, channels, self.height, self.width]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_scaled_normalised_and_laid_out_as_asked() {
        let p = Preprocess {
            height: 1,
            width: 2,
            scale: 1.0 / 255.0,
            mean: vec![0.5, 0.0],
            std: vec![0.5, 1.0],
            nhwc: false,
        };
        // One image of 1×2 pixels, 2 channels interleaved: channel 0 [0, 255], 1 [51, 102].
        let pixels = [0u8, 51, 255, 102];
        let close = |a: Vec<f32>, b: [f32; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(p.apply(&pixels, 2), [-1.0, 1.0, 0.2, 0.4]));
        let hwc = Preprocess {
            nhwc: true,
            ..p.clone()
        };
        assert!(close(hwc.apply(&pixels, 2), [-1.0, 0.2, 1.0, 0.4]));
        assert_eq!(p.shape(3, 2), [3, 2, 1, 2]);
        assert!(p.validate(2).is_ok());
        assert!(p
            .validate(3)
            .unwrap_err()
            .to_string()
            .contains("mean: 2 values for 3 channels"));
        let bad = Preprocess {
            std: vec![0.0],
            ..p
        };
        assert!(bad.validate(2).unwrap_err().to_string().contains("std"));
    }
}
