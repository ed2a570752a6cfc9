// Sends log records to lokic with pino and its Loki transport (pino-loki),
// batched (batching.interval 1 s) or one request per record (batching false).
// Usage: node pino_send.js URL batch|direct APP COUNT
// Record i: level info, warn or error (i % 3), msg "record <i> via
// pino-<mode>", seq=<i>, module=m<i % 2> (made a stream label by
// propsToLabels), meta.trace_id=t<i> (pino-loki's structured metadata). The
// transport's labels are {app: APP, env: ci}; pino's hostname is client-host.
'use strict';
const { once } = require('node:events');
const pino = require('pino');
const { pinoLoki } = require('pino-loki');

const LEVELS = ['info', 'warn', 'error'];

async function main() {
  const [url, mode, app, count] = process.argv.slice(2);
  const stream = pinoLoki({
    host: url,
    labels: { app, env: 'ci' },
    propsToLabels: ['module'],
    batching: mode === 'batch' ? { interval: 1 } : false,
  });
  const logger = pino({ base: { hostname: 'client-host' } }, stream);
  for (let i = 0; i < Number(count); i++) {
    logger[LEVELS[i % 3]]({ seq: i, module: `m${i % 2}`, meta: { trace_id: `t${i}` } },
      `record ${i} via pino-${mode}`);
  }
  // batched records go when the stream closes; direct ones are in flight
  // until node's event loop drains
  stream.end();
  await once(stream, 'close');
}

main().catch((e) => { console.error(e); process.exit(1); });
