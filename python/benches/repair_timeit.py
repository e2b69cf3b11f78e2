"""Times early_repair.repair() on the benchmarks' GTSRB-sized problem (width 512, 43
classes, 60 negatives, 200 positives, its 10 sites given, the study's PSO 100 x 50 at
seed 1): the same call as the criterion bench `solve/arachne_100x50_w512_sites`
(benches/solve.rs). Run both in one quiet sitting:

    cargo bench -p repair-benches -- "solve/"
    python3 python/benches/repair_timeit.py
"""

import timeit

import early_repair as er

p = er.synthetic_problem()
args = (p["act_neg"], p["y_neg"], p["act_pos"], p["y_pos"], p["weight"], p["bias"])
call = lambda: er.repair(*args, sites=p["sites"], seed=1)  # noqa: E731
result = call()
assert result.evaluations == 100 * 51, result.evaluations
runs = timeit.repeat(call, number=20, repeat=7)
per_call = sorted(t / 20 * 1e3 for t in runs)
print(f"early_repair.repair, GTSRB-sized, 100 x 50: median {per_call[3]:.2f} ms, min {per_call[0]:.2f} ms over 7 x 20 calls")
