import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalReceipt,
  consentIdFrom,
  createPolicy,
  decide,
  decidedKeys,
  doNotSell,
  GENESIS,
  grantedKeys,
  isOrigin,
  laxerThan,
  type Method,
  type Receipt,
  requiredMode,
  validateConfig,
  validateReceiptInput,
} from '../src/index.js';

const policy = createPolicy(
  validateConfig({ categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }] })
    .config,
);

const good = () => ({
  consentId: 'AAAAAAAAAAAAAAAAAAAAAA',
  policy: { version: 'v3', sha256: 'a'.repeat(64) },
  mode: 'opt-in',
  choices: { analytics: true, 'analytics:matomo': true, marketing: false },
  method: 'custom',
  source: 'preferences',
  signals: { gpc: false },
  page: { origin: 'https://news.example', path: '/articles/x' },
  lang: 'en',
});

const fieldOf = (input: unknown) => {
  const r = validateReceiptInput(input, policy);
  return r.ok ? null : r.error.field;
};

describe("isOrigin: the one origin rule (receipts, the server's sites, adminOrigin)", () => {
  it('takes what browsers send as an origin, nothing more', () => {
    for (const o of [
      'https://news.example',
      'http://127.0.0.1:8080',
      'https://my_shop.example',
      'http://[::1]:8443',
      'https://xn--bcher-kva.example',
    ])
      assert.equal(isOrigin(o), true, o);
    for (const o of [
      'news.example',
      'https://news.example/',
      'https://a.example/x',
      'https://u@a.example',
      'https://a.example?x',
      'https://a.example#x',
      'ftp://a.example',
      `https://${'a'.repeat(200)}.example`,
    ])
      assert.equal(isOrigin(o), false, o);
  });
});

describe('receipt input', () => {
  it('accepts what the banner sends', () => {
    const r = validateReceiptInput(good(), policy);
    assert.ok(r.ok);
  });

  it('names the field that is wrong', () => {
    const cases: [string, (b: Record<string, unknown>) => void][] = [
      ['consentId', (b) => (b.consentId = 'short')],
      ['policy.version', (b) => (b.policy = { version: 'v 3', sha256: 'a'.repeat(64) })],
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: 7 })],
      // The 32-bit fingerprint of receipt v1 is not a published policy's identity.
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: '1x2b3c' })],
      ['policy.sha256', (b) => (b.policy = { version: 'v3', sha256: 'A'.repeat(64) })],
      ['policy', (b) => (b.policy = { version: 'v3', sha256: 'a'.repeat(64), hash: 'x' })],
      ['mode', (b) => (b.mode = 'implied')],
      ['choices.social', (b) => (b.choices = { social: true })],
      ['choices.analytics', (b) => (b.choices = { analytics: 'yes' })],
      ['choices.necessary', (b) => (b.choices = { necessary: false })],
      ['method', (b) => (b.method = 'scroll')],
      ['source', (b) => (b.source = 'popup')],
      ['signals.gpc', (b) => (b.signals = { gpc: 1 })],
      ['page.origin', (b) => (b.page = { origin: 'https://x.example/path', path: '/' })],
      ['page.path', (b) => (b.page = { origin: 'https://x.example', path: '/a?email=x@y.z' })],
      ['lang', (b) => (b.lang = 'english language')],
      // The server sets expiresAt from the published policy's days; a client's is refused.
      ['expiresAt', (b) => (b.expiresAt = '2026-07-10T12:00:00.000Z')],
      ['lang', (b) => delete b.lang],
      ['extra', (b) => (b.extra = 1)],
    ];
    for (const [field, mutate] of cases) {
      const b: Record<string, unknown> = good();
      mutate(b);
      assert.equal(fieldOf(b), field, JSON.stringify(b));
    }
    assert.equal(fieldOf([]), 'body');
  });

  it('allows saying necessary is granted, and knows nothing of keys when given none', () => {
    assert.equal(fieldOf({ ...good(), choices: { necessary: true, analytics: false } }), null);
    assert.ok(validateReceiptInput({ ...good(), choices: { anything: true } }, null).ok);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        validateReceiptInput(v, policy);
        validateReceiptInput({ ...good(), ...(typeof v === 'object' && v ? v : {}) }, policy);
      }),
    );
  });

  it('lists granted keys without necessary', () => {
    assert.deepEqual(grantedKeys({ necessary: true, analytics: true, marketing: false }), ['analytics']);
  });
});

/**
 * A policy with services, a sale category by name (`marketing`) and one by its Consent Mode
 * signal (`partners`, sent as `ad_storage`), and German texts.
 */
const sold = createPolicy(
  validateConfig({
    categories: [
      { id: 'analytics', services: [{ id: 'matomo' }] },
      { id: 'marketing', services: [{ id: 'meta' }] },
      { id: 'partners' },
    ],
    googleConsentMode: { map: { partners: ['ad_storage'] } },
    texts: { de: {} },
  }).config,
);
const ID = consentIdFrom(new Uint8Array(16).fill(7));

/** The receipt the full banner posts for a choice: choice.ts `decide`, then receipt.ts's body. */
const bannerReceipt = (method: Method, gpc: boolean, granted?: string[]) => {
  const d = decide(sold, { kind: 'choice', method, id: ID, now: Date.now(), gpc, granted });
  return {
    ...good(),
    consentId: d.record!.id,
    mode: method === 'notice-ack' ? 'notice' : 'opt-in',
    // (The banner's JSON.stringify of its granted map, which has no prototype.)
    choices: JSON.parse(JSON.stringify(d.granted)),
    method,
    signals: { gpc: d.record!.gpc },
  };
};
const against = (input: unknown) => {
  const r = validateReceiptInput(input, sold);
  return r.ok ? null : r.error;
};

describe('receipt input against its policy: what the method grants', () => {
  it('accepts every receipt the banner builds, with and without GPC', () => {
    for (const gpc of [false, true]) {
      for (const method of ['accept-all', 'reject-all', 'withdraw', 'notice-ack', 'gpc'] as const)
        assert.equal(against(bannerReceipt(method, gpc)), null, `${method}, gpc ${gpc}`);
      // Custom choices: "Do not sell", a service alone, a sale category ticked under GPC.
      for (const granted of [doNotSell(sold), ['analytics:matomo'], ['marketing'], [], sold.keys.slice()])
        assert.equal(against(bannerReceipt('custom', gpc, granted)), null, `custom ${granted}, gpc ${gpc}`);
    }
  });

  it('refuses a refusal or a withdrawal that grants anything, naming the key', () => {
    const all = {
      analytics: true,
      'analytics:matomo': true,
      marketing: true,
      'marketing:meta': true,
      partners: true,
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ method: 'reject-all', choices: all }, 'choices.analytics'],
      [
        { method: 'reject-all', choices: { analytics: false, marketing: false, partners: true } },
        'choices.partners',
      ],
      [{ method: 'withdraw', choices: { marketing: true } }, 'choices.marketing'],
      // A service alone is granted too (core's `allowed`).
      [{ method: 'withdraw', choices: { 'marketing:meta': true } }, 'choices.marketing:meta'],
    ];
    for (const [over, field] of cases) {
      const e = against({ ...good(), ...over });
      assert.equal(e?.field, field, JSON.stringify(over));
      assert.match(e!.message, /grants nothing/);
    }
    // Nothing granted, said or left out: fine, `necessary` included.
    assert.equal(against({ ...good(), method: 'withdraw', choices: {} }), null);
    assert.equal(
      against({ ...good(), method: 'reject-all', choices: { necessary: true, analytics: false } }),
      null,
    );
  });

  it('refuses an accept-all or notice-ack that does not grant every key, naming the first missing', () => {
    const e = against({ ...good(), method: 'accept-all', choices: {} });
    assert.equal(e?.field, 'choices.analytics');
    assert.match(e!.message, /grants every category and service/);
    const cases: [Record<string, unknown>, string][] = [
      [{ method: 'accept-all', choices: { analytics: true, marketing: true } }, 'choices.partners'],
      [
        { method: 'notice-ack', choices: { analytics: true, marketing: false, partners: true } },
        'choices.marketing',
      ],
      [
        {
          method: 'accept-all',
          choices: { analytics: true, 'analytics:matomo': false, marketing: true, partners: true },
        },
        // A granted category grants its services whatever its service keys say (`allowed`).
        '',
      ],
    ];
    for (const [over, field] of cases) assert.equal(against({ ...good(), ...over })?.field ?? '', field);
  });

  it('under GPC, accept-all and notice-ack withhold exactly the sale categories, as the banner does', () => {
    const everything = { analytics: true, marketing: true, partners: true };
    const unsold = { analytics: true, marketing: false, partners: false };
    for (const method of ['accept-all', 'notice-ack']) {
      const gpc = { ...good(), method, signals: { gpc: true } };
      assert.equal(against({ ...gpc, choices: unsold }), null, method);
      // Marketing by name, partners by its Consent Mode signal (`isSale`).
      assert.equal(against({ ...gpc, choices: { ...unsold, marketing: true } })?.field, 'choices.marketing');
      const e = against({ ...gpc, choices: { ...unsold, partners: true } });
      assert.equal(e?.field, 'choices.partners');
      assert.match(e!.message, /Global Privacy Control/);
      assert.equal(
        against({ ...gpc, choices: { ...unsold, 'marketing:meta': true } })?.field,
        'choices.marketing:meta',
      );
      // Not what GPC spares: analytics must still be granted.
      assert.equal(against({ ...gpc, choices: { ...unsold, analytics: false } })?.field, 'choices.analytics');
      // Without GPC, nothing is withheld.
      assert.equal(against({ ...good(), method, choices: unsold })?.field, 'choices.marketing');
      assert.equal(against({ ...good(), method, choices: everything }), null);
      // The signal sent only as the Sec-GPC header, which the server records in signals.gpc: the
      // page did not see it and granted everything. Both facts stand (a subset still does not).
      assert.equal(against({ ...gpc, choices: everything }), null, `${method}: header-only GPC`);
    }
  });

  it('a gpc-method receipt grants exactly what GPC leaves', () => {
    const gpc = { ...good(), method: 'gpc' };
    assert.equal(against({ ...gpc, choices: { analytics: true, marketing: false, partners: false } }), null);
    assert.equal(
      against({ ...gpc, choices: { analytics: true, marketing: true } })?.field,
      'choices.marketing',
    );
    assert.equal(against({ ...gpc, choices: {} })?.field, 'choices.analytics');
  });

  it('a custom choice may grant anything', () => {
    for (const choices of [
      {},
      { analytics: true, marketing: true, partners: true },
      { 'marketing:meta': true },
    ])
      for (const gpc of [false, true])
        assert.equal(against({ ...good(), method: 'custom', choices, signals: { gpc } }), null);
  });
});

describe('receipt input against its policy: the language', () => {
  it("takes a language the policy publishes texts for, as the banner picks it (a region's falls back)", () => {
    for (const lang of ['en', 'de', 'de-AT', 'en-GB', 'DE'])
      assert.equal(against({ ...good(), lang }), null, lang);
  });

  it('refuses one it does not publish, naming lang and the languages it does', () => {
    for (const lang of ['ar', 'fr', 'fr-DE']) {
      const e = against({ ...good(), lang });
      assert.equal(e?.field, 'lang', lang);
      assert.match(e!.message, /en, de/);
    }
    // English is always published: the banner's fallback.
    const englishOnly = createPolicy(validateConfig({ categories: [{ id: 'analytics' }] }).config);
    assert.equal(validateReceiptInput({ ...good(), choices: {}, lang: 'ar' }, englishOnly).ok, false);
    assert.ok(validateReceiptInput({ ...good(), choices: {}, lang: 'en' }, englishOnly).ok);
  });
});

describe('the mode a region requires', () => {
  const regions = { EU: 'opt-in', 'US-CA': 'opt-out', '*': 'notice' } as const;

  it("is core's mode for the region, and nothing when the region is unknown", () => {
    assert.equal(requiredMode(regions, 'DE'), 'opt-in');
    assert.equal(requiredMode(regions, 'de'), 'opt-in');
    assert.equal(requiredMode(regions, 'US-CA'), 'opt-out');
    assert.equal(requiredMode(regions, 'JP'), 'notice');
    for (const unknown of [null, undefined, '', 'XX', 'T1'])
      assert.equal(requiredMode(regions, unknown), null);
  });

  it("for a country alone, the least strict of its states the regions tell apart (the page's own region may name the state)", () => {
    // cf-ipcountry says US; the page's data-assent-region says US-CA (opt-out).
    assert.equal(requiredMode({ EU: 'opt-in', 'US-CA': 'opt-out' }, 'US'), 'opt-out');
    assert.equal(requiredMode({ EU: 'opt-in', 'US-OPT-OUT': 'opt-out' }, 'US'), 'opt-out');
    assert.equal(requiredMode({ 'US-OPT-OUT': 'opt-out', '*': 'notice' }, 'US'), 'notice');
    assert.equal(requiredMode({ US: 'opt-in', 'US-CA': 'opt-out' }, 'US'), 'opt-out');
    assert.equal(requiredMode({ EU: 'opt-in', 'US-CA': 'opt-out' }, 'FR'), 'opt-in');
    // Keys that are not regions (an inherited name) are nobody's state.
    assert.equal(requiredMode({ EU: 'opt-in', constructor: 'notice' } as never, 'DE'), 'opt-in');
  });

  it('orders the modes opt-in, opt-out, notice, strictest first', () => {
    assert.equal(laxerThan('notice', 'opt-in'), true);
    assert.equal(laxerThan('opt-out', 'opt-in'), true);
    assert.equal(laxerThan('notice', 'opt-out'), true);
    for (const m of ['opt-in', 'opt-out', 'notice'] as const) assert.equal(laxerThan(m, m), false);
    assert.equal(laxerThan('opt-in', 'notice'), false);
    assert.equal(laxerThan('opt-in', 'opt-out'), false);
    assert.equal(laxerThan('opt-out', 'notice'), false);
  });
});

describe('granted and refused, as core decides them', () => {
  it('runs `allowed` over every key of the policy: a key left out is refused, a category grants its services', () => {
    assert.deepEqual(decidedKeys({ analytics: true }, sold.keys), {
      granted: ['analytics', 'analytics:matomo'],
      refused: ['marketing', 'marketing:meta', 'partners'],
    });
    assert.deepEqual(decidedKeys({ 'marketing:meta': true, necessary: true }, sold.keys), {
      granted: ['marketing:meta'],
      refused: ['analytics', 'analytics:matomo', 'marketing', 'partners'],
    });
  });
});

describe('canonical receipt', () => {
  const receipt: Receipt = {
    ...(good() as unknown as Receipt),
    v: 2,
    id: 'r1',
    expiresAt: '2026-07-10T12:00:00.000Z',
    site: 'https://news.example',
    seq: 1,
    at: '2026-01-10T12:00:00.000Z',
    prev: GENESIS,
    region: 'DE',
    ua: 'Firefox',
    ipHash: 'h',
    kid: 'k',
  };

  it('is the same whatever the key order, and leaves out hash and signature', () => {
    const shuffled = Object.fromEntries(Object.entries(receipt).reverse()) as unknown as Receipt;
    assert.equal(canonicalReceipt(shuffled), canonicalReceipt(receipt));
    assert.equal(canonicalReceipt({ ...receipt, hash: 'x', sig: 'y' }), canonicalReceipt(receipt));
    assert.ok(canonicalReceipt(receipt).startsWith('{"at":'));
  });

  it('changes when any choice changes', () => {
    const other = { ...receipt, choices: { ...receipt.choices, marketing: true } };
    assert.notEqual(canonicalReceipt(other), canonicalReceipt(receipt));
  });
});
