#!/usr/bin/env bash
# pack_sign.sh - prefrec export --sign-key and prefrec inspect --verify-key (SECURITY.md, "Pack
# authenticity"): Ed25519 signatures of the item packs, checked by prefrec and independently by
# node:crypto (OpenSSL); a tampered pack (also one re-made valid, CRC and all), a tampered,
# truncated or missing signature and another key are each refused with a clear error.
# Run as: bash pack_sign.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
repo=$2
work=$(mktemp -d /tmp/prefrec-cli-sign.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

"$bin" gen --out data --scale 0.01 --seed 3 --quiet
"$bin" train --data data --affiliate A01 --epochs 1 --seed 4 --quiet --out full >/dev/null 2>&1 || fail "train"
"$bin" train --data data --affiliate A02 --epochs 1 --seed 4 --quiet --out full >/dev/null 2>&1 || fail "train"
eid=00112233445566778899aabbccddeeff
"$bin" export --pack full/A01.pack --pack full/A02.pack --out web --shards 2 --export-id $eid \
  --sign-key sign.key --site site >out.txt 2>err.txt || { cat err.txt; fail "export --sign-key"; }
grep -q "created the pack signing key sign.key" err.txt || fail "no note that the key was created"
[[ $(stat -c %a sign.key) == 600 ]] || fail "signing key mode $(stat -c %a sign.key)"
[[ $(wc -c < web/A01.item.pack.sig) == 64 && $(wc -c < web/A02.item.pack.sig) == 64 ]] || fail "signature sizes"
[[ ! -e web/A01.cust.000.pack.sig ]] || fail "a shard was signed"
pub=$(cat web/sign.pub)
[[ $pub =~ ^[0-9a-f]{64}$ ]] || fail "sign.pub '$pub'"
grep -q "public key $pub" out.txt || fail "public key not printed"
[[ "$(cd site && ls | tr '\n' ' ')" == "A01.item.pack A01.item.pack.sig A02.item.pack A02.item.pack.sig " ]] \
  || fail "site holds: $(ls site)"
cmp -s web/A01.item.pack.sig site/A01.item.pack.sig || fail "site signature differs"

# prefrec checks them (key as hex and as a file)
for a in A01 A02; do
  "$bin" inspect web/$a.item.pack --verify-key "$pub" > i.txt || fail "verify $a (hex key)"
  grep -q "^signature ok: Ed25519, web/$a.item.pack.sig" i.txt || fail "$(head -5 i.txt)"
  "$bin" inspect web/$a.item.pack --verify-key web/sign.pub >/dev/null || fail "verify $a (key file)"
done
# node:crypto (OpenSSL) checks the same bytes: plain Ed25519 over the file
cat > verify.mjs <<'JS'
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
const [pub, pack, sig] = process.argv.slice(2);
const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub, 'hex').toString('base64url') }, format: 'jwk' });
process.stdout.write(String(verify(null, readFileSync(pack), key, readFileSync(sig))));
JS
[[ $(node verify.mjs "$pub" web/A01.item.pack web/A01.item.pack.sig) == true ]] || fail "node: A01 not verified"
[[ $(node verify.mjs "$pub" web/A02.item.pack web/A01.item.pack.sig) == false ]] || fail "node: A02 verified with A01's signature"

refused() { # refused WANT ARGS...: inspect must exit 1 with WANT in its message
  local want=$1; shift
  "$bin" inspect "$@" >/dev/null 2>r.err && fail "accepted: $*"
  grep -qF "$want" r.err || fail "inspect $*: $(cat r.err)"
}
# a byte changed in the pack (in its tensor data: the CRC fails too, but the signature speaks first)
cp web/A01.item.pack t.pack
printf '\x55' | dd of=t.pack bs=1 seek=5000 conv=notrunc status=none
refused "pack signature does not match the pack" t.pack --verify-key "$pub" --sig web/A01.item.pack.sig
# a valid pack (its own CRC) that is not the signed one: another export of the same model
"$bin" export --pack full/A01.pack --out other --export-id ffeeddccbbaa99887766554433221100 >/dev/null
"$bin" inspect other/A01.item.pack >/dev/null || fail "test premise: the other pack is valid"
refused "pack signature does not match the pack" other/A01.item.pack --verify-key "$pub" --sig web/A01.item.pack.sig
# the signature changed, cut, longer, missing; another key
cp web/A01.item.pack.sig bad.sig
printf '\x01' | dd of=bad.sig bs=1 seek=10 conv=notrunc status=none
refused "pack signature does not match the pack" web/A01.item.pack --verify-key "$pub" --sig bad.sig
head -c 63 web/A01.item.pack.sig > short.sig
refused "a pack signature is 64 bytes, this one 63" web/A01.item.pack --verify-key "$pub" --sig short.sig
{ cat web/A01.item.pack.sig; printf x; } > long.sig
refused "a pack signature is 64 bytes, this one 65" web/A01.item.pack --verify-key "$pub" --sig long.sig
cp web/A01.item.pack lone.pack
refused "lone.pack.sig" lone.pack --verify-key "$pub"
"$bin" export --pack full/A01.pack --out web2 --shards 2 --export-id $eid --sign-key sign2.key >/dev/null 2>&1
refused "another key signed it" web/A01.item.pack --verify-key "$(cat web2/sign.pub)"
refused "a public key is 64 hex digits" web/A01.item.pack --verify-key abcd
# the same key and pack sign the same bytes (Ed25519 is deterministic); the key is reused
cmp -s web/A01.item.pack web2/A01.item.pack || fail "test premise: same export id, same item pack"
"$bin" export --pack full/A01.pack --out web3 --shards 2 --export-id $eid --sign-key sign.key >/dev/null 2>e3.txt
grep -q "created" e3.txt && fail "the existing key was replaced"
cmp -s web/A01.item.pack.sig web3/A01.item.pack.sig || fail "same key, same pack, another signature"
# a re-export without --sign-key leaves no signature of the earlier pack behind
"$bin" export --pack full/A01.pack --out web3 --shards 2 --export-id $eid >/dev/null
[[ ! -e web3/A01.item.pack.sig ]] || fail "stale signature left"
# a bad key file
echo "not a key" > bad.key
"$bin" export --pack full/A01.pack --out web4 --sign-key bad.key >/dev/null 2>b.err && fail "bad key accepted"
grep -q "bad.key: a pack signing key is 64 hex digits (32 bytes) on one line" b.err || fail "$(cat b.err)"

# the public site carries the signatures, listed in its manifest
PREFREC_SITE_PARTIAL=1 bash "$repo/scripts/site.sh" web pub >/dev/null 2>&1 || fail "site.sh"
python3 - <<'PY' || fail "site manifest"
import json
m = json.load(open('pub/models/manifest.json'))
assert m['files'] == ['A01.item.pack', 'A01.item.pack.sig', 'A02.item.pack', 'A02.item.pack.sig'], m['files']
assert [a['sig'] for a in m['affiliates']] == ['A01.item.pack.sig', 'A02.item.pack.sig']
PY
cmp -s web/A02.item.pack.sig pub/models/A02.item.pack.sig || fail "site signature"
[[ ! -e pub/models/sign.pub ]] || fail "the public key file is in the site (pages take it from their configuration)"
echo "ok   pack_sign: 2 item packs signed, verified by prefrec and node:crypto; tampered pack, re-made pack, altered/short/long/missing signature and another key refused"
