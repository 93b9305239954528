/**
 * The API description as the server generates it, for integrators who read it without running
 * a server: `npm run openapi -w @assent/server` writes packages/server/openapi.json (committed;
 * test/openapi.test.ts fails when it is out of date).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from '../src/server.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** The document of a server with the default options, as text (what the committed file holds). */
export const generateOpenApi = async (): Promise<string> => {
  const server = await createServer({
    db: 'sqlite::memory:',
    logger: false,
    retention: false,
    log: false,
  });
  try {
    await server.app.ready();
    return `${JSON.stringify(server.app.swagger(), null, 2)}\n`;
  } finally {
    await server.close();
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, await generateOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
