//! `xtask repair --problem FILE`: the repair of a problem file — a last
//! layer with its negatives and positives from any framework
//! ([`repair_method::read_problem`] gives the schema) — by the configured method, with
//! the files of a checkpoint's repair: the repaired layer (`repaired.safetensors`, in
//! the file's own layout), `weights.csv`, `history.csv`, `localisation.csv`, the Pareto
//! figure and `repair.json`. The Python package's `repair()` runs the same [`solve`]
//! on the same inputs, so the two agree (tested in `python/tests`).

use std::path::{Path, PathBuf};

use repair_adaptive::AdaptiveStop;
use repair_core::{Layout, Progress, RepairRequest, Site};
use repair_data::write_atomic;
use repair_method::{
    layer_bytes, read_problem, solve, RepairOutcome, RepairScore, RepairSettings, Strategy, Timings,
};
use serde::{Deserialize, Serialize};

use crate::error::{file_error, Result};
use crate::repair_unit::settings_of;
use crate::unit_files::write_repair_files;

/// The repaired layer's file in the output folder.
pub const REPAIRED_LAYER: &str = "repaired.safetensors";

/// Where the searched sites came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SitesFrom {
    /// The problem file's `sites`.
    File,
    /// The configured localiser (the file has none, or `relocalise`).
    Localiser,
}

/// `repair.json` of a problem's repair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemReport {
    /// The problem's safetensors file.
    pub problem: PathBuf,
    /// The layout of the file's layer (and of `repaired.safetensors`).
    pub layout: Layout,
    /// Penultimate width D.
    pub width: usize,
    /// Classes C.
    pub classes: usize,
    /// Negatives (I_neg).
    pub negatives: usize,
    /// Positives (I_pos).
    pub positives: usize,
    /// The method and its settings (`class` and the positives' rule are unused: the
    /// file gives the sets).
    pub settings: RepairSettings,
    /// Where the sites came from.
    pub sites_from: SitesFrom,
    /// The weights searched.
    pub sites: Vec<Site>,
    /// How the repaired layer scores against the given one on the file's sets.
    #[serde(flatten)]
    pub score: RepairScore,
    /// Why an adaptive repair ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive_stop: Option<AdaptiveStop>,
    /// FL and search times, ms.
    pub timings: Timings,
}

/// Repairs the problem file at `path` as `request` asks (its class and seeds aside: the
/// file gives the sets) into the folder `out`; with `relocalise`, the file's sites are
/// ignored and the localiser finds them.
pub fn repair_problem_file(
    path: &Path,
    request: &RepairRequest,
    relocalise: bool,
    out: &Path,
    progress: &dyn Progress,
) -> Result<ProblemReport> {
    let settings = &settings_of(request)?;
    let file = read_problem(path)?;
    let at = |problem: String| file_error(&file.path, problem);
    let sites = if relocalise { None } else { file.sites.clone() };
    let adaptive = matches!(settings.strategy, Strategy::Adaptive { .. });
    if adaptive && sites.is_some() {
        return Err(at(
            "the file names `sites`, but the adaptive method localises its own at each phase: \
             pass --relocalise to ignore them"
                .into(),
        ));
    }
    let history = matches!(settings.strategy, Strategy::History { .. });
    if history && file.earlier.is_none() {
        return Err(at(
            "the history method needs an earlier layer: add `earlier.kernel` (or \
             `earlier.weight`) and `earlier.bias` to the file"
                .into(),
        ));
    }
    if !history && file.earlier.is_some() {
        return Err(at(
            "the file has an earlier layer, which only the history method uses: add \
             --method history"
                .into(),
        ));
    }
    let sites_from = if sites.is_some() {
        SitesFrom::File
    } else {
        SitesFrom::Localiser
    };
    let solved = solve(
        &file.layer,
        file.sets.clone(),
        sites,
        settings,
        file.earlier.as_ref(),
        progress,
    )
    .map_err(|e| at(e.to_string()))?;
    let report = ProblemReport {
        problem: file.path.clone(),
        layout: file.layout,
        width: file.layer.width,
        classes: file.layer.classes,
        negatives: file.sets.negatives.len(),
        positives: file.sets.positives.len(),
        settings: settings.clone(),
        sites_from,
        sites: solved.sites.clone(),
        score: solved.score,
        adaptive_stop: solved.adaptive_stop,
        timings: Timings {
            sets_ms: 0.0,
            fl_ms: solved.fl_ms,
            search_ms: solved.search_ms,
        },
    };
    let (repaired, outcome) = RepairOutcome::of_problem(solved);
    std::fs::create_dir_all(out).map_err(|e| file_error(out, e))?;
    let layer_path = out.join(REPAIRED_LAYER);
    let bytes = layer_bytes(&repaired, file.layout).map_err(|e| file_error(&layer_path, e))?;
    write_atomic(&layer_path, &bytes)?;
    // The figure's title names the negatives' first class (the repaired one).
    let class = file.sets.negatives.labels.first().copied().unwrap_or(0);
    write_repair_files(out, class, &outcome, &report)?;
    Ok(report)
}
