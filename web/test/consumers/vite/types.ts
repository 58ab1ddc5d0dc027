// Every export of the package's entry points, as a shop's TypeScript uses them, type-checked
// with tsc --strict against the installed package's types (resolved through its exports map).
import PrefRecDefault, { PrefRec, fnv1a32, packFormats, shardFile, shardOf, shardPath } from 'prefrec';
import type { ApiRequest, LoadOptions, PackInfo, PrefRecError, Recommendation, TopResult } from 'prefrec';
import { PrefRecRecommendations } from 'prefrec/widget';
import type { SelectDetail, ShownDetail } from 'prefrec/widget';

export async function shop(signal: AbortSignal): Promise<string[]> {
  const opts: LoadOptions = { signal };
  const pr: PrefRec = await PrefRec.load('/models/A01.item.pack', opts);
  const same: typeof PrefRec = PrefRecDefault;
  const info: PackInfo[] = pr.info;
  const r: Recommendation = pr.recommend({ gender: 'F', age: '30대', k: 4, ranker: info[0].default_ranker });
  const top: TopResult = pr.recommendTop({ affiliate: null, gender: 'M', age: 45 });
  const q: ApiRequest = { plan: 'stamp', categories: 3 };
  const any = pr.request(q);
  const formats: readonly number[] = packFormats;
  const n: number = shardOf('M1', 4) + fnv1a32('M1');
  const f: string = shardFile('A01.item.pack', n % 4) + shardPath('A01.item.pack', 'M1', 4);
  try {
    pr.recommend({ customer: 'nobody' });
  } catch (e) {
    console.log((e as PrefRecError).status);
  }
  pr.close();
  console.log(same, any.plan, formats, f, top.indices.length, r.items[0]?.reason_product_name);
  return r.items.map((it) => it.code);
}

export function widget(): PrefRecRecommendations {
  const w = document.createElement('prefrec-recommendations'); // typed by HTMLElementTagNameMap
  w.setAttribute('pack', '/models/A01.item.pack');
  w.addEventListener('prefrec-shown', (e) => {
    const d: ShownDetail = e.detail;
    console.log(d.codes.length, d.source, d.list);
  });
  w.addEventListener('prefrec-select', (e) => {
    const d: SelectDetail = e.detail;
    console.log(d.code, d.affiliate, d.rank);
  });
  w.addEventListener('prefrec-ready', (e) => console.log(e.detail?.items.length));
  w.setMember(null);
  void w.refresh();
  console.log(w.response?.source, w.language, w instanceof PrefRecRecommendations);
  // @ts-expect-error: setMember needs a record
  w.setMember({ key: 'AAAA' });
  return w;
}
