// Types of web/prefrec.js, the ES-module shim over the prefrec WebAssembly engine.
// Request and response schema in full: docs/engine.md.
//
//   import { PrefRec } from 'prefrec';
//   const pr = await PrefRec.load({ packs: ['models/A01.item.pack'] });
//   const r = pr.recommend({ affiliate: 'A01', gender: 'F', age: '30대', k: 8 });
//   for (const it of r.items) card.textContent = `${it.name} - ${it.reason}`;  // never innerHTML
//   pr.close();
//
// Errors: every engine error (bad pack, bad request, unknown customer, ...) is thrown as an
// Error whose message is the engine's, with `code` (negative prefrec_status) and `status`
// ("bad format", "not found", ...). Nothing traps or hangs on bad input.

/** A pack to load: a URL (or a file path under node), or the bytes. */
export type PackBytes = string | URL | ArrayBuffer | ArrayBufferView;

export interface PackSource {
  /** The item pack (or a full pack written by `prefrec train`). */
  item: PackBytes;
  /** A customer pack or shard for it (`prefrec export`). */
  customers?: PackBytes;
  /** Fetch only the shard of `customer`: fnv1a32(customer) % shards, from `shardUrl` or
   * from the item URL (A01.item.pack -> A01.cust.007.pack). An integer 1..4096 (as `prefrec
   * export --shards`); 0 or absent: not sharded. */
  shards?: number;
  customer?: string;
  /** Shard URL template, "{shard}" replaced by the 3-digit shard number. */
  shardUrl?: string;
  /** "sha256-<base64>" of the item pack (the site's manifest.json names it): a pack whose bytes
   * differ (replaced on a CDN, altered) is refused with status 'checksum mismatch'. */
  integrity?: string;
}

export interface LoadOptions {
  /** The engine's .wasm (default: dist/prefrec-engine.wasm next to the shim, which bundlers
   * ship as an asset; also importable as 'prefrec/engine.wasm'). */
  wasm?: PackBytes | WebAssembly.Module;
  /** Stops the load: its fetches are aborted and the promise rejects with signal.reason (an
   * AbortError DOMException unless abort() was given another). */
  signal?: AbortSignal;
}

export interface LoadSource {
  /** One pack per affiliate. */
  packs: Array<PackBytes | PackSource>;
  /** The engine's .wasm (default: dist/prefrec-engine.wasm next to the shim). */
  wasm?: PackBytes | WebAssembly.Module;
}

/** The words of a gender, ASCII case ignored (spaces around them too); also "남성"/"여성",
 * "0"/"1", 0/1 (male/female), and "U", "unknown", "" or null (not known). One rule with the
 * training data's loaders (include/prefrec/demog.h). The type lists lower case, upper case and
 * capitalised spellings; other mixes ("mAlE") are accepted by the engine too. */
type GenderWord = 'm' | 'f' | 'male' | 'female' | 'u' | 'unknown';
export type Gender = GenderWord | Uppercase<GenderWord> | Capitalize<GenderWord> | '남성' | '여성' | '0' | '1' | ''
  | 0 | 1 | null;
/** Years 0..130, as a number or its text ("37", "37.5"), or a band: "30대" or "30s" (the decade's
 * middle, 35), "25-34" (the middle, 29.5), "65+" (70); null: not known. */
export type Age = number | `${number}` | `${number}대` | `${number}s` | `${number}-${number}` | `${number}+` | null;
/** A ranker a request may ask for: "default" is the pack's default_ranker. */
export type Ranker = 'default' | RankerName;
/** A ranker a pack holds and an answer names. */
export type RankerName = 'blend' | 'neumf';

export interface Request {
  /** Which pack serves; required when several are loaded (not for planRatio). null: absent. */
  affiliate?: string | null;
  /** A customer code the pack (or shard) knows. */
  customer?: string | null;
  /** Product codes the customer bought (fold-in for customers the pack does not know), at most
   * PREFREC_MAX_HISTORY. */
  history?: string[] | null;
  /** Demographics for customers the pack does not know (cold start). */
  gender?: Gender;
  /** Years, or a band like "30대" (its middle, 35). */
  age?: Age;
  /** How many products, 1..100 (30). */
  k?: number;
  /** Weighted picks among the top 30, 0..30 (0), with this seed (integer < 2^53). */
  sample?: number;
  seed?: number;
  ranker?: Ranker | null;
  /** `neumf` only: score just the blend's top N never-bought products, 0 or k..10000 (0: every
   * product); needs a pack with the blend. */
  candidates?: number | null;
  /** Which list: never-bought products (discover, the default), the member's own products by
   * how due they are (buy_again), or both in one list (mixed). buy_again and mixed need an open
   * member (openMember). */
  list?: ListKind | null;
  /** The day served, "YYYY-MM-DD" (default: the pack's as-of day): "last bought N days ago". */
  day?: string | null;
}

export type ListKind = 'discover' | 'buy_again' | 'mixed';

/** A request of the JSON API (request()): any plan with its members; the engine refuses a member
 * it does not know (status 'invalid argument'). */
export interface ApiRequest extends RatioRequest, StampRequest {
  plan?: 'recommend' | 'subscribe' | 'ratio' | 'stamp' | null;
}

/** The signed-in member's own summary (nothing of any other member is in the engine). */
export interface MemberInfo {
  gender: 'M' | 'F' | null;
  age: number | null;
  affiliates: Array<{ affiliate: string; products: number }>;
}

/** Bytes, or their base64 text (a backend's JSON answer). */
export type SecretBytes = Uint8Array | ArrayBuffer | ArrayBufferView | string;

export interface OpenMember {
  /** The member's sealed record (prefrec export --records; the backend's "record"). */
  record: SecretBytes;
  /** The record's key (32 bytes) from the shop's backend (web/server/records.mjs), or ... */
  key?: SecretBytes;
  /** ... the member's card token (16 bytes or 32 hex digits; the kiosk's card scan). */
  token?: SecretBytes;
  /** A PIN record's PIN (native and WASI builds only: the web engine leaves Argon2id out). */
  pin?: string;
  /** The member key id expected (16 bytes or hex), e.g. from PrefRec.memberKid. */
  kid?: SecretBytes;
  /** The export the record must belong to (default: the loaded packs' exportId). */
  exportId?: string;
}

export interface RatioRequest extends Request {
  /** Purchases per affiliate, e.g. {A01: 12, A03: 80}; default: from the packs' customers. */
  weights?: Record<string, number>;
}

export interface StampRequest extends Request {
  /** Board size: categories (1..20, 5) x per_category products (5). */
  categories?: number;
  per_category?: number;
}

export interface Item {
  rank?: number;
  code: string;
  name: string;
  category: string;
  subcategory: string;
  score: number;
  /** A sentence a person can read ("Often bought with 바나나"). */
  reason: string;
  reason_kind: 'bought_with' | 'category' | 'segment' | 'predicted' | 'repeat';
  /** bought_with: the product it was often bought with, its code and name. */
  reason_product?: string;
  reason_product_name?: string;
  reason_category?: string;
  /** repeat: the days the member bought it on, the usual interval (0: bought on one day only)
   * and the days since the last purchase, as of the day served. */
  days_bought?: number;
  every_days?: number;
  days_since?: number;
}

export interface Recommendation {
  ok: true;
  plan: 'recommend' | 'subscribe' | 'ratio';
  affiliate: string;
  list: ListKind;
  /** known: the pack's customer; history: folded in; segment: gender and age only; member: the
   * signed-in member's own record. */
  source: 'known' | 'history' | 'segment' | 'member';
  ranker: RankerName;
  items: Item[];
  sampled?: Item[];
  /** planRatio: the weights used, the affiliate picked, and whether it fell back. */
  ratio?: { weights: Record<string, number>; picked: string; fallback?: boolean };
}

export interface StampBoard {
  ok: true;
  plan: 'stamp';
  affiliate: string;
  board: Array<{ category: string; mean_score: number; items: Array<Item & { bought: boolean }> }>;
}

export interface TopResult {
  affiliate: string;
  source: 'known' | 'history' | 'segment' | 'member';
  ranker: RankerName;
  /** Product indices in the pack's catalog, best first (copies). */
  indices: Int32Array;
  scores: Float32Array;
  codes: string[];
  sampled?: Array<{ code: string; score: number }>;
}

export interface PackInfo {
  affiliate: string;
  products: number;
  categories: number;
  customers: number;
  rankers: RankerName[];
  default_ranker: RankerName;
  /** The list kinds the pack serves (buy_again and mixed need "repeat" in the pack). */
  lists: ListKind[];
  /** The pack's as-of day and, for packs exported with member records, the export id. */
  asof?: string;
  export_id?: string;
}

/** The engine's error: message from the engine, code a negative prefrec_status. */
export interface PrefRecError extends Error {
  code: number;
  status: string;
}

export class PrefRec {
  /** Not for callers: PrefRec.load() makes one (the engine instance and its session). */
  private constructor(engine: unknown, session: number);
  /** Load one pack (URL, path under node, bytes) or several ({packs: [...]}). Each pack is
   * copied into the wasm heap once. Rejects with an Error for a bad or missing pack. */
  static load(source: PackBytes | PackSource | LoadSource, options?: LoadOptions): Promise<PrefRec>;
  /** Start fetching and compiling the engine (options.wasm as load's) so that a later load()
   * finds it compiled: call it early, before the packs are known. Resolves when compiled; on a
   * failure it rejects and the next load() tries again. */
  static prepare(options?: { wasm?: PackBytes | WebAssembly.Module }): Promise<void>;
  /** The loaded packs, in load order. */
  readonly info: PackInfo[];
  /** Top-k never-bought products with names, categories, scores and reasons. */
  recommend(q?: Request): Recommendation;
  /** Plan 2: recommend in the affiliate the customer subscribed to (`affiliate` required). */
  planSubscribe(q?: Request): Recommendation;
  /** Plan 1: pick the affiliate in proportion to the customer's purchases, then recommend. */
  planRatio(q?: RatioRequest): Recommendation;
  /** Plan 3: this month's stamp board for the affiliate. */
  planStamp(q?: StampRequest): StampBoard;
  /** Any JSON API request (an object or its JSON text); the response object. Numbers JSON
   * cannot carry (NaN, Infinity, BigInt) are refused by name, not sent as null. */
  request(req: ApiRequest | string): Recommendation | StampBoard;
  /** The typed fast path: codes and scores only, same order and scores as recommend(); the
   * request is read and checked by the same engine code (the same errors). */
  recommendTop(q?: Request): TopResult;
  /** The loaded packs' export id (32 hex digits), or null. */
  get exportId(): string | null;
  /** The open member's summary, or null (anonymous). */
  readonly member: MemberInfo | null;
  /** Open the signed-in member's sealed record; every later request is for them. Throws a
   * PrefRecError: status 'cannot open' (wrong key/token or altered record), 'other export',
   * 'bad format'. */
  openMember(m: OpenMember): MemberInfo;
  /** Forget the member: their state is wiped from the engine's memory. */
  closeMember(): void;
  /** A member's record file name is hex(kid) + ".rec": kid from the export's naming key. */
  static memberKid(namingKey: SecretBytes, code: string): Promise<Uint8Array>;
  /** Free the engine's memory. Calls afterwards throw. Safe to call twice. */
  close(): void;
}

/** The pack format versions this engine reads (a pack of another format is refused with status
 * 'unsupported version', the message naming them). The package's major version is the newest. */
export const packFormats: readonly number[];

/** FNV-1a 32-bit hash of the UTF-8 bytes of s (the customer shard key). */
export function fnv1a32(s: string): number;
/** The shard holding customer among n shards (an integer 1..4096): fnv1a32(customer) % n. */
export function shardOf(customer: string, n: number): number;
/** The file of shard number `shard` (0..4095) next to an item pack (a path or a URL's path), as
 * `prefrec export` names it: A01.item.pack (or A01.pack) -> A01.cust.007.pack. */
export function shardFile(itemPath: string, shard: number): string;
/** The file of customer's shard among `shards`: shardFile(itemPath, shardOf(customer, shards)). */
export function shardPath(itemPath: string, customer: string, shards: number): string;

export default PrefRec;
