//! The model a repair report describes: a zoo model, which its spec rebuilds, or a
//! user's ONNX graph, named by its file. `repair.json` writes both as one object with
//! `arch`, `input`, `num_classes` and `seed`, so every report keeps one schema: an ONNX
//! model's `arch` is `onnx:NAME` and its seed 0 (its weights come from the file).

use repair_core::Arch;
use repair_zoo::ModelSpec;
use serde::{Deserialize, Serialize};

/// The `arch` prefix that marks an ONNX model in a report.
const ONNX_PREFIX: &str = "onnx:";

/// What model a repair was made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ModelRecord", try_from = "ModelRecord")]
pub enum ReportedModel {
    /// A zoo model (its architecture, input, classes and initial seed).
    Zoo(ModelSpec),
    /// A user's ONNX classifier.
    Onnx {
        /// The file's stem.
        name: String,
        /// Input (channels, height, width) as the repair fed it.
        input: (usize, usize, usize),
        /// Outputs of its last dense layer.
        num_classes: usize,
    },
}

impl ReportedModel {
    /// The name in reports and results: the zoo's architecture name, or `onnx:NAME`.
    pub fn name(&self) -> String {
        match self {
            ReportedModel::Zoo(spec) => spec.arch.name().to_string(),
            ReportedModel::Onnx { name, .. } => format!("{ONNX_PREFIX}{name}"),
        }
    }

    /// The zoo model's spec (none for an ONNX model).
    pub fn zoo(&self) -> Option<&ModelSpec> {
        match self {
            ReportedModel::Zoo(spec) => Some(spec),
            ReportedModel::Onnx { .. } => None,
        }
    }
}

impl From<ModelSpec> for ReportedModel {
    fn from(spec: ModelSpec) -> Self {
        ReportedModel::Zoo(spec)
    }
}

/// The form both kinds take in `repair.json`.
#[derive(Serialize, Deserialize)]
struct ModelRecord {
    arch: String,
    input: (usize, usize, usize),
    num_classes: usize,
    seed: u64,
}

impl From<ReportedModel> for ModelRecord {
    fn from(model: ReportedModel) -> Self {
        let arch = model.name();
        match model {
            ReportedModel::Zoo(spec) => ModelRecord {
                arch,
                input: spec.input,
                num_classes: spec.num_classes,
                seed: spec.seed,
            },
            ReportedModel::Onnx {
                input, num_classes, ..
            } => ModelRecord {
                arch,
                input,
                num_classes,
                seed: 0,
            },
        }
    }
}

impl TryFrom<ModelRecord> for ReportedModel {
    type Error = String;

    fn try_from(record: ModelRecord) -> Result<Self, String> {
        if let Some(name) = record.arch.strip_prefix(ONNX_PREFIX) {
            return Ok(ReportedModel::Onnx {
                name: name.to_string(),
                input: record.input,
                num_classes: record.num_classes,
            });
        }
        let arch: Arch = record.arch.parse().map_err(|e| format!("model: {e}"))?;
        Ok(ReportedModel::Zoo(ModelSpec {
            arch,
            input: record.input,
            num_classes: record.num_classes,
            seed: record.seed,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_round_trip_through_one_record_and_an_unknown_arch_lists_the_zoo() {
        let zoo = ReportedModel::Zoo(ModelSpec {
            arch: Arch::CnnS,
            input: (3, 32, 32),
            num_classes: 43,
            seed: 7,
        });
        let onnx = ReportedModel::Onnx {
            name: "resnet".into(),
            input: (1, 28, 28),
            num_classes: 2,
        };
        let zoo_json = serde_json::to_string(&zoo).unwrap();
        assert_eq!(
            zoo_json,
            r#"{"arch":"cnn-s","input":[3,32,32],"num_classes":43,"seed":7}"#
        );
        let onnx_json = serde_json::to_string(&onnx).unwrap();
        assert_eq!(
            onnx_json,
            r#"{"arch":"onnx:resnet","input":[1,28,28],"num_classes":2,"seed":0}"#
        );
        for (json, model) in [(zoo_json, zoo), (onnx_json, onnx)] {
            assert_eq!(serde_json::from_str::<ReportedModel>(&json).unwrap(), model);
        }
        let err = serde_json::from_str::<ReportedModel>(
            r#"{"arch":"resnet","input":[3,32,32],"num_classes":43,"seed":7}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("unknown model `resnet`") && err.contains("cnn-s"),
            "{err}"
        );
    }
}
