#!/usr/bin/env python3
"""Compare two experiment folders' results, ignoring wall-time columns.

Usage: tools/same-results.py [--every-file] BEFORE_DIR AFTER_DIR
       tools/same-results.py BEFORE.csv AFTER.csv

Exits 0 when `repairs.csv`, `quality.csv`, `patterns.csv`, `table1.md` and
`class_accuracy.csv` are the same in both, apart from the columns that hold wall
times (`*_ms`, `*_s`); prints the first differences otherwise. This is the check of a
refactoring that must not change behaviour.

Given two CSV files, compares them alone the same way (the check that the study
profiles still give the committed `fixtures/study-quick/*-repairs.csv`).

With `--every-file`, every file of the two folders is compared: byte for byte, or for
JSON and CSV files after dropping wall times (keys and columns ending in `_ms` or `_s`,
`elapsed*`, `timings`), the folder's own path (a file naming a path inside BEFORE_DIR
equals one naming the same path inside AFTER_DIR) and the git commit of
`experiment.json`; the folder lock's holder is ignored.
"""
import csv
import io
import json
import os
import sys
from pathlib import Path

TIME_SUFFIXES = ("_ms", "_s")


def rows(path):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    header = table[0]
    keep = [k for k, name in enumerate(header) if not name.endswith(TIME_SUFFIXES)]
    return [[row[k] for k in keep] for row in table]


def without_times(value, folder):
    if isinstance(value, dict):
        return {
            k: without_times(v, folder)
            for k, v in value.items()
            if not (k.endswith(TIME_SUFFIXES) or k.startswith("elapsed") or k in ("timings", "git_commit"))
        }
    if isinstance(value, list):
        return [without_times(v, folder) for v in value]
    if isinstance(value, str):
        return value.replace(str(folder), "<folder>")
    return value


def csv_without_times(text, folder):
    table = list(csv.reader(io.StringIO(text.replace(str(folder), "<folder>"))))
    if not table:
        return table
    keep = [k for k, name in enumerate(table[0]) if not name.endswith(TIME_SUFFIXES)]
    return [[row[k] for k in keep if k < len(row)] for row in table]


def every_file(before, after):
    """The files that differ beyond wall times and the folder's path."""
    names = lambda root: {
        os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files
    }
    a, b = names(before), names(after)
    differ = [f"only in {before}: {n}" for n in sorted(a - b)]
    differ += [f"only in {after}: {n}" for n in sorted(b - a)]
    for name in sorted(a & b):
        x, y = (before / name).read_bytes(), (after / name).read_bytes()
        if x == y or name.endswith(".experiment.lock"):
            continue
        if name.endswith(".json"):
            same = without_times(json.loads(x), before.resolve()) == without_times(json.loads(y), after.resolve())
        elif name.endswith(".csv"):
            same = csv_without_times(x.decode(), before.resolve()) == csv_without_times(y.decode(), after.resolve())
        else:
            same = False
        if not same:
            differ.append(name)
    return differ, len(a | b)


def main():
    args = sys.argv[1:]
    if args and args[0] == "--every-file":
        before, after = map(Path, args[1:3])
        differ, count = every_file(before, after)
        for d in differ[:20]:
            print(d)
        print(f"{count} files: " + ("same" if not differ else f"{len(differ)} differ"))
        sys.exit(1 if differ else 0)
    before, after = map(Path, args[0:2])
    if before.is_file() and after.is_file():
        ra, rb = rows(before), rows(after)
        same = ra == rb
        if not same:
            print(f"{after}: {len(rb) - 1} rows, {before}: {len(ra) - 1}")
            for x, y in zip(ra, rb):
                if x != y:
                    print(f"  - {x}\n  + {y}")
                    break
        print("same" if same else "differ")
        sys.exit(0 if same else 1)
    differences = 0
    for name in ["repairs.csv", "quality.csv", "patterns.csv", "class_accuracy.csv"]:
        a, b = before / name, after / name
        if not a.exists() and not b.exists():
            continue
        ra, rb = rows(a), rows(b)
        if ra != rb:
            differences += 1
            print(f"{name}: {len(ra)} vs {len(rb)} rows")
            for x, y in zip(ra, rb):
                if x != y:
                    print(f"  - {x}\n  + {y}")
                    break
    for name in ["table1.md"]:
        if (before / name).read_text() != (after / name).read_text():
            differences += 1
            print(f"{name} differs")
    print("same" if differences == 0 else f"{differences} files differ")
    sys.exit(1 if differences else 0)


main()
