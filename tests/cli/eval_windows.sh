#!/usr/bin/env bash
# eval_windows.sh - `prefrec eval` end to end (docs/eval.md): rolling windows by the documented
# rule, known / cold / overall figures, the mixed list, the interval of --default against the
# best other ranker, the JSON shape, the HTML page, the same figures for any thread count, and
# clear usage errors.
# Run as: bash eval_windows.sh <prefrec-binary> <repo-root>
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/prefrec-evalw.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }
ok() { echo "ok   $*"; }

"$bin" gen --out "$work/d" --scale 0.01 --seed 3 --quiet || exit 1
# data 2021-01-01 .. 2021-12-31: 2 windows of 45 days end on 2022-01-01
run() { "$bin" eval --data "$work/d" --rankers pop,rep_freq,itemknn --windows 2 --step 45 \
  --default itemknn --bootstrap 200 --seed 9 "$@"; }
run --threads 1 --json "$work/a.json" --html "$work/a.html" >"$work/a.txt" 2>"$work/a.err" || bad "eval failed: $(tail -3 "$work/a.err")"
run --threads 3 --json "$work/b.json" >/dev/null 2>&1 || bad "eval (3 threads) failed"
python3 - "$work/a.json" <<'EOF' && ok "eval: JSON shape, windows, groups, mixed, interval" || bad "eval JSON (above)"
import json, sys
d = json.load(open(sys.argv[1]))
w = d["windows"]
assert [x["cutoff"] for x in w] == ["2021-10-03", "2021-11-17"], w
assert [x["end"] for x in w] == ["2021-11-17", "2022-01-01"], w
assert w[0]["validation_from"] == "2021-08-19", w[0]
assert d["step_days"] == 45 and d["val_days"] == 45 and d["bootstrap"] == 200
for task in ("new_items", "repurchase", "mixed"):
    for g in ("overall", "known", "cold", "by_affiliate"):
        assert g in d[task], (task, g)
# rep_freq is a repurchase ranker: not in new items, not in mixed
assert "rep_freq" not in d["new_items"]["overall"] and "rep_freq" in d["repurchase"]["overall"]
assert set(d["mixed"]["overall"]) == {"pop", "itemknn"}
m = d["mixed"]["overall"]["pop"]
for k in ("recall_rep", "hit_rate_rep", "recall_expl", "hit_rate_expl", "repeat_ratio"):
    assert 0 <= m[k] <= 1, (k, m[k])
# overall users = known + cold, in every window
for task in ("new_items", "mixed"):
    o, k, c = (d[task][g]["pop"]["windows"]["users"] for g in ("overall", "known", "cold"))
    assert [a + b for a, b in zip(k, c)] == o, (task, o, k, c)
assert d["repurchase"]["cold"]["pop"]["users"] == 0 and d["repurchase"]["cold"]["pop"]["recall"] is None
# the mean is the mean of the windows
r = d["new_items"]["overall"]["itemknn"]
assert abs(r["recall"] - sum(r["windows"]["recall"]) / 2) < 2e-6, r
iv = d["intervals"]["new_items"]["overall"]
assert iv["default"] == "itemknn" and iv["baseline"] == "pop", iv
assert iv["lo"] <= iv["diff"] <= iv["hi"] and iv["excludes_zero"] == (iv["lo"] > 0 or iv["hi"] < 0)
assert d["intervals"]["repurchase"]["cold"] is None
EOF
nosec() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k) for k in list(d) if k.endswith('seconds')]; print(json.dumps(d, sort_keys=True))" "$1"; }
[[ "$(nosec "$work/a.json")" == "$(nosec "$work/b.json")" ]] && ok "eval: the same JSON with 1 and 3 threads" || bad "eval: threads change the figures"
grep -q "^New items" "$work/a.txt" && grep -q "^Mixed" "$work/a.txt" && grep -q "new_items  overall itemknn" "$work/a.txt" \
  && ok "eval: terminal table with the interval" || bad "eval: terminal table: $(head -20 "$work/a.txt")"
grep -q "<h2>Default against the best other ranker</h2>" "$work/a.html" && ! grep -qE "<script|https?://" "$work/a.html" \
  && ok "eval: self-contained HTML page" || bad "eval: HTML page"
# fewer windows when the data is short, said once
"$bin" eval --data "$work/d" --rankers pop --windows 5 --step 60 --bootstrap 0 >"$work/c.txt" 2>"$work/c.err" || bad "eval --windows 5 failed"
grep -q "note: 4 of 5 windows" "$work/c.txt" && ok "eval: 4 of 5 windows of 60 days fit (120 days before each cut-off)" || bad "eval: no note: $(head -3 "$work/c.txt")"
# one window, the old form, still works
"$bin" eval --data "$work/d" --cutoff 2021-10-01 --rankers pop --bootstrap 0 --json "$work/e.json" >/dev/null 2>&1 \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['windows']) == 1 and d['cutoff'] == '2021-10-01' and d['end'] == '2022-01-01'" "$work/e.json" \
  && ok "eval: --cutoff gives one window" || bad "eval --cutoff"
# usage errors
expect_usage() {
  local want=$1; shift
  "$bin" eval --data "$work/d" "$@" >/dev/null 2>"$work/u.err"
  local rc=$?
  [[ $rc == 2 ]] && grep -qF -- "$want" "$work/u.err" && ok "usage: $want" || bad "usage ($*): exit $rc, $(head -1 "$work/u.err")"
}
expect_usage "--cutoff (one window) and --windows (rolling windows) exclude each other" --cutoff 2021-10-01 --windows 2
expect_usage "--step must be 1..3660 days (got '0')" --step 0
expect_usage "--windows must be 1..100 (got 'x')" --windows x
expect_usage "unknown ranker 'nope'" --default nope
"$bin" eval --data "$work/d" --step 400 >/dev/null 2>"$work/u.err"
[[ $? == 1 ]] && grep -q "no room for a test window of 400 days" "$work/u.err" && ok "eval: no room for a window" || bad "eval --step 400: $(cat "$work/u.err")"
[[ $fails == 0 ]] && echo "eval_windows: all ok" || { echo "eval_windows: $fails failed"; exit 1; }
