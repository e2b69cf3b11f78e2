//! `early_repair._core`: the repair core on numpy arrays. The Python
//! package (`early_repair/__init__.py`) turns what users hand it into C-contiguous
//! `float32` and `int64` arrays and calls these functions; here every shape, label and
//! value is checked against the argument it came from, so a wrong call is a
//! `ValueError` that names it, never a crash.
//!
//! The repair is [`repair_method::solve`], the same function `xtask repair --problem`
//! calls: the same inputs and seed give the same layer. The search runs with the GIL
//! released.

use std::path::{Path, PathBuf};

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use repair_core::{CrossEntropy, DenseLayer, LabelledActivations, NoProgress, Site};
use repair_core::{IncompletePolicy, TiePolicy};
use repair_core::{Layout, LocaliserName, MethodName, RepairRequest, Search};
use repair_fitness::{FitnessDetail, RepairProblem, SyntheticSpec};
use repair_method::{
    layer_bytes, problem_bytes, read_problem, solve, RepairSettings, Sets, Strategy,
};
use repair_metrics::CheckpointQual;

fn invalid(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(message.to_string())
}

/// The activations of `name`, C-contiguous f32 of shape (rows, width), all finite.
fn rows_of(name: &str, a: &PyReadonlyArray2<'_, f32>) -> PyResult<(usize, usize, Vec<f32>)> {
    let shape = a.shape();
    let values = a
        .as_slice()
        .map_err(|_| invalid(format!("{name}: not a contiguous array")))?;
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "{name}[{}, {}] is {} (not a finite number)",
            at / shape[1].max(1),
            at % shape[1].max(1),
            values[at]
        )));
    }
    Ok((shape[0], shape[1], values.to_vec()))
}

/// Labels `name` for `rows` rows of a layer of `classes` classes.
fn labels_of(
    name: &str,
    y: &PyReadonlyArray1<'_, i64>,
    rows: usize,
    rows_name: &str,
    classes: usize,
) -> PyResult<Vec<u32>> {
    let values = y
        .as_slice()
        .map_err(|_| invalid(format!("{name}: not a contiguous array")))?;
    if values.len() != rows {
        return Err(invalid(format!(
            "{name}: {} labels for the {rows} rows of {rows_name}",
            values.len()
        )));
    }
    if let Some(at) = values
        .iter()
        .position(|&l| l < 0 || l as u64 >= classes as u64)
    {
        return Err(invalid(format!(
            "{name}[{at}] = {}, but the layer has {classes} classes (0..={})",
            values[at],
            classes.saturating_sub(1)
        )));
    }
    Ok(values.iter().map(|&l| l as u32).collect())
}

/// The layer of `weight` in `layout` and `bias`, for activations of `width` (from
/// `width_from`); a shape that does not fit names the argument and both shapes.
fn layer_of(
    (weight_name, weight): (&str, &PyReadonlyArray2<'_, f32>),
    (bias_name, bias): (&str, &PyReadonlyArray1<'_, f32>),
    layout: Layout,
    width: usize,
    width_from: &str,
) -> PyResult<DenseLayer> {
    let got = [weight.shape()[0], weight.shape()[1]];
    let classes = match layout {
        Layout::Keras => got[1],
        Layout::Torch => got[0],
    };
    let want = layout.shape(width, classes);
    if got != want {
        let (named, other) = match layout {
            Layout::Keras => ("'keras' wants (width, classes)", "'torch'"),
            Layout::Torch => ("'torch' wants (classes, width)", "'keras'"),
        };
        let hint = if got[0] != got[1] && [got[1], got[0]] == layout.shape(width, got[0]) {
            format!("; it is in the {other} layout: pass layout={other}")
        } else {
            String::new()
        };
        let wanted = match layout {
            Layout::Keras => format!("({width}, classes)"),
            Layout::Torch => format!("(classes, {width})"),
        };
        return Err(invalid(format!(
            "{weight_name}: shape ({}, {}), but layout={named} = {wanted} for the width {width} of {width_from}{hint}",
            got[0], got[1]
        )));
    }
    let bias_values = bias
        .as_slice()
        .map_err(|_| invalid(format!("{bias_name}: not a contiguous array")))?;
    if bias_values.len() != classes {
        return Err(invalid(format!(
            "{bias_name}: shape ({},), but {weight_name} of shape ({}, {}) has {classes} classes",
            bias_values.len(),
            got[0],
            got[1]
        )));
    }
    let matrix = weight
        .as_slice()
        .map_err(|_| invalid(format!("{weight_name}: not a contiguous array")))?;
    layout
        .layer(matrix, got, bias_values.to_vec())
        .map_err(|e| invalid(format!("{weight_name}: {e}")))
}

/// The six arrays of a problem, checked against each other: the layer (from `weight`
/// in `layout` and `bias`, for the width of `act_neg`) and the two sets.
#[allow(clippy::too_many_arguments)]
fn problem_of(
    act_neg: &PyReadonlyArray2<'_, f32>,
    y_neg: &PyReadonlyArray1<'_, i64>,
    act_pos: &PyReadonlyArray2<'_, f32>,
    y_pos: &PyReadonlyArray1<'_, i64>,
    weight: &PyReadonlyArray2<'_, f32>,
    bias: &PyReadonlyArray1<'_, f32>,
    layout: Layout,
) -> PyResult<(DenseLayer, Sets)> {
    let (n, width, neg) = rows_of("act_neg", act_neg)?;
    let (p, pos_width, pos) = rows_of("act_pos", act_pos)?;
    if pos_width != width && p > 0 {
        return Err(invalid(format!(
            "act_pos: width {pos_width}, but act_neg has width {width}"
        )));
    }
    let layer = layer_of(("weight", weight), ("bias", bias), layout, width, "act_neg")?;
    let sets = Sets {
        negatives: LabelledActivations {
            activations: neg,
            labels: labels_of("y_neg", y_neg, n, "act_neg", layer.classes)?,
        },
        positives: LabelledActivations {
            activations: pos,
            labels: labels_of("y_pos", y_pos, p, "act_pos", layer.classes)?,
        },
    };
    Ok((layer, sets))
}

/// A problem as a dict of numpy arrays: `act_neg, y_neg, act_pos, y_pos, weight` (in
/// `layout`), `bias`, `sites` (`None` when there are none).
fn problem_dict<'py>(
    py: Python<'py>,
    layer: &DenseLayer,
    layout: Layout,
    sets: &Sets,
    sites: Option<&[Site]>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, set) in [("neg", &sets.negatives), ("pos", &sets.positives)] {
        let a = Array2::from_shape_vec((set.len(), layer.width), set.activations.clone())
            .map_err(invalid)?;
        d.set_item(format!("act_{name}"), a.into_pyarray(py))?;
        let y: Vec<i64> = set.labels.iter().map(|&l| i64::from(l)).collect();
        d.set_item(format!("y_{name}"), y.into_pyarray(py))?;
    }
    d.set_item("weight", matrix_array(py, layer, layout)?)?;
    d.set_item("bias", layer.bias.clone().into_pyarray(py))?;
    match sites {
        Some(sites) => d.set_item("sites", sites_array(py, sites)?)?,
        None => d.set_item("sites", py.None())?,
    }
    Ok(d)
}

/// `sites` (K, 2) of (i, j), or `None`.
fn sites_of(
    sites: Option<PyReadonlyArray2<'_, i64>>,
    layer: &DenseLayer,
) -> PyResult<Option<Vec<Site>>> {
    let Some(sites) = sites else {
        return Ok(None);
    };
    if sites.shape()[1] != 2 {
        return Err(invalid(format!(
            "sites: shape ({}, {}), want (K, 2) of (i, j)",
            sites.shape()[0],
            sites.shape()[1]
        )));
    }
    let values = sites
        .as_slice()
        .map_err(|_| invalid("sites: not a contiguous array"))?;
    let mut out = Vec::with_capacity(values.len() / 2);
    for (k, pair) in values.chunks_exact(2).enumerate() {
        let (i, j) = (pair[0], pair[1]);
        if i < 0 || j < 0 || i as u64 >= layer.width as u64 || j as u64 >= layer.classes as u64 {
            return Err(invalid(format!(
                "sites[{k}] = ({i}, {j}) is outside the {} × {} layer",
                layer.width, layer.classes
            )));
        }
        out.push(Site {
            i: i as usize,
            j: j as usize,
        });
    }
    Ok(Some(out))
}

fn layout_named(layout: &str) -> PyResult<Layout> {
    layout.parse::<Layout>().map_err(invalid)
}

/// The settings of `method` (through the one mapping, `RepairSettings::requested`),
/// `base` giving the adaptive and history settings.
#[allow(clippy::too_many_arguments)]
fn settings_of(
    method: &str,
    localiser: &str,
    n_sites: usize,
    cross_entropy: &str,
    search: &str,
    seed: u64,
    search_seed: Option<u64>,
    particles: usize,
    iterations: usize,
    base: RepairRequest,
) -> PyResult<RepairSettings> {
    let loss = cross_entropy
        .parse::<CrossEntropy>()
        .map_err(|e| invalid(format!("cross_entropy={cross_entropy:?}: {e}")))?;
    for (name, value) in [
        ("particles", particles),
        ("iterations", iterations),
        ("n_sites", n_sites),
    ] {
        if value == 0 {
            return Err(invalid(format!("{name}=0: at least 1")));
        }
    }
    let method = method.parse::<MethodName>().map_err(invalid)?;
    let request = RepairRequest {
        method,
        localiser: localiser.parse::<LocaliserName>().map_err(invalid)?,
        sites: n_sites,
        history_sites: n_sites,
        cross_entropy: loss,
        search: search.parse::<Search>().map_err(invalid)?,
        particles,
        iterations,
        seed,
        search_seed,
        ..base
    };
    RepairSettings::requested(&request)
        .map_err(|e| invalid(format!("method={:?}: {e}", method.as_str())))
}

fn sites_array<'py>(py: Python<'py>, sites: &[Site]) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let flat: Vec<i64> = sites
        .iter()
        .flat_map(|s| [s.i as i64, s.j as i64])
        .collect();
    let array = Array2::from_shape_vec((sites.len(), 2), flat).map_err(invalid)?;
    Ok(array.into_pyarray(py))
}

fn matrix_array<'py>(
    py: Python<'py>,
    layer: &DenseLayer,
    layout: Layout,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let [rows, columns] = layout.shape(layer.width, layer.classes);
    let array = Array2::from_shape_vec((rows, columns), layout.matrix(layer)).map_err(invalid)?;
    Ok(array.into_pyarray(py))
}

fn fitness_dict<'py>(py: Python<'py>, f: &FitnessDetail) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("fitness", f.fitness)?;
    d.set_item("n_patched", f.n_patched)?;
    d.set_item("n_intact", f.n_intact)?;
    d.set_item("loss_neg", f.loss_neg)?;
    d.set_item("loss_pos", f.loss_pos)?;
    Ok(d)
}

/// FL alone: the sites `localiser` picks for the negatives (positives are checked but
/// the study's localisers do not use them).
#[pyfunction]
#[pyo3(signature = (act_neg, y_neg, weight, bias, *, layout="keras", localiser="arachne", n_sites=repair_core::defaults::BASELINE_SITES, cross_entropy="logits", seed=0))]
#[allow(clippy::too_many_arguments)]
fn localise<'py>(
    py: Python<'py>,
    act_neg: PyReadonlyArray2<'py, f32>,
    y_neg: PyReadonlyArray1<'py, i64>,
    weight: PyReadonlyArray2<'py, f32>,
    bias: PyReadonlyArray1<'py, f32>,
    layout: &str,
    localiser: &str,
    n_sites: usize,
    cross_entropy: &str,
    seed: u64,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let (n, width, activations) = rows_of("act_neg", &act_neg)?;
    let layer = layer_of(
        ("weight", &weight),
        ("bias", &bias),
        layout_named(layout)?,
        width,
        "act_neg",
    )?;
    let labels = labels_of("y_neg", &y_neg, n, "act_neg", layer.classes)?;
    if n == 0 {
        return Err(invalid("act_neg: no rows: nothing to localise"));
    }
    let settings = settings_of(
        "arachne",
        localiser,
        n_sites,
        cross_entropy,
        "arachne",
        seed,
        None,
        1,
        1,
        RepairRequest::study(0, seed),
    )?;
    let negatives = LabelledActivations {
        activations,
        labels,
    };
    let none = LabelledActivations {
        activations: Vec::new(),
        labels: Vec::new(),
    };
    let found = py
        .detach(|| {
            settings
                .localiser
                .localiser(seed)
                .localise(&layer.view(), &negatives, &none)
        })
        .map_err(invalid)?;
    sites_array(py, &found.sites)
}

/// One repair of a last layer: FL (unless `sites` are given) and the method's search;
/// a dict of the repaired weight and bias (in `layout`), sites, fitness before and
/// after, whether the original was kept (the search did not beat it; unless
/// `keep_worse`), history, RR and BR on the given sets, evaluations and times.
#[pyfunction]
#[pyo3(signature = (act_neg, y_neg, act_pos, y_pos, weight, bias, *, sites=None, layout="keras", method="arachne", seed=0, search_seed=None, particles=repair_core::defaults::ARACHNE_PARTICLES, iterations=repair_core::defaults::ARACHNE_ITERATIONS, localiser="arachne", n_sites=repair_core::defaults::BASELINE_SITES, cross_entropy="logits", search="arachne", window=repair_core::defaults::STAGNATION_WINDOW, threshold=repair_core::defaults::STAGNATION_THRESHOLD, max_phases=repair_core::defaults::MAX_PHASES, penalty=repair_core::defaults::HISTORY_PENALTY, earlier_weight=None, earlier_bias=None, keep_worse=false))]
#[allow(clippy::too_many_arguments)]
fn repair<'py>(
    py: Python<'py>,
    act_neg: PyReadonlyArray2<'py, f32>,
    y_neg: PyReadonlyArray1<'py, i64>,
    act_pos: PyReadonlyArray2<'py, f32>,
    y_pos: PyReadonlyArray1<'py, i64>,
    weight: PyReadonlyArray2<'py, f32>,
    bias: PyReadonlyArray1<'py, f32>,
    sites: Option<PyReadonlyArray2<'py, i64>>,
    layout: &str,
    method: &str,
    seed: u64,
    search_seed: Option<u64>,
    particles: usize,
    iterations: usize,
    localiser: &str,
    n_sites: usize,
    cross_entropy: &str,
    search: &str,
    window: usize,
    threshold: f64,
    max_phases: usize,
    penalty: f64,
    earlier_weight: Option<PyReadonlyArray2<'py, f32>>,
    earlier_bias: Option<PyReadonlyArray1<'py, f32>>,
    keep_worse: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let layout = layout_named(layout)?;
    let (layer, sets) = problem_of(&act_neg, &y_neg, &act_pos, &y_pos, &weight, &bias, layout)?;
    let n = sets.negatives.len();
    let width = layer.width;
    if n == 0 {
        return Err(invalid("act_neg: no rows: nothing to repair"));
    }
    let sites = sites_of(sites, &layer)?;
    let non_negative = |x: f64| x >= 0.0; // false for NaN
    if window == 0 || max_phases == 0 || !non_negative(threshold) || !non_negative(penalty) {
        return Err(invalid(format!(
            "window={window}, max_phases={max_phases} must be ≥ 1 and threshold={threshold}, penalty={penalty} ≥ 0"
        )));
    }
    let options = RepairRequest {
        window,
        threshold,
        max_phases,
        penalty,
        keep_worse,
        ..RepairRequest::study(0, seed)
    };
    let settings = settings_of(
        method,
        localiser,
        n_sites,
        cross_entropy,
        search,
        seed,
        search_seed,
        particles,
        iterations,
        options,
    )?;
    let earlier = match (earlier_weight, earlier_bias) {
        (None, None) => None,
        (Some(w), Some(b)) => Some(layer_of(
            ("earlier_weight", &w),
            ("earlier_bias", &b),
            layout,
            width,
            "act_neg",
        )?),
        _ => return Err(invalid("earlier_weight and earlier_bias come together")),
    };
    let history = matches!(settings.strategy, Strategy::History { .. });
    if history != earlier.is_some() {
        return Err(invalid(if history {
            "method='history' needs earlier_weight and earlier_bias: the last layer of an earlier checkpoint"
        } else {
            "earlier_weight is the history method's: pass method='history'"
        }));
    }
    let solved = py
        .detach(|| {
            solve(
                &layer,
                sets,
                sites,
                &settings,
                earlier.as_ref(),
                &NoProgress,
            )
        })
        .map_err(invalid)?;
    let out = PyDict::new(py);
    out.set_item("weight", matrix_array(py, &solved.repaired, layout)?)?;
    out.set_item("bias", solved.repaired.bias.clone().into_pyarray(py))?;
    out.set_item("sites", sites_array(py, &solved.sites)?)?;
    out.set_item(
        "fitness_before",
        fitness_dict(py, &solved.score.fitness_before)?,
    )?;
    out.set_item(
        "fitness_after",
        fitness_dict(py, &solved.score.fitness_after)?,
    )?;
    out.set_item("kept_original", solved.score.kept_original)?;
    out.set_item("rr", solved.score.rr)?;
    out.set_item("br", solved.score.br)?;
    out.set_item("evaluations", solved.score.evaluations)?;
    out.set_item("fl_ms", solved.fl_ms)?;
    out.set_item("search_ms", solved.search_ms)?;
    out.set_item("termination", format!("{:?}", solved.score.termination))?;
    out.set_item("method", settings_method_name(&settings))?;
    let history = PyList::empty(py);
    for r in &solved.history {
        let d = PyDict::new(py);
        d.set_item("iteration", r.iteration)?;
        d.set_item("best", r.best)?;
        d.set_item("mean", r.mean)?;
        d.set_item("evaluations", r.evaluations)?;
        history.append(d)?;
    }
    out.set_item("history", history)?;
    Ok(out)
}

/// The method's name from its settings (what `repairs.csv` would say).
fn settings_method_name(settings: &RepairSettings) -> &'static str {
    match settings.strategy {
        Strategy::Adaptive { .. } => "adaptive",
        Strategy::History { .. } => "history",
        Strategy::Single if settings.search == Search::De => "de",
        Strategy::Single => "arachne",
    }
}

/// Qual_α = α · acc_cls + (1 − α) · acc_total (the study's `calc_common_accuracy`).
#[pyfunction]
fn qual(alpha: f64, acc_cls: f64, acc_total: f64) -> PyResult<f64> {
    repair_metrics::qual(alpha, acc_cls, acc_total).map_err(invalid)
}

/// The pattern of one (run, class, α) from `(epoch, qual or None)` pairs.
#[pyfunction]
#[pyo3(signature = (checkpoints, converged_epoch, ties="post", incomplete="mark"))]
fn classify_pattern<'py>(
    py: Python<'py>,
    checkpoints: Vec<(usize, Option<f64>)>,
    converged_epoch: usize,
    ties: &str,
    incomplete: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let ties: TiePolicy = ties.parse().map_err(invalid)?;
    let incomplete: IncompletePolicy = incomplete.parse().map_err(invalid)?;
    if let Some((epoch, q)) = checkpoints
        .iter()
        .find(|(_, q)| q.is_some_and(|q| !q.is_finite()))
    {
        return Err(invalid(format!(
            "epoch {epoch}: qual {q:?} is not a finite number"
        )));
    }
    let epochs: Vec<usize> = checkpoints.iter().map(|(e, _)| *e).collect();
    if let Some(twice) = repair_method::first_repeated(&epochs) {
        return Err(invalid(format!(
            "epoch {twice} is given twice: one Qual per checkpoint"
        )));
    }
    if !checkpoints.iter().any(|(e, _)| *e == converged_epoch) {
        return Err(invalid(format!(
            "converged_epoch {converged_epoch} is not among the checkpoints' epochs"
        )));
    }
    let quals: Vec<CheckpointQual> = checkpoints
        .into_iter()
        .map(|(epoch, qual)| CheckpointQual { epoch, qual })
        .collect();
    let r = repair_metrics::classify_pattern(&quals, converged_epoch, ties, incomplete);
    let d = PyDict::new(py);
    d.set_item("pattern", r.pattern.as_str())?;
    d.set_item("best_epoch", r.best_epoch)?;
    d.set_item("best_qual", r.best_qual)?;
    d.set_item("converged_qual", r.converged_qual)?;
    d.set_item("early_gain", r.early_gain)?;
    Ok(d)
}

/// Table 1 (as `table1.csv`'s text) of `repairs.csv` text, exactly as `xtask report`
/// makes it: the same columns required, the same checks, the first search of each unit.
#[pyfunction]
#[pyo3(signature = (csv_text, alphas, ties="post", incomplete="mark"))]
fn table1_csv(csv_text: &str, alphas: Vec<f64>, ties: &str, incomplete: &str) -> PyResult<String> {
    let ties: TiePolicy = ties.parse().map_err(invalid)?;
    let incomplete: IncompletePolicy = incomplete.parse().map_err(invalid)?;
    let mut rows = repair_metrics::read_repairs_from(csv_text.as_bytes(), Path::new("rows"))
        .map_err(invalid)?;
    rows.retain(|r| r.search_seed.is_none());
    if rows.is_empty() {
        return Err(invalid("rows: every row has a search_seed (repeats only)"));
    }
    // patterns() scores every row's Qual: a bad α is its error, as in the report.
    let p = repair_metrics::patterns(&rows, &alphas, ties, incomplete).map_err(invalid)?;
    let table = repair_metrics::table1(&p);
    let bytes = repair_metrics::to_csv(&table).map_err(invalid)?;
    String::from_utf8(bytes).map_err(invalid)
}

/// Writes a problem file (the format `xtask repair --problem` reads), Keras layout.
#[pyfunction]
#[pyo3(signature = (path, act_neg, y_neg, act_pos, y_pos, weight, bias, *, layout="keras", sites=None))]
#[allow(clippy::too_many_arguments)]
fn save_problem(
    path: PathBuf,
    act_neg: PyReadonlyArray2<'_, f32>,
    y_neg: PyReadonlyArray1<'_, i64>,
    act_pos: PyReadonlyArray2<'_, f32>,
    y_pos: PyReadonlyArray1<'_, i64>,
    weight: PyReadonlyArray2<'_, f32>,
    bias: PyReadonlyArray1<'_, f32>,
    layout: &str,
    sites: Option<PyReadonlyArray2<'_, i64>>,
) -> PyResult<()> {
    let layout = layout_named(layout)?;
    let (layer, sets) = problem_of(&act_neg, &y_neg, &act_pos, &y_pos, &weight, &bias, layout)?;
    let problem = RepairProblem {
        sites: sites_of(sites, &layer)?.unwrap_or_default(),
        negatives: sets.negatives,
        positives: sets.positives,
        layer,
    };
    let bytes = problem_bytes(&problem).map_err(invalid)?;
    repair_core::write_atomic(&path, &bytes)
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// Reads a problem file: a dict of its arrays (`weight` in the file's `layout`).
#[pyfunction]
fn load_problem(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyDict>> {
    let file = read_problem(&path).map_err(invalid)?;
    let d = problem_dict(
        py,
        &file.layer,
        file.layout,
        &file.sets,
        file.sites.as_deref(),
    )?;
    d.set_item("layout", format!("{:?}", file.layout).to_lowercase())?;
    Ok(d)
}

/// Writes a layer file (`kernel`/`weight` by `layout`, and `bias`), as `repaired.safetensors`.
#[pyfunction]
#[pyo3(signature = (path, weight, bias, *, layout="keras"))]
fn save_layer(
    path: PathBuf,
    weight: PyReadonlyArray2<'_, f32>,
    bias: PyReadonlyArray1<'_, f32>,
    layout: &str,
) -> PyResult<()> {
    let layout = layout_named(layout)?;
    let width = match layout {
        Layout::Keras => weight.shape()[0],
        Layout::Torch => weight.shape()[1],
    };
    let layer = layer_of(
        ("weight", &weight),
        ("bias", &bias),
        layout,
        width,
        "weight",
    )?;
    let bytes = layer_bytes(&layer, layout).map_err(invalid)?;
    repair_core::write_atomic(&path, &bytes)
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// A seeded GTSRB-like problem (the benchmarks'): a dict as `load_problem` gives.
#[pyfunction]
#[pyo3(signature = (*, width=512, classes=43, negatives=60, positives=200, sites=10, columns=3, seed=7))]
#[allow(clippy::too_many_arguments)]
fn synthetic_problem(
    py: Python<'_>,
    width: usize,
    classes: usize,
    negatives: usize,
    positives: usize,
    sites: usize,
    columns: usize,
    seed: u64,
) -> PyResult<Bound<'_, PyDict>> {
    if width == 0
        || classes < 2
        || sites == 0
        || columns == 0
        || columns > classes
        || sites > width * columns
    {
        return Err(invalid(format!(
            "width={width}, classes={classes}, sites={sites}, columns={columns}: need width ≥ 1, classes ≥ 2, 1 ≤ columns ≤ classes, 1 ≤ sites ≤ width · columns"
        )));
    }
    let p = RepairProblem::synthetic(SyntheticSpec {
        width,
        classes,
        negatives,
        positives,
        sites,
        columns,
        seed,
    });
    let sets = Sets {
        negatives: p.negatives,
        positives: p.positives,
    };
    problem_dict(py, &p.layer, Layout::Keras, &sets, Some(&p.sites))
}

/// The defaults of `repair` and `localise` (the study's search size, the baselines'
/// sites, the adaptive and history settings), from the Rust side so that the Python
/// signatures never restate them.
fn defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let options = RepairRequest::study(0, 0);
    let d = PyDict::new(py);
    d.set_item("particles", repair_core::defaults::ARACHNE_PARTICLES)?;
    d.set_item("iterations", repair_core::defaults::ARACHNE_ITERATIONS)?;
    d.set_item("n_sites", repair_core::defaults::BASELINE_SITES)?;
    d.set_item("window", options.window)?;
    d.set_item("threshold", options.threshold)?;
    d.set_item("max_phases", options.max_phases)?;
    d.set_item("penalty", options.penalty)?;
    Ok(d)
}

/// `early_repair._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(localise, m)?)?;
    m.add_function(wrap_pyfunction!(repair, m)?)?;
    m.add_function(wrap_pyfunction!(qual, m)?)?;
    m.add_function(wrap_pyfunction!(classify_pattern, m)?)?;
    m.add_function(wrap_pyfunction!(table1_csv, m)?)?;
    m.add_function(wrap_pyfunction!(save_problem, m)?)?;
    m.add_function(wrap_pyfunction!(load_problem, m)?)?;
    m.add_function(wrap_pyfunction!(save_layer, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic_problem, m)?)?;
    m.add("DEFAULTS", defaults(m.py())?)?;
    Ok(())
}
