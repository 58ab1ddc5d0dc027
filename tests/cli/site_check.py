#!/usr/bin/env python3
"""site_check.py - what a web server hands an anonymous visitor holds no member data (issue 16,
SECURITY.md "Members' data"). Used by tests/cli/site_privacy.sh.

  python3 site_check.py [--known-comment FILE:CODE ...] ROOT URL DATA_DIR PRIVATE_PATH...

ROOT is the directory the server at URL serves; DATA_DIR the purchase CSVs the packs were made
from (L.POINT layout: 01_DEMO, 02_PDDE); each PRIVATE_PATH (e.g. /models/A01.cust.000.pack,
/../records/export.json) is requested raw, as written, and must not be served. Checks:
  - every file under ROOT, fetched over HTTP, is served byte for byte (so what is searched is
    what is served), and nothing under ROOT is a CSV, a record, a key or export.json;
  - no member code of the data (every code of 01_DEMO and 02_PDDE) in any served byte, as UTF-8,
    UTF-16LE or UTF-16BE; no receipt number of the data; no CSV header of the data;
  - every .pack decodes (packdump.py: header, CRC32, tensor table, string tables), is an item
    pack, holds no customer.* tensor and no member count, and none of its decoded strings is a
    member code;
  - manifest.json lists no example member, no shard, no member count;
  - directory URLs without an index.html answer 404 (no listing), those with one serve it;
  - each PRIVATE_PATH answers 403 or 404, never a file.
Prints one line per failure and a summary; exit 1 when anything failed.
--known-comment FILE:CODE: a known finding to be fixed elsewhere, reported as KNOWN instead of a
failure only while every occurrence of CODE in FILE is on a `//` comment line of the file.
"""
import csv
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS = ('n_customers', 'n_bought')
TRAINING_COUNTS = ('pairs', 'train_pairs', 'valid_pairs')


def comment_only(body, code):
    lines = [ln for ln in body.split(b'\n') if code in ln]
    return lines and all(ln.lstrip().startswith(b'//') for ln in lines)


def main(root, url, data, private, known):
    fails, notes = [], []
    fail = fails.append
    u = urllib.parse.urlparse(url)

    def get(path):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request('GET', path)  # the path goes out as written: no client-side normalising
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    codes, headers = set(), []
    for name, col in (('LPOINT_BIG_COMP_01_DEMO.csv', 0), ('LPOINT_BIG_COMP_02_PDDE.csv', 0)):
        with open(os.path.join(data, name), encoding='utf-8', newline='') as f:
            rows = csv.reader(f)
            headers.append(','.join(next(rows)).encode())
            codes.update(r[col] for r in rows)
    receipts = set()
    with open(os.path.join(data, 'LPOINT_BIG_COMP_02_PDDE.csv'), encoding='utf-8', newline='') as f:
        rows = csv.reader(f)
        i = next(rows).index('rct_no')
        receipts.update(r[i].encode() for r in rows)
    needles = []
    for c in sorted(codes):
        for enc in ('utf-8', 'utf-16-le', 'utf-16-be'):
            needles.append((c, enc, c.encode(enc)))

    files = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(d, n), root))
    searched = 0
    packs = []
    for rel in files:
        low = rel.lower()
        if low.endswith(('.csv', '.rec', '.key')) or os.path.basename(low) == 'export.json':
            fail(f'{rel}: a private kind of file in the served directory')
        path = '/' + urllib.parse.quote(rel.replace(os.sep, '/'))
        status, body = get(path)
        disk = open(os.path.join(root, rel), 'rb').read()
        if status != 200 or body != disk:
            fail(f'{rel}: GET {path} answered {status} with {len(body)} bytes, the file has {len(disk)}')
            continue
        searched += len(body)
        for c, enc, b in needles:
            if b in body:
                k = f'{rel}:{c}'
                if k in known and enc == 'utf-8' and comment_only(body, b):
                    notes.append(f'KNOWN {rel}: member code {c} of the demo data in a doc comment (to fix)')
                    known[k] = 1
                    continue
                fail(f'{rel}: member code {c} ({enc}) in the served bytes')
                break
        for h in headers:
            if h in body:
                fail(f'{rel}: the CSV header "{h.decode()}" of the data')
        hit = set(re.findall(rb'[A-Z][0-9]{11}', body)) & receipts
        if hit:
            fail(f'{rel}: {len(hit)} receipt numbers of the data, e.g. {sorted(hit)[0].decode()}')
        if rel.endswith('.pack'):
            packs.append(rel)
        if os.path.basename(rel) == 'manifest.json':
            m = json.loads(disk)
            if m.get('examples'):
                fail(f'{rel}: lists example members {m["examples"][:3]}...')
            for a in m.get('affiliates', []):
                if a.get('shards'):
                    fail(f'{rel}: {a.get("affiliate")} has {a["shards"]} customer shards')
                if a.get('customers') is not None:
                    fail(f'{rel}: {a.get("affiliate")} counts {a["customers"]} customers')
            if any('.cust.' in f for f in m.get('files', [])):
                fail(f'{rel}: lists customer shards')

    decoded = 0
    for rel in packs:
        full = os.path.join(root, rel)
        p = subprocess.run([sys.executable, os.path.join(HERE, 'packdump.py'), full],
                           capture_output=True, text=True)
        if p.returncode:
            fail(f'{rel}: does not decode: {p.stderr.strip() or p.stdout.strip()}')
            continue
        d = json.loads(p.stdout)
        decoded += 1
        man = d['manifest']
        if man.get('part') != 'item':
            fail(f'{rel}: a "{man.get("part")}" pack, not an item pack')
        cust = [t for t in d['tensors'] if t.startswith('customer.')]
        if cust:
            fail(f'{rel}: customer tensors {", ".join(cust)}')
        counts = [k for k in COUNTS if k in man] + \
            [k for k in TRAINING_COUNTS if k in (man.get('training') or {})]
        if counts:
            fail(f'{rel}: member counts in the manifest: {", ".join(counts)}')
        for base, strings in d['strings'].items():
            found = codes.intersection(strings)
            if found:
                fail(f'{rel}: {len(found)} member codes in its decoded {base} table, e.g. {sorted(found)[0]}')

    # directories: an index.html or 404 (no listing)
    dirs = sorted({os.path.dirname(f) for f in files} | {''})
    for rel in dirs:
        path = '/' + (urllib.parse.quote(rel.replace(os.sep, '/')) + '/' if rel else '')
        status, body = get(path)
        index = os.path.join(root, rel, 'index.html')
        if os.path.isfile(index):
            if status != 200 or body != open(index, 'rb').read():
                fail(f'GET {path}: {status}, not its index.html')
        elif status != 404:
            fail(f'GET {path}: {status} (a directory listing?), expected 404')

    for path in private:
        status, body = get(path)
        if status not in (403, 404):
            fail(f'GET {path}: {status} with {len(body)} bytes (must not be served)')

    for f in notes:
        print(f)
    for k, used in known.items():
        if not used:
            print(f'note: --known-comment {k} no longer occurs: remove it')
    for f in fails:
        print('FAIL', f)
    print(f'site_check: {len(files)} files ({searched} bytes) fetched and searched for {len(codes)} '
          f'member codes and {len(receipts)} receipts, {decoded} packs decoded, {len(dirs)} '
          f'directories, {len(private)} private paths: {len(fails)} failures')
    return 1 if fails else 0


if __name__ == '__main__':
    args, known = sys.argv[1:], {}
    while len(args) > 1 and args[0] == '--known-comment':
        known[args[1]] = 0
        args = args[2:]
    if len(args) < 3:
        sys.exit(__doc__)
    sys.exit(main(args[0], args[1], args[2], args[3:], known))
