//! The localiser seam and its three implementations: the study's Arachne v1, and the
//! gradient-only and random baselines the Arachne paper compares against.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use repair_core::{CrossEntropy, DenseLayerView, LabelledActivations, Site};
use serde::{Deserialize, Serialize};

use crate::error::FlError;
use crate::gradient::gradient_loss;
use crate::pareto::pareto_front;

/// Finds the last-layer weights to repair.
pub trait FaultLocaliser {
    /// A short name for results (`arachne`, `gradient`, `random`).
    fn name(&self) -> &'static str;

    /// The sites to search, with the scores that chose them.
    fn localise(
        &self,
        layer: &DenseLayerView<'_>,
        negatives: &LabelledActivations,
        positives: &LabelledActivations,
    ) -> Result<Localisation, FlError>;
}

/// A weight with its two FL scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The weight.
    pub site: Site,
    /// GL(i, j) = |Σ ∂CE/∂W_ij| over the negatives.
    pub gradient_loss: f64,
    /// FI(i, j) = |ā_i · W_ij|.
    pub forward_impact: f64,
    /// Whether it was selected.
    pub selected: bool,
}

/// What a localiser found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Localisation {
    /// The selected sites, in selection order.
    pub sites: Vec<Site>,
    /// The weights considered (Arachne: the N_g pre-filtered ones), selected or not —
    /// what the study's `pareto_front.png` plots.
    pub candidates: Vec<Candidate>,
}

/// Which activations the forward impact uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactActivation {
    /// The mean over all negatives (the study's code, ER arachne.py 224).
    Mean,
    /// The first negative's (the eAI-Repair-Toolkit, TK arachne.py 268).
    First,
}

/// Arachne v1 as the study ran it (its `repair/arachne/arachne.py`, FL): GL for all weights, keep the
/// top N_g = min(factor · |negatives|, |W|) by GL (stable sort, j outer, i inner),
/// FI for those, then every candidate on the Pareto front of (GL, FI).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Arachne {
    /// N_g per negative input (the study: 20).
    pub gradient_factor: usize,
    /// Activations of the forward impact.
    pub activation: ImpactActivation,
    /// The cross-entropy of the gradient loss (the study's Keras: unclipped).
    #[serde(default)]
    pub loss: CrossEntropy,
}

impl Default for Arachne {
    fn default() -> Self {
        Arachne {
            gradient_factor: 20,
            activation: ImpactActivation::Mean,
            loss: CrossEntropy::Logits,
        }
    }
}

/// The top `k` weights by gradient loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradientTopK {
    /// Number of sites.
    pub k: usize,
    /// The cross-entropy of the gradient loss (the study's Keras: unclipped).
    #[serde(default)]
    pub loss: CrossEntropy,
}

/// `k` weights drawn uniformly without replacement, seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomSites {
    /// Number of sites.
    pub k: usize,
    /// Seed of the draw.
    pub seed: u64,
    /// The cross-entropy of the gradient loss reported for the candidates.
    #[serde(default)]
    pub loss: CrossEntropy,
}

/// Checks the inputs and computes GL for every weight (`width × classes`).
pub(crate) fn checked_gradient(
    layer: &DenseLayerView<'_>,
    negatives: &LabelledActivations,
    positives: &LabelledActivations,
    loss: CrossEntropy,
) -> Result<Vec<f64>, FlError> {
    layer.check("negatives", negatives)?;
    layer.check("positives", positives)?;
    if negatives.is_empty() {
        return Err(FlError::NoNegatives);
    }
    Ok(gradient_loss(layer, negatives, loss))
}

/// The weights ranked by GL, descending; the sort is stable over the study's
/// iteration order (j outer, i inner), which decides ties.
pub(crate) fn ranked(layer: &DenseLayerView<'_>, gl: &[f64]) -> Vec<(Site, f64)> {
    let (d, c) = (layer.width, layer.classes);
    let mut all: Vec<(Site, f64)> = (0..c)
        .flat_map(|j| (0..d).map(move |i| Site { i, j }))
        .map(|s| (s, gl[s.i * c + s.j]))
        .collect();
    all.sort_by(|x, y| y.1.total_cmp(&x.1));
    all
}

/// ā: the activations the forward impact multiplies with.
fn impact_activations(
    layer: &DenseLayerView<'_>,
    negatives: &LabelledActivations,
    how: ImpactActivation,
) -> Vec<f64> {
    let d = layer.width;
    match how {
        ImpactActivation::First => negatives.activations[..d]
            .iter()
            .map(|&a| f64::from(a))
            .collect(),
        ImpactActivation::Mean => {
            let mut mean = vec![0.0; d];
            for row in negatives.activations.chunks(d) {
                for (m, &a) in mean.iter_mut().zip(row) {
                    *m += f64::from(a);
                }
            }
            mean.iter_mut().for_each(|m| *m /= negatives.len() as f64);
            mean
        }
    }
}

pub(crate) fn candidates(
    layer: &DenseLayerView<'_>,
    negatives: &LabelledActivations,
    how: ImpactActivation,
    ranked: &[(Site, f64)],
) -> Vec<Candidate> {
    let a = impact_activations(layer, negatives, how);
    ranked
        .iter()
        .map(|&(site, gl)| Candidate {
            site,
            gradient_loss: gl,
            forward_impact: (a[site.i] * f64::from(layer.kernel[site.i * layer.classes + site.j]))
                .abs(),
            selected: false,
        })
        .collect()
}

/// A localisation that selects every one of `chosen` (the baselines).
pub(crate) fn select_all(
    layer: &DenseLayerView<'_>,
    negatives: &LabelledActivations,
    chosen: &[(Site, f64)],
) -> Localisation {
    let mut candidates = candidates(layer, negatives, ImpactActivation::Mean, chosen);
    candidates.iter_mut().for_each(|c| c.selected = true);
    Localisation {
        sites: chosen.iter().map(|c| c.0).collect(),
        candidates,
    }
}

pub(crate) fn at_least_one(k: usize) -> Result<usize, FlError> {
    match k {
        0 => Err(FlError::Config("k must be at least 1".into())),
        k => Ok(k),
    }
}

impl FaultLocaliser for Arachne {
    fn name(&self) -> &'static str {
        "arachne"
    }

    fn localise(
        &self,
        layer: &DenseLayerView<'_>,
        negatives: &LabelledActivations,
        positives: &LabelledActivations,
    ) -> Result<Localisation, FlError> {
        if self.gradient_factor == 0 {
            return Err(FlError::Config("gradient_factor must be at least 1".into()));
        }
        let gl = checked_gradient(layer, negatives, positives, self.loss)?;
        let ranked = ranked(layer, &gl);
        let n_g = (self.gradient_factor * negatives.len()).min(ranked.len());
        let mut candidates = candidates(layer, negatives, self.activation, &ranked[..n_g]);
        let points: Vec<(f64, f64)> = candidates
            .iter()
            .map(|c| (c.gradient_loss, c.forward_impact))
            .collect();
        for (c, on) in candidates.iter_mut().zip(pareto_front(&points)) {
            c.selected = on;
        }
        Ok(Localisation {
            sites: candidates
                .iter()
                .filter(|c| c.selected)
                .map(|c| c.site)
                .collect(),
            candidates,
        })
    }
}

impl FaultLocaliser for GradientTopK {
    fn name(&self) -> &'static str {
        "gradient"
    }

    fn localise(
        &self,
        layer: &DenseLayerView<'_>,
        negatives: &LabelledActivations,
        positives: &LabelledActivations,
    ) -> Result<Localisation, FlError> {
        let k = at_least_one(self.k)?;
        let gl = checked_gradient(layer, negatives, positives, self.loss)?;
        let ranked = ranked(layer, &gl);
        Ok(select_all(layer, negatives, &ranked[..k.min(ranked.len())]))
    }
}

impl FaultLocaliser for RandomSites {
    fn name(&self) -> &'static str {
        "random"
    }

    fn localise(
        &self,
        layer: &DenseLayerView<'_>,
        negatives: &LabelledActivations,
        positives: &LabelledActivations,
    ) -> Result<Localisation, FlError> {
        let k = at_least_one(self.k)?;
        let gl = checked_gradient(layer, negatives, positives, self.loss)?;
        let (d, c) = (layer.width, layer.classes);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let chosen: Vec<(Site, f64)> = sample(&mut rng, d * c, k.min(d * c))
            .into_iter()
            .map(|x| (Site { i: x / c, j: x % c }, gl[x]))
            .collect();
        Ok(select_all(layer, negatives, &chosen))
    }
}
