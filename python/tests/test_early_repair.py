"""The Python package against the Rust tool: the same problem and seed give the same
weights as `cargo xtask repair --problem`, Table 1 equals `cargo xtask report`'s, bad
input raises ValueError/TypeError naming the argument, never a crash.

The comparisons with the tool need its binary: EARLY_REPAIR_XTASK, else
`target/debug/xtask` or `target/release/xtask` of the repository (`.ci/run` builds it).
"""

import csv
import json
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import early_repair as er

REPO = Path(__file__).resolve().parents[2]


def xtask() -> Path:
    given = os.environ.get("EARLY_REPAIR_XTASK")
    if given:
        assert Path(given).is_file(), f"EARLY_REPAIR_XTASK={given}: no such file"
        return Path(given)
    for profile in ("debug", "release"):
        path = REPO / "target" / profile / "xtask"
        if path.is_file():
            return path
    pytest.skip("no xtask binary: cargo build -p xtask (or set EARLY_REPAIR_XTASK)")


def small(seed: int = 3) -> dict:
    """A problem a repair can fix part of: 64 wide, 8 classes (the Rust tests' shape)."""
    return er.synthetic_problem(width=64, classes=8, negatives=30, positives=120, sites=6, columns=3, seed=seed)


def sets(p: dict) -> tuple:
    return (p["act_neg"], p["y_neg"], p["act_pos"], p["y_pos"], p["weight"], p["bias"])


def test_a_repair_improves_the_fitness_changes_only_its_sites_and_repeats_by_seed():
    p = small()
    r = er.repair(*sets(p), sites=p["sites"], seed=4, particles=30, iterations=20)
    assert r.fitness_after > r.fitness_before
    assert r.weight.shape == p["weight"].shape and r.weight.dtype == np.float32
    changed = np.argwhere(r.weight != p["weight"])
    assert {tuple(x) for x in changed} <= {tuple(x) for x in p["sites"]}
    assert np.array_equal(r.sites, p["sites"])
    assert r.evaluations == 30 * (len(r.history) + 1)
    assert [h["best"] for h in r.history] == sorted(h["best"] for h in r.history)
    assert 0.0 <= r.rr <= 1.0 and 0.0 <= r.br <= 1.0
    again = er.repair(*sets(p), sites=p["sites"], seed=4, particles=30, iterations=20)
    assert np.array_equal(again.weight, r.weight) and again.fitness_after == r.fitness_after
    other = er.repair(*sets(p), sites=p["sites"], seed=5, particles=30, iterations=20)
    assert not np.array_equal(other.weight, r.weight)


# The seed of crates/repair-method/tests/safeguard.rs: on this problem a 4 x 2 swarm ends
# below the original layer.
WORSE_SEED = 131


def test_a_search_that_ends_below_the_original_gives_the_original_back():
    p = er.synthetic_problem(width=64, classes=10, negatives=40, positives=160, sites=6, columns=3, seed=WORSE_SEED)
    kwargs = dict(sites=p["sites"], seed=WORSE_SEED, particles=4, iterations=2)
    worse = er.repair(*sets(p), keep_worse=True, **kwargs)
    assert worse.fitness_after < worse.fitness_before and not worse.kept_original
    assert not np.array_equal(worse.weight, p["weight"])
    r = er.repair(*sets(p), **kwargs)
    assert r.kept_original
    assert r.weight.tobytes() == p["weight"].tobytes() and r.bias.tobytes() == p["bias"].tobytes()
    assert (r.fitness_before, r.fitness_after) == (worse.fitness_before, worse.fitness_after)


@pytest.mark.parametrize("method", ["arachne", "de", "adaptive", "history"])
def test_no_positives_one_negative_and_one_particle_are_repaired_not_refused(method):
    """Legal but unusual: no positive to keep intact (the intact term is then constant),
    one negative, a swarm of one particle (DE needs three others to mutate from and
    says so)."""
    p = small()
    if method == "history":
        earlier = p["weight"] + np.random.default_rng(0).normal(0, 0.02, p["weight"].shape).astype(np.float32)
        extra = {"earlier_weight": earlier, "earlier_bias": p["bias"]}
    else:
        extra = {}
    neg, pos, layer = (p["act_neg"], p["y_neg"]), (p["act_pos"], p["y_pos"]), (p["weight"], p["bias"])
    no_pos = er.repair(*neg, pos[0][:0], pos[1][:0], *layer, method=method, **extra)
    assert np.isfinite(no_pos.fitness_after) and no_pos.br == 0.0 and no_pos.rr > 0.0
    assert no_pos.details["fitness_after"]["n_intact"] == 0
    one = er.repair(neg[0][:1], neg[1][:1], *pos, *layer, method=method, **extra)
    assert one.rr in (0.0, 1.0) and np.isfinite(one.fitness_after)
    assert one.kept_original or one.fitness_after > one.fitness_before
    if method == "de":
        with pytest.raises(ValueError, match="population"):
            er.repair(*sets(p), method=method, particles=1)
    else:
        single = er.repair(*sets(p), method=method, particles=1, **extra)
        assert single.evaluations > 0
        assert single.kept_original or single.fitness_after > single.fitness_before


def test_the_torch_layout_gives_the_same_repair_transposed_and_is_never_guessed():
    p = small()
    keras = er.repair(*sets(p), seed=1, particles=20, iterations=10)
    a_neg, y_neg, a_pos, y_pos, w, b = sets(p)
    torch = er.repair(a_neg, y_neg, a_pos, y_pos, w.T.copy(), b, seed=1, particles=20, iterations=10, layout="torch")
    assert np.array_equal(torch.weight, keras.weight.T)
    assert np.array_equal(torch.sites, keras.sites)
    with pytest.raises(ValueError, match=r"weight: shape \(8, 64\), but layout='keras' wants \(width, classes\) = \(64, classes\) .*pass layout='torch'"):
        er.repair(a_neg, y_neg, a_pos, y_pos, w.T.copy(), b)
    # A square layer is read as the layout says, not by its shape.
    with pytest.raises(ValueError, match="unknown layout"):
        er.repair(*sets(p), layout="tf")


def test_float64_activations_and_int32_labels_are_converted_float_labels_refused():
    p = small()
    a_neg, y_neg, a_pos, y_pos, w, b = sets(p)
    plain = er.repair(*sets(p), seed=2, particles=10, iterations=5)
    converted = er.repair(
        a_neg.astype(np.float64), y_neg.astype(np.int32), a_pos, list(y_pos), w, b, seed=2, particles=10, iterations=5
    )
    assert np.array_equal(plain.weight, converted.weight)
    with pytest.raises(TypeError, match="y_neg: labels must be integers"):
        er.repair(a_neg, y_neg.astype(float), a_pos, y_pos, w, b)


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda a: a.__setitem__("act_neg", np.where(np.arange(a["act_neg"].size).reshape(a["act_neg"].shape) == 70, np.nan, a["act_neg"])), r"act_neg\[1, 6\] is NaN"),
        (lambda a: a["y_pos"].__setitem__(3, 8), r"y_pos\[3\] = 8, but the layer has 8 classes"),
        (lambda a: a["y_neg"].__setitem__(0, -1), r"y_neg\[0\] = -1"),
        (lambda a: a.update(act_neg=a["act_neg"][:0], y_neg=a["y_neg"][:0]), "act_neg: no rows: nothing to repair"),
        (lambda a: a.__setitem__("y_neg", a["y_neg"][:5]), "y_neg: 5 labels for the 30 rows of act_neg"),
        (lambda a: a.__setitem__("bias", a["bias"][:7]), r"bias: shape \(7,\)"),
        (lambda a: a.__setitem__("act_pos", a["act_pos"][:, :10]), "act_pos: width 10"),
        (lambda a: a.__setitem__("weight", a["weight"][:10]), r"weight: shape \(10, 8\)"),
        (lambda a: a.__setitem__("y_neg", a["y_neg"].astype(np.uint64) + np.uint64(2**63)), r"y_neg\[0\] = 922337203685477\d+, not a class"),
        (
            lambda a: a.update(act_neg=a["act_neg"][:, :0], act_pos=a["act_pos"][:, :0], weight=a["weight"][:0]),
            "the layer's width is 0, but must be at least 1",
        ),
    ],
)
def test_bad_input_is_a_value_error_naming_the_argument(change, says):
    p = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in small().items()}
    change(p)
    with pytest.raises(ValueError, match=says):
        er.repair(*sets(p))


def test_a_seed_out_of_range_names_the_argument():
    p = small()
    for kwargs, says in [
        ({"seed": -1}, r"seed=-1: a seed is a whole number from 0 to 2\*\*64 - 1"),
        ({"seed": 2**64}, r"seed=18446744073709551616"),
        ({"search_seed": -5}, r"search_seed=-5"),
    ]:
        with pytest.raises(ValueError, match=says):
            er.repair(*sets(p), particles=2, iterations=1, **kwargs)


def test_bad_settings_are_value_errors():
    p = small()
    for kwargs, says in [
        ({"method": "annealing"}, "unknown method `annealing`"),
        ({"method": "history"}, "needs earlier_weight"),
        ({"earlier_weight": p["weight"], "earlier_bias": p["bias"]}, "pass method='history'"),
        ({"method": "adaptive", "sites": p["sites"]}, "give no sites"),
        ({"method": "adaptive", "search": "de"}, "PSO phases"),
        ({"sites": [[64, 0]]}, r"sites\[0\] = \(64, 0\) is outside the 64 × 8 layer"),
        ({"particles": 0}, "particles=0"),
        ({"cross_entropy": "hinge"}, "logits or clipped"),
    ]:
        with pytest.raises(ValueError, match=says):
            er.repair(*sets(p), **kwargs)


def test_every_method_runs_and_history_uses_the_earlier_layer():
    p = small()
    rng = np.random.default_rng(0)
    earlier = p["weight"] + rng.normal(0, 0.02, p["weight"].shape).astype(np.float32)
    for method, extra in [
        ("arachne", {}),
        ("de", {}),
        ("adaptive", {"window": 3}),
        ("history", {"earlier_weight": earlier, "earlier_bias": p["bias"]}),
    ]:
        r = er.repair(*sets(p), method=method, seed=1, particles=20, iterations=15, **extra)
        assert r.method == method
        assert r.fitness_after >= r.fitness_before, method


def test_the_search_releases_the_gil_and_threads_give_the_serial_answers():
    p = small()
    serial = [er.repair(*sets(p), seed=s, particles=40, iterations=30).weight for s in range(4)]
    found = [None] * 4

    def run(s):
        found[s] = er.repair(*sets(p), seed=s, particles=40, iterations=30).weight

    threads = [threading.Thread(target=run, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(serial, found):
        assert np.array_equal(a, b)


def test_localise_gives_the_sites_a_repair_without_sites_searches():
    p = small()
    sites = er.localise(p["act_neg"], p["y_neg"], p["weight"], p["bias"])
    assert sites.shape[1] == 2 and len(sites) > 0
    r = er.repair(*sets(p), seed=0, particles=10, iterations=5)
    assert np.array_equal(r.sites, sites)
    top = er.localise(p["act_neg"], p["y_neg"], p["weight"], p["bias"], method="gradient", n_sites=4)
    assert top.shape == (4, 2)


def test_a_problem_file_round_trips():
    p = small()
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"er-roundtrip-{os.getpid()}.safetensors"
    er.save_problem(path, *sets(p), sites=p["sites"])
    back = er.load_problem(path)
    for k in ("act_neg", "y_neg", "act_pos", "y_pos", "weight", "bias", "sites"):
        assert np.array_equal(back[k], p[k]), k
    assert back["layout"] == "keras"
    path.unlink()


def run_xtask(*args) -> None:
    done = subprocess.run([str(xtask()), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("with_sites", [True, False])
def test_the_same_problem_and_seed_give_the_same_weights_as_xtask_repair_problem(tmp_path, with_sites):
    p = small(seed=9)
    problem = tmp_path / "problem.safetensors"
    er.save_problem(problem, *sets(p), sites=p["sites"] if with_sites else None)
    out = tmp_path / "out"
    run_xtask("repair", "--problem", problem, "--out", out, "--seed", 6, "--particles", 30, "--iterations", 25)
    r = er.repair(*sets(p), sites=p["sites"] if with_sites else None, seed=6, particles=30, iterations=25)
    report = json.loads((out / "repair.json").read_text())
    assert report["fitness_after"]["fitness"] == r.fitness_after
    assert report["fitness_before"]["fitness"] == r.fitness_before
    assert report["evaluations"] == r.evaluations
    assert report["sites_from"] == ("file" if with_sites else "localiser")
    assert [[s["i"], s["j"]] for s in report["sites"]] == r.sites.tolist()
    with open(out / "weights.csv", newline="") as f:
        for row in csv.DictReader(f):
            i, j = int(row["i"]), int(row["j"])
            assert np.float32(row["repaired"]) == r.weight[i, j]
            assert np.float32(row["original"]) == p["weight"][i, j]
    # repaired.safetensors is a layer file: read it as a problem's layer would be.
    layer = np.frombuffer(_tensor(out / "repaired.safetensors", "kernel"), dtype="<f4").reshape(p["weight"].shape)
    assert np.array_equal(layer, r.weight)


def _tensor(path: Path, name: str) -> bytes:
    """A tensor's bytes from a safetensors file (8-byte header length, JSON, data)."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    start, end = header[name]["data_offsets"]
    return raw[8 + n + start : 8 + n + end]


STUDY_COLUMNS = [
    "dataset",
    "model",
    "run",
    "target_class",
    "epoch",
    "converged_epoch",
    "base_acc_total",
    "base_acc_cls",
    "repaired_acc_total",
    "repaired_acc_cls",
]


def study_rows() -> list:
    """Two runs × two classes × three epochs, the study's columns only."""
    rows = []
    for run in (1, 2):
        for cls in (3, 7):
            for epoch in (1, 2, 3):
                x = (run * 7 + cls * 3 + epoch * 5) % 11 / 20
                rows.append(
                    dict(
                        dataset="gtsrb",
                        model="cnn-s",
                        run=run,
                        target_class=cls,
                        epoch=epoch,
                        converged_epoch=3 - (run == 2),
                        base_acc_total=0.8,
                        base_acc_cls=0.3 + x / 2,
                        repaired_acc_total=0.78 + x / 10,
                        repaired_acc_cls=0.4 + x,
                    )
                )
    return rows


def test_table1_of_the_studys_columns_equals_xtask_reports(tmp_path):
    rows = study_rows()
    ours = er.table1(rows)
    assert [r["alpha"] for r in ours] == [0.2, 0.5, 0.8]
    path = tmp_path / "repairs.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=STUDY_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    assert er.table1(path) == ours
    run_xtask("report", path, "--out", tmp_path / "report")
    with open(tmp_path / "report" / "table1.csv", newline="") as f:
        theirs = [{k: er._number(v) for k, v in r.items()} for r in csv.DictReader(f)]
    assert theirs == ours
    with pytest.raises(ValueError, match=r"alpha 1.5 is outside \[0, 1\]"):
        er.table1(rows, alphas=[0.2, 1.5])
    # Extra and empty optional columns change nothing; a bad value is named.
    for r in rows:
        r.update(seed=None, rr=float("nan"), notes="x")
    assert er.table1(rows) == ours
    rows[4]["repaired_acc_cls"] = "high"
    with pytest.raises(ValueError, match="data row 5, column `repaired_acc_cls`"):
        er.table1(rows)
    del rows[4]["epoch"]
    with pytest.raises(ValueError, match="epoch"):
        er.table1(rows)


def test_qual_and_classify_pattern():
    assert er.qual(0.8, 0.5, 0.9) == pytest.approx(0.58)
    with pytest.raises(ValueError):
        er.qual(1.5, 0.5, 0.9)
    with pytest.raises(ValueError, match="acc_cls = NaN: an accuracy is a share from 0 to 1"):
        er.qual(0.5, float("nan"), 0.9)
    with pytest.raises(ValueError, match="epoch 2 is given twice"):
        er.classify_pattern([(1, 0.5), (2, 0.6), (2, 0.7)], 2)
    found = er.classify_pattern({1: 0.5, 2: 0.7, 3: 0.6}, converged_epoch=3)
    assert found["pattern"] == "pre-convergence" and found["best_epoch"] == 2
    assert found["early_gain"] == pytest.approx(0.1)
    assert er.classify_pattern([(1, 0.5), (2, 0.6)], 2)["pattern"] == "post-convergence"
    assert er.classify_pattern({1: None, 2: 0.6}, 2)["pattern"] == "incomplete"
    assert er.classify_pattern({1: None, 2: 0.6}, 2, incomplete="available")["pattern"] == "post-convergence"
    with pytest.raises(ValueError, match="converged_epoch 5"):
        er.classify_pattern({1: 0.5}, 5)
    with pytest.raises(ValueError, match="unknown tie policy"):
        er.classify_pattern({1: 0.5}, 1, ties="latest")
