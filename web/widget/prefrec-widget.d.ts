// Types of 'prefrec/widget' (widget/prefrec-widget.js): the <prefrec-recommendations> custom
// element. Importing the module defines the element (under node it defines nothing).
//   import 'prefrec/widget';
//   const w = document.createElement('prefrec-recommendations');
//   w.setAttribute('pack', '/models/A01.item.pack');
//   w.addEventListener('prefrec-select', (e) => analytics('click', e.detail.code));
import type { Item, ListKind, Recommendation } from '../prefrec.js';

/** Who was served (the answer's source). */
export type WidgetSource = Recommendation['source'];

/** prefrec-shown's detail: the cards of this answer came into view (once per rendered answer). */
export interface ShownDetail {
  affiliate: string;
  source: WidgetSource;
  list: ListKind;
  /** The product codes shown, best first. */
  codes: string[];
}

/** prefrec-select's detail: the card clicked (or chosen with Enter or Space). */
export type SelectDetail = Item & { affiliate: string };

/** A signed-in member's record with its key from the shop's backend, or a kiosk's card. */
export interface WidgetMember {
  record: Uint8Array | ArrayBuffer | ArrayBufferView | string;
  key?: Uint8Array | ArrayBuffer | ArrayBufferView | string;
  token?: Uint8Array | ArrayBuffer | ArrayBufferView | string;
  pin?: string;
  kid?: Uint8Array | ArrayBuffer | ArrayBufferView | string;
}

export interface PrefRecRecommendationsEventMap extends HTMLElementEventMap {
  /** The answer is rendered; detail null for an empty state (buy_again with nothing to show). */
  'prefrec-ready': CustomEvent<Recommendation | null>;
  'prefrec-shown': CustomEvent<ShownDetail>;
  'prefrec-select': CustomEvent<SelectDetail>;
  'prefrec-subscribe': CustomEvent<{ affiliate: string }>;
  'prefrec-error': CustomEvent<Error>;
}

/** <prefrec-recommendations pack="/models/A01.item.pack" k="8">: attributes pack, list, record-url,
 * gender, age, affiliate, affiliates, k, day, heading, lang, version, integrity (README.md). */
export class PrefRecRecommendations extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The last answer shown (null while loading, after an error, or for an empty state). */
  readonly response: Recommendation | null;
  /** The language of the texts: 'ko' or 'en'. */
  readonly language: 'ko' | 'en';
  connectedCallback(): void;
  disconnectedCallback(): void;
  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void;
  /** Fetch the member's record again (record-url) and re-render; resolves when shown. */
  refresh(): Promise<void>;
  /** The member's record and key (or a kiosk's {record, token, kid}); null forgets it. */
  setMember(member: WidgetMember | null): void;
  addEventListener<K extends keyof PrefRecRecommendationsEventMap>(type: K,
    listener: (this: PrefRecRecommendations, ev: PrefRecRecommendationsEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PrefRecRecommendationsEventMap>(type: K,
    listener: (this: PrefRecRecommendations, ev: PrefRecRecommendationsEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'prefrec-recommendations': PrefRecRecommendations;
  }
}
