#!/usr/bin/env python3
"""Compare two experiment folders' results, ignoring wall-time columns.

Usage: tools/same-results.py BEFORE_DIR AFTER_DIR

Exits 0 when `repairs.csv`, `quality.csv`, `patterns.csv`, `table1.md` and
`class_accuracy.csv` are the same in both, apart from the columns that hold wall
times (`*_ms`, `*_s`); prints the first differences otherwise. This is the check of a
refactoring that must not change behaviour.
"""
import csv
import sys
from pathlib import Path

TIME_SUFFIXES = ("_ms", "_s")


def rows(path):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    header = table[0]
    keep = [k for k, name in enumerate(header) if not name.endswith(TIME_SUFFIXES)]
    return [[row[k] for k in keep] for row in table]


def main():
    before, after = map(Path, sys.argv[1:3])
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
