#!/usr/bin/env python3
"""deps.py BUILD_DIR [--dot FILE]: the dependency picture of prefrec's code, from the objects.

Which file uses which is read off the compiled objects of the native build (nm: the symbols each
object defines and the ones it needs), so it covers calls, not only includes. Prints the folder
graph (src/core, src/data, ...) and fails (exit 1) when
  - a folder uses one that is not below it in the layering
        core < host < data < score < rank < train < eval < cli   (wasm: core and host)
  - files form a cycle (a file calls into another that calls back), inside a folder or across.
"""
import collections, os, subprocess, sys

LAYERS = ["core", "host", "data", "score", "rank", "train", "eval", "cli"]


def objects(build):
    out = []
    for root, _, files in os.walk(build):
        if "CMakeFiles" not in root or "/tests" in root or "bench_" in root:
            continue
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(root, f)
            i = path.find("/src/")
            if i < 0:
                continue
            src = path[i + 1:-2]  # src/<folder>/<file>.c
            here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            stale = not os.path.exists(os.path.join(here, src))  # an object left by a moved file
            if src.count("/") == 2 and not src.startswith("src/wasm") and not stale:
                out.append((src, path))
    return sorted(set(out))


def symbols(path):
    nm = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            needed.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, needed


def sccs(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    objs = objects(sys.argv[1])
    if not objs:
        print("deps: no objects under", sys.argv[1], "(build the native preset first)")
        return 2
    owner, needs = {}, {}
    for src, path in objs:
        d, u = symbols(path)
        for s in d:
            owner.setdefault(s, src)
        needs[src] = u
    files = collections.defaultdict(set)
    for src, u in needs.items():
        files[src]
        for s in u:
            if s in owner and owner[s] != src:
                files[src].add(owner[s])
    folder = lambda f: f.split("/")[1]
    fgraph = collections.defaultdict(set)
    for a, bs in files.items():
        for b in bs:
            if folder(a) != folder(b):
                fgraph[folder(a)].add(folder(b))
    bad = 0
    print("folders (who uses whom, from the objects):")
    for a in LAYERS:
        uses = sorted(fgraph.get(a, ()), key=LAYERS.index)
        print(f"  src/{a:6} -> {', '.join('src/' + b for b in uses) if uses else '(nothing)'}")
        for b in uses:
            if LAYERS.index(b) >= LAYERS.index(a):
                print(f"deps: src/{a} uses src/{b}, which is not below it")
                bad += 1
    for comp in sccs(files):
        if len(comp) > 1:
            print("deps: files in a cycle:", " <-> ".join(comp))
            for a in comp:
                print(f"    {a} uses", ", ".join(sorted(b for b in files[a] if b in comp)))
            bad += 1
    print(f"deps: {len(files)} files, {sum(len(v) for v in files.values())} file-to-file uses, "
          f"{'no cycle' if not bad else str(bad) + ' problem(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
