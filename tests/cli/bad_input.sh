#!/bin/bash
# bad_input.sh - `prefrec info` on malformed input: each case must fail with exit code 1 and a
# message naming file:line (and column where it means something); --skip-bad-rows must load
# exactly the good rows and report how many were skipped.
#   bash tests/cli/bad_input.sh <prefrec-binary> <repo-root>
set -u
BIN=${1:?prefrec binary}
ROOT=${2:?repo root}
T=$(mktemp -d /tmp/prefrec_bad_input.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
# A reader that never stops (the /dev/zero cases below, if they regress) must fail here, not take
# the machine's memory: 4 GiB of address space, plenty for these inputs. Not under ASan, whose
# shadow memory reserves terabytes of address space.
ldd "$BIN" 2>/dev/null | grep -q libasan || ulimit -v 4194304

fresh() { # a clean copy of the small L.POINT fixture in $T/$1
    rm -rf "${T:?}/$1"
    cp -r "$ROOT/tests/data/lpoint_small" "$T/$1"
}

# expect_fail NAME EXPECTED-SUBSTRING... -- ARGS...
expect_fail() {
    local name=$1
    shift
    local pats=()
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    "$BIN" info "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    local ok=1
    [ "$rc" -eq 1 ] || { echo "FAIL $name: exit code $rc, expected 1"; ok=0; }
    for p in "${pats[@]}"; do
        grep -qF -- "$p" "$T/err" || { echo "FAIL $name: stderr lacks '$p'"; ok=0; }
    done
    if [ $ok -eq 1 ]; then
        passes=$((passes + 1))
        echo "ok   $name: $(head -1 "$T/err")"
    else
        fails=$((fails + 1))
        sed 's/^/     | /' "$T/err"
    fi
}

H02='cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct'
P02="$T/d/LPOINT_BIG_COMP_02_PDDE.csv"

# the fixture itself loads
"$BIN" info --data "$ROOT/tests/data/lpoint_small" >"$T/out" 2>"$T/err" &&
    grep -q '^rows: *5 purchase lines' "$T/out" && passes=$((passes + 1)) ||
    { fails=$((fails + 1)); echo "FAIL fixture: $(cat "$T/err")"; }

# 1. unterminated quote (the record starts on line 3, the quote opens at column 15)
fresh d
printf '%s\nM001,R1,1,A01,A010001,PD0001,20210105,10,3000,1\nM001,R2,1,A01,"A010001,PD0001,20210105,10,3000,1\nM001,R3,1,A01,A010001,PD0001,20210105,10,3000,1\n' "$H02" >"$P02"
expect_fail unterminated_quote "LPOINT_BIG_COMP_02_PDDE.csv:3:15: unterminated quoted field" -- --data "$T/d"

# 2. wrong column count
fresh d
printf '%s\nM001,R1,1,A01,A010001,PD0001,20210105,10,3000,1\nM001,R2,1,A01,A010001,PD0001,20210105,10,3000,1,7\n' "$H02" >"$P02"
expect_fail wrong_column_count "LPOINT_BIG_COMP_02_PDDE.csv:3:" "wrong number of fields: 11, the header has 10" -- --data "$T/d"

# 3. bad date (no 31 November)
fresh d
printf '%s\nM001,R1,1,A01,A010001,PD0001,20211131,10,3000,1\n' "$H02" >"$P02"
expect_fail bad_date "LPOINT_BIG_COMP_02_PDDE.csv:2:30: bad date '20211131'" -- --data "$T/d"

# 3b. bad date in a mapping's time format
mkdir -p "$T/m"
cp "$ROOT"/tests/data/mapping_small/* "$T/m/"
printf 'household_id,basket,product_id,qty,sales,ts\n7,B1,100,1,3.86,28/01/2017 14:06\n7,B2,100,1,3.86,2017-01-28 14:06\n' >"$T/m/tx.csv"
expect_fail bad_time_mapping "tx.csv:3:17: bad time (expected format %d/%m/%Y %H:%M) '2017-01-28 14:06'" -- --data "$T/m/mapping.json"

# 4. unknown column name in a mapping, and an unknown key
cp "$ROOT"/tests/data/mapping_small/* "$T/m/"
sed 's/"qty"/"quantity_typo"/' "$ROOT/tests/data/mapping_small/mapping.json" >"$T/m/mapping.json"
expect_fail unknown_column_in_mapping "tx.csv:1: no column 'quantity_typo' (mapping key transactions.quantity" -- --data "$T/m/mapping.json"
sed 's/"store": null/"shop": null/' "$ROOT/tests/data/mapping_small/mapping.json" >"$T/m/mapping.json"
expect_fail unknown_key_in_mapping "mapping.json: unknown key \"shop\" in \"transactions\"" -- --data "$T/m/mapping.json"
printf '{"transactions": {"path": "tx.csv",}\n' >"$T/m/mapping.json"
expect_fail invalid_json "mapping.json:1:" "invalid JSON" -- --data "$T/m/mapping.json"
{ cat "$ROOT/tests/data/mapping_small/mapping.json"; printf '\n}\n'; } >"$T/m/mapping.json"
expect_fail text_after_json "mapping.json:8:1: invalid JSON" -- --data "$T/m/mapping.json"

# 5. missing file (a required file of the layout, a data path, a mapping's file)
fresh d
rm "$T/d/LPOINT_BIG_COMP_04_PD_CLAC.csv"
expect_fail missing_file "LPOINT_BIG_COMP_04_PD_CLAC.csv: cannot open: No such file or directory" -- --data "$T/d"
expect_fail missing_path "$T/nowhere: cannot open" -- --data "$T/nowhere"
cp "$ROOT"/tests/data/mapping_small/* "$T/m/"
rm "$T/m/demo.csv"
expect_fail missing_mapped_file "demo.csv: cannot open" -- --data "$T/m/mapping.json"

# 6. invalid UTF-8 (a Latin-1 byte in a product name, line 3, column 9)
fresh d
printf 'pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,ok,a,b\nPD0002,caf\xe9,a,b\n' >"$T/d/LPOINT_BIG_COMP_04_PD_CLAC.csv"
expect_fail invalid_utf8 "LPOINT_BIG_COMP_04_PD_CLAC.csv:3:11: invalid UTF-8 (byte 0xe9)" -- --data "$T/d"

# 6b. a NUL byte (issue 21): "M000034966\0Z" was read as M000034966, a real member; "DUP\0a" and
# "DUP\0b" as two customers that every writer printed as DUP. Now a bad row at line:column.
fresh d
printf '%s\nM001,R1,1,A01,A010001,PD0001,20210105,10,3000,1\nM000034966\0Z,R2,1,A01,A010001,PD0001,20210105,10,3000,1\n' "$H02" >"$P02"
expect_fail nul_byte "LPOINT_BIG_COMP_02_PDDE.csv:3:11: NUL byte (U+0000) in a field" -- --data "$T/d"
fresh d
printf 'cust,ma_fem_dv,ages,zon_hlv\nM001,\xec\x97\xac\xec\x84\xb1,20\xeb\x8c\x80,Z\0\n' >"$T/d/LPOINT_BIG_COMP_01_DEMO.csv"
expect_fail nul_byte_demographics "LPOINT_BIG_COMP_01_DEMO.csv:2:14: NUL byte" -- --data "$T/d"
mkdir -p "$T/n"
printf 'customer,product,time\nDUP\0a,P1,2021-01-01\nDUP\0b,P2,2021-01-02\nC1,P1,2021-01-03\n' >"$T/n/tx.csv"
printf '{"transactions": {"path": "tx.csv", "customer": "customer", "product": "product", "time": "time"}}\n' >"$T/n/m.json"
expect_fail nul_byte_mapping "tx.csv:2:4: NUL byte" -- --data "$T/n/m.json"
if "$BIN" info --data "$T/n/m.json" --skip-bad-rows >"$T/out" 2>"$T/err" &&
    grep -q '^customers: *1 (0 in demographics, 1 with purchases)' "$T/out" &&
    grep -qF "2 x NUL byte (first: $T/n/tx.csv:2:4: NUL byte" "$T/err"; then
    passes=$((passes + 1)); echo "ok   nul_byte_skipped: one customer (C1); $(grep -F 'x NUL' "$T/err")"
else
    fails=$((fails + 1)); echo "FAIL nul_byte_skipped"; cat "$T/out" "$T/err"
fi
printf '{"transactions": {"path": "tx.csv\\u0000.old", "customer": "customer", "product": "product", "time": "time"}}\n' >"$T/n/m.json"
expect_fail nul_in_mapping "m.json:1:34: NUL byte (U+0000) in the mapping" -- --data "$T/n/m.json"

# 6c. no line end at all (the review's mapping path to /dev/zero read 1 GiB before failing): an
# error once one record passes 16 MiB. A sparse 64 MiB file of NUL bytes takes no disk.
truncate -s 64M "$T/n/zeros.csv"
printf '{"transactions": {"path": "zeros.csv", "customer": "customer", "product": "product", "time": "time"}}\n' >"$T/n/m.json"
expect_fail no_line_end "zeros.csv:1: a record longer than 16 MiB (no line end found" -- --data "$T/n/m.json"
ln -s /dev/zero "$T/n/zero.json"
expect_fail mapping_not_a_file "zero.json: 1048576 bytes or more: not a mapping file" -- --data "$T/n/zero.json"
rm -f "$T/n/zeros.csv"

# 7. empty file
fresh d
: >"$P02"
expect_fail empty_file "LPOINT_BIG_COMP_02_PDDE.csv:1: empty file" -- --data "$T/d"

# 8. header only
fresh d
printf '%s\n' "$H02" >"$P02"
expect_fail header_only "LPOINT_BIG_COMP_02_PDDE.csv:2: no purchase rows (header only)" -- --data "$T/d"

# 9. unknown product code; a missing required column
fresh d
printf '%s\nM001,R1,1,A01,A010001,PD0777,20210105,10,3000,1\n' "$H02" >"$P02"
expect_fail unknown_product "LPOINT_BIG_COMP_02_PDDE.csv:2:23: unknown product code 'PD0777'" -- --data "$T/d"
fresh d
printf 'cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_hr,buy_am,buy_ct\nM001,R1,1,A01,A010001,PD0001,10,3000,1\n' >"$P02"
expect_fail missing_column "LPOINT_BIG_COMP_02_PDDE.csv:1: no column 'de_dt'" -- --data "$T/d"

# 10. --skip-bad-rows: 3 good rows of 7 load, 4 skipped with their reasons
fresh d
printf '%s\n' "$H02" \
    'M001,R1,1,A01,A010001,PD0001,20210105,10,3000,1' \
    'M001,R2,1,A01,A010001,PD0777,20210105,10,3000,1' \
    'M002,R3,1,A02,A020001,PD0002,20210106,11,1000,2' \
    'M002,R4,1,A02,A020001,PD0002,2021-13-01,11,1000,2' \
    'M002,R5,1,A02,A020001,PD0002,20210106,11' \
    $'M00\xff,R6,1,A02,A020001,PD0002,20210106,11,1000,2' \
    'M003,R7,2,A06,,PD0003,20210107,12,500,1' >"$P02"
expect_fail skip_off "LPOINT_BIG_COMP_02_PDDE.csv:3:23: unknown product code" -- --data "$T/d"
if "$BIN" info --data "$T/d" --skip-bad-rows --json >"$T/out" 2>"$T/err"; then
    ok=1
    grep -q '"rows":[[:space:]]*3,' "$T/out" || { echo "FAIL skip: rows != 3"; ok=0; }
    grep -q '"skipped_rows":[[:space:]]*4' "$T/out" || { echo "FAIL skip: skipped_rows != 4"; ok=0; }
    for p in "skipped 4 bad rows" "1 x unknown product code" "1 x bad date" \
        "1 x wrong number of fields" "1 x malformed CSV" "LPOINT_BIG_COMP_02_PDDE.csv:7:4: invalid UTF-8"; do
        grep -qF "$p" "$T/err" || { echo "FAIL skip: stderr lacks '$p'"; ok=0; }
    done
    if [ $ok -eq 1 ]; then passes=$((passes + 1)); echo "ok   skip_bad_rows: $(head -1 "$T/err")"
    else fails=$((fails + 1)); cat "$T/out" "$T/err"; fi
else
    fails=$((fails + 1))
    echo "FAIL skip_bad_rows: exit code $?"
    cat "$T/err"
fi

# usage errors exit 2
"$BIN" info >/dev/null 2>&1
[ $? -eq 2 ] && passes=$((passes + 1)) || { fails=$((fails + 1)); echo "FAIL usage: exit code not 2"; }

echo "bad_input: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
