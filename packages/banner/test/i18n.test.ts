import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EN, type Texts } from '@assent/core';
import { PRESETS } from '@assent/core/i18n';

const presets: Record<string, Texts> = { ...PRESETS };
const PLACEHOLDERS = ['{0}', '{1}'];
const keys = (o: object) => Object.keys(o).sort();
const textKeys = (Object.keys(EN) as (keyof Texts)[]).filter((k) => k !== 'cats');

function assertPlaceholders(where: string, en: string, text: string) {
  for (const p of PLACEHOLDERS) {
    assert.equal(text.includes(p), en.includes(p), `${where}: placeholder ${p} mismatch`);
  }
}

for (const [lang, t] of Object.entries(presets)) {
  describe(`i18n preset ${lang}`, () => {
    it('has exactly the keys of EN', () => {
      assert.deepEqual(keys(t), keys(EN));
    });

    it('has every text non-empty with the same placeholders as EN', () => {
      for (const k of textKeys) {
        const text = t[k];
        assert.equal(typeof text, 'string', `${lang}.${k}`);
        assert.ok((text as string).trim().length > 0, `${lang}.${k} is empty`);
        assertPlaceholders(`${lang}.${k}`, EN[k] as string, text as string);
      }
    });

    it('translates every category of EN.cats and no others', () => {
      assert.deepEqual(keys(t.cats), keys(EN.cats));
      for (const [id, enCat] of Object.entries(EN.cats)) {
        const cat = t.cats[id];
        assert.ok(cat, `${lang}.cats.${id} missing`);
        assert.equal(cat.length, 2, `${lang}.cats.${id} must be [title, description]`);
        cat.forEach((text, i) => {
          assert.ok(text.trim().length > 0, `${lang}.cats.${id}[${i}] is empty`);
          assertPlaceholders(`${lang}.cats.${id}[${i}]`, enCat[i]!, text);
        });
      }
    });

    it('is actually translated', () => {
      for (const k of ['message', 'accept', 'reject'] as const) {
        assert.notEqual(t[k], EN[k], `${lang}.${k} is still English`);
      }
    });
  });
}
