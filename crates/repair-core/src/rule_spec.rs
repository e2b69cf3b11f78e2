//! When-to-repair rules as written on the command line and in experiment files
//! (`converged`, `best-repaired:3:0.002`, `significant:3:1`, `saturated:2:0.002:0.5`,
//! `smoothed:3:1`):
//! the grammar and the range of every parameter, checked when the text is read, so
//! that no rule with a meaningless parameter reaches a training loop. The rules
//! themselves live in `repair-readiness`.

use serde::{Deserialize, Serialize};

/// A rule's parameters, each in its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleParams {
    /// Stop `patience` epochs after the validation loss last improved.
    Converged {
        /// Epochs without improvement (≥ 1).
        patience: usize,
    },
    /// Stop when the repaired selection Qual has not gained `min_gain` in `patience`
    /// epochs.
    BestRepaired {
        /// Epochs without a gain (≥ 1).
        patience: usize,
        /// The smallest gain that counts (≥ 0).
        min_gain: f64,
    },
    /// As `BestRepaired` on a moving average of `window` epochs on each side.
    Smoothed {
        /// Epochs without a gain (≥ 1).
        patience: usize,
        /// Neighbours on each side (≥ 1).
        window: usize,
    },
    /// As `BestRepaired`, where a gain counts only when it exceeds `z` standard errors
    /// of the difference (from the selection set's image counts).
    Significant {
        /// Epochs without a significant gain (≥ 1).
        patience: usize,
        /// Standard errors a gain must exceed (≥ 0).
        z: f64,
    },
    /// As `BestRepaired`, and also stop once the localised sites stop moving (their
    /// Jaccard similarity from epoch to epoch reaches `jaccard`).
    Saturated {
        /// Epochs without a gain (≥ 1).
        patience: usize,
        /// The smallest gain that counts (≥ 0).
        min_gain: f64,
        /// The similarity at which the sites count as settled (0–1).
        jaccard: f64,
    },
}

/// A rule as written, checked when read. It keeps its text, so files and hashes show
/// it as the user wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleSpec {
    text: String,
    params: RuleParams,
}

/// A rule's text that is not a rule, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{spec}`: {reason}")]
pub struct BadRule {
    /// The text as given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

impl RuleSpec {
    /// The parameters.
    pub fn params(&self) -> RuleParams {
        self.params
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for RuleSpec {
    type Err = BadRule;

    fn from_str(text: &str) -> Result<Self, BadRule> {
        parse(text)
            .map(|params| RuleSpec {
                text: text.to_string(),
                params,
            })
            .map_err(|reason| BadRule {
                spec: text.to_string(),
                reason,
            })
    }
}

/// `name[:p1[:p2…]]`, each parameter checked against its range.
fn parse(spec: &str) -> Result<RuleParams, String> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or_default();
    let numbers: Vec<&str> = parts.collect();
    let number = |k: usize, default: f64| -> Result<f64, String> {
        match numbers.get(k) {
            None => Ok(default),
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("`{text}` is not a number ≥ 0")),
        }
    };
    // Patience and window: 0 would stop at the first epoch, before any comparison.
    let count = |k: usize, default: usize, what: &str| -> Result<usize, String> {
        let v = number(k, default as f64)?;
        if v.fract() != 0.0 || v < 1.0 {
            return Err(format!("the {what} must be a whole number ≥ 1"));
        }
        Ok(v as usize)
    };
    let fraction = |k: usize, default: f64, what: &str| -> Result<f64, String> {
        let v = number(k, default)?;
        if v > 1.0 {
            return Err(format!("the {what} is a similarity from 0 to 1, not {v}"));
        }
        Ok(v)
    };
    let most = |n: usize| {
        if numbers.len() > n {
            Err(format!("`{name}` takes at most {n} parameters"))
        } else {
            Ok(())
        }
    };
    Ok(match name {
        "converged" => {
            most(1)?;
            RuleParams::Converged {
                patience: count(0, 5, "patience")?,
            }
        }
        "best-repaired" => {
            most(2)?;
            RuleParams::BestRepaired {
                patience: count(0, 3, "patience")?,
                min_gain: number(1, 0.0)?,
            }
        }
        "smoothed" => {
            most(2)?;
            RuleParams::Smoothed {
                patience: count(0, 3, "patience")?,
                window: count(1, 1, "window")?,
            }
        }
        "significant" => {
            most(2)?;
            RuleParams::Significant {
                patience: count(0, 3, "patience")?,
                z: number(1, 1.0)?,
            }
        }
        "saturated" => {
            most(3)?;
            RuleParams::Saturated {
                patience: count(0, 2, "patience")?,
                min_gain: number(1, 0.002)?,
                jaccard: fraction(2, 0.5, "Jaccard threshold")?,
            }
        }
        "oracle" => {
            return Err(
                "`oracle` chooses on the test set: it is part of the evaluation, not a rule \
                 to stop training with"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "unknown rule `{other}` (converged, best-repaired, significant, saturated, \
                 smoothed)"
            ))
        }
    })
}

impl TryFrom<String> for RuleSpec {
    type Error = BadRule;

    fn try_from(text: String) -> Result<Self, BadRule> {
        text.parse()
    }
}

impl From<RuleSpec> for String {
    fn from(spec: RuleSpec) -> String {
        spec.text
    }
}

impl std::fmt::Display for RuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_with_their_defaults_and_every_parameter_outside_its_range_is_named() {
        let p = |s: &str| s.parse::<RuleSpec>().map(|r| r.params());
        assert_eq!(p("converged"), Ok(RuleParams::Converged { patience: 5 }));
        assert_eq!(
            p("saturated:3:0.01:1"),
            Ok(RuleParams::Saturated {
                patience: 3,
                min_gain: 0.01,
                jaccard: 1.0
            })
        );
        assert_eq!(
            p("significant"),
            Ok(RuleParams::Significant {
                patience: 3,
                z: 1.0
            })
        );
        assert_eq!(
            "smoothed:4:2".parse::<RuleSpec>().unwrap().to_string(),
            "smoothed:4:2"
        );
        for (bad, says) in [
            ("oracle", "test set"),
            ("newest", "unknown rule"),
            ("converged:x", "not a number"),
            ("converged:1.5", "whole number"),
            ("best-repaired:0", "the patience must be a whole number ≥ 1"),
            ("smoothed:3:0", "the window must be a whole number ≥ 1"),
            ("significant:2:-1", "not a number ≥ 0"),
            ("significant:2:1:3", "at most 2"),
            ("converged:5:1", "at most 1"),
            ("best-repaired:-1", "not a number ≥ 0"),
            ("best-repaired:2:inf", "not a number ≥ 0"),
            (
                "saturated:2:0.002:1.5",
                "Jaccard threshold is a similarity from 0 to 1, not 1.5",
            ),
        ] {
            let e = bad.parse::<RuleSpec>().unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("rule `{bad}`: ")) && e.contains(says),
                "{bad}: {e}"
            );
        }
    }
}
