import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowed,
  type ConsentId,
  consentIdFrom,
  consentModeSignals,
  createPolicy,
  decide,
  doNotSell,
  gpcHonored,
  grantsBeyond,
  isSale,
  parseShortcode,
  validateConfig,
} from '../src/index.js';

const ID = consentIdFrom(new Uint8Array(16).fill(1));
const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;

const policyOf = (json: object) => createPolicy(validateConfig(json).config);
const base = {
  categories: [{ id: 'analytics', services: [{ id: 'matomo' }, { id: 'ga' }] }, { id: 'marketing' }],
};

describe('decide', () => {
  it('shows the banner and grants nothing on a first visit in opt-in mode', () => {
    const d = decide(policyOf(base), { kind: 'load', stored: null, now: NOW, id: ID });
    assert.equal(d.show, true);
    assert.ok(Object.values(d.granted).every((v) => v === false));
    assert.equal(d.record, undefined);
  });

  it('an accepted choice is remembered for `days`, then asked again', () => {
    const policy = createPolicy(parseShortcode('buttons=(Accept !) days=(20) mode=(notice)').config);
    const { record } = decide(policy, { kind: 'choice', method: 'notice-ack', id: ID, now: NOW });
    assert.ok(record);
    assert.equal(record.expiresAt - record.givenAt, 20 * DAY);
    assert.equal(
      decide(policy, { kind: 'load', stored: record, now: NOW + 20 * DAY - 1000, id: ID }).show,
      false,
    );
    const later = decide(policy, { kind: 'load', stored: record, now: NOW + 20 * DAY, id: ID });
    assert.equal(later.show, true);
    assert.equal(later.stale, 'expired');
  });

  it('shortening `days` shortens the choices already given (days is not in the fingerprint)', () => {
    const long = createPolicy(parseShortcode('days=(395)').config);
    const { record } = decide(long, { kind: 'choice', method: 'accept-all', id: ID, now: NOW });
    const short = createPolicy(parseShortcode('days=(182)').config);
    assert.equal(short.hash, long.hash, 'the same policy to the cookie');
    assert.equal(decide(short, { kind: 'load', stored: record!, now: NOW + 181 * DAY, id: ID }).show, false);
    const later = decide(short, { kind: 'load', stored: record!, now: NOW + 183 * DAY, id: ID });
    assert.deepEqual([later.show, later.stale], [true, 'expired']);
    // Lengthening it never extends a choice past its own expiry.
    assert.equal(
      decide(long, { kind: 'load', stored: { ...record!, expiresAt: NOW + DAY }, now: NOW + 2 * DAY, id: ID })
        .show,
      true,
    );
  });

  it('a reject is remembered as long as an accept', () => {
    const policy = policyOf(base);
    const a = decide(policy, { kind: 'choice', method: 'accept-all', id: ID, now: NOW }).record!;
    const r = decide(policy, { kind: 'choice', method: 'reject-all', id: ID, now: NOW }).record!;
    assert.equal(a.expiresAt, r.expiresAt);
    assert.equal(decide(policy, { kind: 'load', stored: r, now: NOW + DAY, id: ID }).show, false);
  });

  it('a new policy version or a changed text makes stored consent stale', () => {
    const p1 = policyOf({ ...base, policy: 'v1' });
    const rec = decide(p1, { kind: 'choice', method: 'accept-all', id: ID, now: NOW }).record!;
    assert.equal(decide(p1, { kind: 'load', stored: rec, now: NOW, id: ID }).show, false);
    for (const changed of [
      { ...base, policy: 'v2' },
      { ...base, policy: 'v1', texts: { en: { message: 'We now also use ads.' } } },
      { ...base, policy: 'v1', categories: [...base.categories, { id: 'functional' }] },
      { ...base, policy: 'v1', mode: 'notice' },
    ]) {
      const d = decide(policyOf(changed), { kind: 'load', stored: rec, now: NOW, id: ID });
      assert.equal(d.show, true, JSON.stringify(changed));
      assert.equal(d.stale, 'policy');
    }
    // A change the visitor never sees is not material.
    assert.equal(
      decide(policyOf({ ...base, policy: 'v1', days: 30 }), { kind: 'load', stored: rec, now: NOW, id: ID })
        .show,
      false,
    );
  });

  it('restores exactly the stored choices', () => {
    const policy = policyOf(base);
    const rec = decide(policy, {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      granted: ['analytics:matomo', 'marketing'],
    }).record!;
    const { granted } = decide(policy, { kind: 'load', stored: rec, now: NOW, id: ID });
    // No prototype: only the policy's own keys can ever read as granted.
    assert.equal(Object.getPrototypeOf(granted), null);
    assert.deepEqual(
      { ...granted },
      {
        analytics: false,
        'analytics:matomo': true,
        'analytics:ga': false,
        marketing: true,
      },
    );
    assert.equal(allowed(granted, 'analytics', 'matomo'), true);
    assert.equal(allowed(granted, 'analytics', 'ga'), false);
    assert.equal(allowed(granted, 'analytics'), false);
    assert.equal(allowed(granted, 'necessary'), true);
  });

  it('granting a category grants its services', () => {
    const { granted } = decide(policyOf(base), {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      granted: ['analytics'],
    });
    assert.equal(granted['analytics:ga'], true);
    assert.equal(granted.marketing, false);
  });

  it('opt-out mode is on until the visitor opts out; GPC opts out without asking', () => {
    const policy = policyOf({ ...base, mode: 'opt-out' });
    const first = decide(policy, { kind: 'load', stored: null, now: NOW, id: ID });
    assert.equal(first.show, true);
    assert.equal(first.granted.marketing, true);
    const gpc = decide(policy, { kind: 'load', stored: null, now: NOW, id: ID, gpc: true });
    assert.equal(gpc.show, false);
    assert.equal(gpc.granted.marketing, false);
    assert.equal(gpc.granted.analytics, true);
    // Applied live, never stored as the visitor's own choice: no record (no cookie, no receipt).
    assert.equal(gpc.record, undefined);
    assert.equal(gpc.gpc, true);
  });

  it('GPC is read live: a signal sent after an earlier "accept all" refuses sale/sharing; a tick made under it stands', () => {
    const policy = policyOf({ ...base, mode: 'opt-out' });
    const all = decide(policy, { kind: 'choice', method: 'accept-all', id: ID, now: NOW }).record!;
    const later = decide(policy, { kind: 'load', stored: all, now: NOW + 1000, id: ID, gpc: true });
    assert.deepEqual([later.show, later.granted.marketing, later.granted.analytics], [false, false, true]);
    // The signal off again: the visitor's own choice is back (it was never overwritten).
    const off = decide(policy, { kind: 'load', stored: all, now: NOW + 2000, id: ID });
    assert.equal(off.granted.marketing, true);
    // Opt-out's preferences start with everything ticked: unticking analytics and saving is a
    // custom choice that never ticked marketing. A signal sent later refuses it as it refuses
    // "accept all".
    const saved = decide(policy, {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      granted: ['marketing'],
    }).record!;
    const gave = decide(policy, { kind: 'load', stored: saved, now: NOW + 1000, id: ID, gpc: true });
    assert.deepEqual([gave.granted.marketing, gave.granted.analytics], [false, false]);
    // Under the signal the preferences show marketing off: ticking it then is the visitor's
    // explicit, specific choice, and it stands while the signal stays on.
    const ticked = decide(policy, {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      gpc: true,
      granted: ['marketing'],
    }).record!;
    const kept = decide(policy, { kind: 'load', stored: ticked, now: NOW + 1000, id: ID, gpc: true });
    assert.equal(kept.granted.marketing, true);
  });

  it('in opt-in mode GPC keeps marketing off even on Accept all, but not a specific tick', () => {
    const policy = policyOf(base);
    const d = decide(policy, { kind: 'choice', method: 'accept-all', id: ID, now: NOW, gpc: true });
    assert.equal(d.granted.analytics, true);
    assert.equal(d.granted.marketing, false);
    assert.equal(d.record?.gpc, true);
    const ticked = decide(policy, {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      gpc: true,
      granted: ['marketing'],
    });
    assert.equal(ticked.granted.marketing, true);
  });

  it('withdrawal and reject grant nothing', () => {
    const policy = policyOf(base);
    for (const method of ['reject-all', 'withdraw'] as const) {
      const d = decide(policy, { kind: 'choice', method, id: ID, now: NOW });
      assert.ok(
        Object.values(d.granted).every((v) => !v),
        method,
      );
    }
  });

  it('handles more than 32 keys without wrapping bits', () => {
    const many = { categories: Array.from({ length: 40 }, (_, i) => ({ id: `c${i}` })) };
    const policy = policyOf(many);
    const rec = decide(policy, { kind: 'choice', method: 'custom', id: ID, now: NOW, granted: ['c39', 'c0'] })
      .record!;
    const { granted } = decide(policy, { kind: 'load', stored: rec, now: NOW, id: ID });
    assert.deepEqual(
      Object.keys(granted).filter((k) => granted[k]),
      ['c0', 'c39'],
    );
  });

  it('a clock far behind the stored time does not count as valid consent', () => {
    const policy = policyOf(base);
    const rec = decide(policy, { kind: 'choice', method: 'accept-all', id: ID as ConsentId, now: NOW })
      .record!;
    assert.equal(decide(policy, { kind: 'load', stored: rec, now: NOW - 3 * DAY, id: ID }).show, true);
  });

  it('GPC refuses a category the Consent Mode map sends as ad signals, and counts it for "honoured"', () => {
    const p = policyOf({
      mode: 'opt-out',
      categories: [{ id: 'remarketing' }, { id: 'analytics' }],
      googleConsentMode: { map: { remarketing: ['ad_storage', 'ad_user_data', 'ad_personalization'] } },
    });
    const map = p.config.googleConsentMode?.map;
    const d = decide(p, { kind: 'load', stored: null, now: NOW, id: ID, gpc: true });
    assert.deepEqual({ ...d.granted }, { remarketing: false, analytics: true });
    const s = consentModeSignals(d.granted, map);
    assert.deepEqual([s.ad_storage, s.ad_user_data, s.ad_personalization], ['denied', 'denied', 'denied']);
    assert.equal(gpcHonored(p, d.granted), true);
    // Every path GPC takes: accept-all, a stored accept-all, "Do not sell".
    const all = decide(p, { kind: 'choice', method: 'accept-all', id: ID, now: NOW, gpc: true });
    assert.equal(all.granted.remarketing, false);
    const later = decide(p, {
      kind: 'load',
      stored: decide(p, { kind: 'choice', method: 'accept-all', id: ID, now: NOW }).record!,
      now: NOW + 1000,
      id: ID,
      gpc: true,
    });
    assert.equal(later.granted.remarketing, false);
    assert.deepEqual(doNotSell(p), ['analytics']);
    // A visitor's explicit tick stands, and then the opt-out is no longer shown as honoured.
    const ticked = decide(p, {
      kind: 'choice',
      method: 'custom',
      id: ID,
      now: NOW,
      gpc: true,
      granted: ['remarketing'],
    });
    assert.equal(ticked.granted.remarketing, true);
    assert.equal(gpcHonored(p, ticked.granted), false);
    assert.equal(isSale('remarketing:crm', p), true);
    assert.equal(isSale('analytics', p), false);
  });

  it('"Do not sell" refuses exactly the sale/sharing categories and their services, as GPC does', () => {
    const p = policyOf({
      mode: 'opt-out',
      categories: [
        { id: 'analytics', services: [{ id: 'matomo' }] },
        { id: 'marketing', services: [{ id: 'ads' }] },
        { id: 'advertising' },
      ],
    });
    assert.deepEqual(doNotSell(p), ['analytics', 'analytics:matomo']);
    const d = decide(p, { kind: 'choice', method: 'custom', id: ID, now: 0, granted: doNotSell(p) });
    const g = decide(p, { kind: 'choice', method: 'gpc', id: ID, now: 0, gpc: true });
    assert.deepEqual({ ...d.granted }, { ...g.granted });
  });
});

describe('grantsBeyond', () => {
  it('compares every key of the widest policy, not only the first 32', () => {
    assert.equal(grantsBeyond(0b101, 0b111), false);
    assert.equal(grantsBeyond(0b101, 0b001), true);
    // Key 40 granted here and not in the record: 32-bit `&` and `~` lost it.
    const k40 = 2 ** 40;
    assert.equal(grantsBeyond(k40 + 1, 1), true);
    assert.equal(grantsBeyond(k40, k40 + 2 ** 52), false);
    assert.equal(grantsBeyond(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 2 ** 52), true);
  });
});
