// Runs the workspace's TypeScript sources in this process, as if built: tsx compiles them, and
// `@assent/*` imports resolve through each package's `@assent/source` export condition to src/
// instead of dist/ (the same as `node --conditions=@assent/source --import tsx`). The CLIs'
// bin files load this in a checkout, so a change to any package runs without a build; the
// published packages have no src/ and run dist/ without it.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered after tsx, so it runs first and tsx resolves with the condition added.
register(
  'data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, "@assent/source"] });',
);
