//! Model zoo: candle classifiers whose last dense layer can be read and replaced.
//!
//! Planned (issue 3): a narrow `Classifier` trait (logits, penultimate activations, last
//! layer W and b, safetensors I/O) and the models `cnn-s`, `cnn-m`, `vgg16` (the study's
//! head, reference notes §5.3) and `densenet121`. Repair, fault localisation and metrics
//! will use only that trait.
#![deny(missing_docs)]
