#!/usr/bin/python3
"""bench/ingest_pandas.py - pandas read_csv on an L.POINT purchase file, the reference for
bench/ingest.sh. Default engine ("c"), default dtypes inference, as a user would call it.

    /usr/bin/python3 bench/ingest_pandas.py FILE [--repeat N]

Prints: pandas rows=N wall=S cpu=S rows_per_s=R (best of N runs)."""
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    best_wall = best_cpu = float("inf")
    rows = 0
    for _ in range(max(1, repeat)):
        w0, c0 = time.perf_counter(), time.process_time()
        df = pd.read_csv(path)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        rows = len(df)
        del df
        best_wall, best_cpu = min(best_wall, w), min(best_cpu, c)
    print(f"pandas rows={rows} wall={best_wall:.3f} cpu={best_cpu:.3f} "
          f"rows_per_s={rows / best_wall:.0f} version={pd.__version__}")


if __name__ == "__main__":
    main()
