#!/usr/bin/env python3
"""Lists modules of a crate that import each other (directly or round a longer loop).

Usage: tools/module-cycles.py [CRATE_SRC_DIR ...]   (default: every crates/*/src, xtask/src)

An edge A → B is a `crate::b::…` path in module A's file (a `use` or a qualified
name), B being the longest module prefix of that path. `lib.rs`/`main.rs` is the crate's
table of contents: its `pub use` lines are not edges, and a path to a root re-export
(`crate::Name`) points at no module. Exits 1 when a cycle exists.
"""
import re
import sys
from pathlib import Path


def modules(src):
    found = {}
    for path in src.rglob("*.rs"):
        rel = path.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        found[tuple(parts)] = path
    return found


def edges(src):
    mods = modules(src)
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        if not m:
            continue  # the root only declares and re-exports
        text = re.sub(r"//[^\n]*", "", path.read_text())
        for group in re.findall(r"crate::([A-Za-z_][\w:]*(?:::\{[^}]*\})?)", text):
            parts = [p for p in group.split("::") if p and not p.startswith("{")]
            best = None
            for k in range(len(parts), 0, -1):
                if tuple(parts[:k]) in mods:
                    best = tuple(parts[:k])
                    break
            # A child module's own parent is where it is declared, not an import back.
            if best and best != m and m[: len(best)] != best:
                graph[m].add(best)
    return graph


def cycles(graph):
    found, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def main():
    root = Path(__file__).resolve().parent.parent
    dirs = [Path(d) for d in sys.argv[1:]] or sorted(root.glob("crates/*/src")) + [root / "xtask/src"]
    bad = 0
    for src in dirs:
        for loop in cycles(edges(src)):
            bad += 1
            print(f"{src}: " + " → ".join("::".join(m) or "crate" for m in loop))
    print("no module cycles" if not bad else f"{bad} cycles")
    sys.exit(1 if bad else 0)


main()
