import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { FieldError } from './errors.js';

const REFUSED_PROTO = 'is refused: a "__proto__" key could change how objects behave';
const REFUSED_CONSTRUCTOR =
  'is refused: a "constructor" key holding "prototype" could change how objects behave';

/**
 * Where a parsed JSON value holds a key Fastify's parser refuses (secure-json-parse: an own
 * `__proto__`, or a `constructor` object with an own `prototype`), as a dotted path
 * (`page.__proto__`) with the reason, or null. Breadth first and without recursion, like the
 * parser's own scan: a deeply nested body cannot overflow the stack.
 */
export const forbiddenKey = (value: unknown): FieldError | null => {
  let level: [unknown, string][] = [[value, '']];
  while (level.length) {
    const next: [unknown, string][] = [];
    for (const [node, path] of level) {
      if (node === null || typeof node !== 'object') continue;
      const at = (key: string) => (path ? `${path}.${key}` : key);
      if (Object.hasOwn(node, '__proto__')) return new FieldError(at('__proto__'), REFUSED_PROTO);
      const c = (node as { constructor?: unknown }).constructor;
      if (
        Object.hasOwn(node, 'constructor') &&
        c !== null &&
        typeof c === 'object' &&
        Object.hasOwn(c, 'prototype')
      )
        return new FieldError(at('constructor'), REFUSED_CONSTRUCTOR);
      for (const [k, v] of Object.entries(node)) next.push([v, at(k)]);
    }
    level = next;
  }
  return null;
};

/**
 * Fastify's own JSON parser (prototype-poisoning protection on: such a body is refused), with
 * one difference: its refusal of valid JSON holding `__proto__` (or `constructor.prototype`)
 * says so, naming the key, where Fastify's says "is not valid JSON". Only a refused body is
 * parsed a second time, to find the key; every other body costs what it did.
 */
export const useJsonParser = (app: FastifyInstance): void => {
  const parse = app.getDefaultJsonParser('error', 'error');
  const parser: FastifyBodyParser<string> = (req, body, done) =>
    parse(req, body, (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return done(err, undefined);
        }
        return done(forbiddenKey(parsed) ?? err, undefined);
      }
      done(err, value);
    });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parser);
};
