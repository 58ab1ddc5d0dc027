// consumer.ts - a shop's use of every export of prefrec.js, type-checked against prefrec.d.ts
// (npm run typecheck: tsc --strict, nothing emitted, never run). The @ts-expect-error lines are
// misuse the types must refuse: tsc fails if any of them compiles.
import PrefRecDefault, {
  PrefRec, fnv1a32, shardOf, shardFile, shardPath,
  type Age, type Gender, type Item, type LoadSource, type PackInfo, type PackSource, type PrefRecError,
  type RatioRequest, type Recommendation, type Request, type StampBoard, type StampRequest, type TopResult,
  type ListKind, type MemberInfo,
} from '../../prefrec.js';

export async function shop(card: HTMLElement): Promise<void> {
  // every load form: a URL, bytes, a pack source with a shard, several packs, an explicit wasm
  const ready: void = await PrefRec.prepare();
  void ready;
  await PrefRec.prepare({ wasm: new Uint8Array(8) });
  const one: PrefRec = await PrefRec.load('models/A01.item.pack');
  one.close();
  await PrefRec.load(new URL('https://shop.example/models/A01.pack'));
  await PrefRec.load(new Uint8Array(8));
  await PrefRec.load(new ArrayBuffer(8), { wasm: 'dist/prefrec-engine.wasm' });
  const sharded: PackSource = { item: 'models/A01.item.pack', shards: 4, customer: 'M000034966' };
  const templ: PackSource = { item: 'models/A01.item.pack', shards: 16, customer: 'M1', shardUrl: 'cdn/A01.{shard}.pack' };
  const src: LoadSource = { packs: [sharded, templ, { item: 'models/A02.item.pack', customers: 'models/A02.cust.000.pack' }] };
  const pr = await PrefRecDefault.load(src);

  const info: PackInfo[] = pr.info;
  for (const p of info) console.log(p.affiliate, p.products, p.categories, p.customers, p.rankers.join(','), p.default_ranker);

  const r: Recommendation = pr.recommend({ affiliate: 'A01', customer: 'M000034966', k: 8 });
  for (const it of r.items) card.textContent = `${it.name} - ${it.reason} (${it.reason_kind}, ${it.score.toFixed(2)})`;
  const source: 'known' | 'history' | 'segment' | 'member' = r.source;
  // a signed-in member: the backend's record and key, then their own lists
  const eid: string | null = pr.exportId;
  const me: MemberInfo = pr.openMember({ record: 'AAAA', key: 'AAAA', exportId: eid ?? undefined });
  console.log(me.gender, me.age, me.affiliates.map((a) => a.products));
  const again: Recommendation = pr.recommend({ affiliate: 'A01', list: 'buy_again', day: '2022-01-15' });
  for (const it of again.items) console.log(it.every_days, it.days_since, it.days_bought, again.list);
  const lists: ListKind[] = info[0].lists;
  console.log(lists, pr.member?.affiliates.length, await PrefRecDefault.memberKid('00', 'M1'));
  pr.closeMember();
  console.log(source, r.ranker, r.plan, r.affiliate, r.sampled?.length);
  pr.recommend({ affiliate: 'A01', history: ['P1', 'P2'], k: 5, sample: 3, seed: 42, ranker: 'default' });
  pr.planSubscribe({ affiliate: 'A01', customer: 'M1', ranker: 'neumf' });
  const ratio: RatioRequest = { customer: 'M1', weights: { A01: 12, A03: 80 } };
  const rr = pr.planRatio(ratio);
  if (rr.ratio) console.log(rr.ratio.picked, rr.ratio.weights.A01, rr.ratio.fallback);
  const stamp: StampRequest = { affiliate: 'A01', customer: 'M1', categories: 5, per_category: 5 };
  const board: StampBoard = pr.planStamp(stamp);
  for (const row of board.board) for (const it of row.items) console.log(row.category, row.mean_score, it.code, it.bought);
  const any = pr.request('{"plan":"recommend","affiliate":"A01"}');
  if (any.plan === 'stamp') console.log(any.board.length); else console.log(any.items.length);
  pr.request({ plan: 'recommend', affiliate: 'A01', gender: 'F' });
  const top: TopResult = pr.recommendTop({ affiliate: 'A01', customer: 'M1', k: 10, sample: 2 });
  const i32: Int32Array = top.indices, f32: Float32Array = top.scores;
  console.log(i32.length, f32[0], top.codes[0], top.sampled?.[0]?.score, top.source, top.ranker, top.affiliate);

  // every gender and age form the engine accepts (include/prefrec/demog.h)
  const genders: Gender[] = ['M', 'F', 'm', 'f', 'male', 'female', 'Male', 'FEMALE', '남성', '여성', 'U', 'u', 'unknown',
    'Unknown', '', '0', '1', 0, 1, null];
  const ages: Age[] = [0, 37, 37.5, 130, '37', '37.5', '30대', '30s', '25-34', '65+', null];
  for (const gender of genders) for (const age of ages) pr.recommend({ affiliate: 'A01', gender, age });
  const q: Request = { affiliate: 'A01', gender: 'male', age: '30대' };
  pr.recommend(q);

  // errors carry the engine's code and status
  try {
    pr.recommend({ affiliate: 'A01', customer: 'nobody' });
  } catch (e) {
    const err = e as PrefRecError;
    console.log(err.message, err.code, err.status);
  }
  pr.close();
  pr.close();

  // the shard rule
  const h: number = fnv1a32('M1');
  const s: number = shardOf('M1', 4);
  const f: string = shardFile('models/A01.item.pack', s);
  const p: string = shardPath('models/A01.item.pack', 'M1', 4);
  console.log(h, f === p);
  const item: Item | undefined = r.items[0];
  console.log(item?.reason_product, item?.reason_category, item?.rank);
}

export async function misuse(pr: PrefRec, r: Recommendation, info: PackInfo): Promise<void> {
  // @ts-expect-error: no public constructor; PrefRec.load() makes one
  new PrefRec();
  // @ts-expect-error: load needs a source
  await PrefRec.load();
  // @ts-expect-error: a number is not a pack
  await PrefRec.load(42);
  // @ts-expect-error: not a gender the engine reads
  pr.recommend({ gender: 'X' });
  // @ts-expect-error: 2 is not a gender
  pr.recommend({ gender: 2 });
  // @ts-expect-error: not an age form
  pr.recommend({ age: 'thirty' });
  // @ts-expect-error: age is not a boolean
  pr.recommend({ age: true });
  // @ts-expect-error: not a ranker
  pr.recommend({ ranker: 'ease' });
  // @ts-expect-error: k is a number
  pr.recommend({ k: '8' });
  // @ts-expect-error: history is a list of codes
  pr.recommend({ history: 'P1' });
  // @ts-expect-error: a pack holds blend and neumf, never 'default'
  const d: typeof info.rankers[number] = 'default';
  // @ts-expect-error: an answer names the ranker that served, never 'default'
  r.ranker = 'default';
  // @ts-expect-error: info is read-only
  pr.info = [];
  // @ts-expect-error: items are not strings
  const s: string[] = r.items;
  // @ts-expect-error: recommendTop's indices are an Int32Array, not numbers
  const n: number[] = pr.recommendTop({}).indices;
  // @ts-expect-error: shardPath needs the shard count
  shardPath('models/A01.item.pack', 'M1');
  // @ts-expect-error: close returns nothing
  const c: boolean = pr.close();
  console.log(d, s, n, c);
}
