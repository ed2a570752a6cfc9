// Sends log records to lokic with winston and its Loki transport
// (winston-loki), in its protobuf mode (snappy) or its JSON mode (json: true).
// Usage: node winston_send.js URL proto|json APP COUNT
// Record i: level info, warn or error (i % 3), message "record <i> via
// winston-<mode>", meta seq=<i>; odd records add the stream label
// module=odd (winston-loki's per-record labels). The transport has the
// labels {app: APP, env: ci} and batches every second.
'use strict';
const winston = require('winston');
const LokiTransport = require('winston-loki');

const LEVELS = ['info', 'warn', 'error'];

async function main() {
  const [url, mode, app, count] = process.argv.slice(2);
  const transport = new LokiTransport({
    host: url,
    json: mode === 'json',
    labels: { app, env: 'ci' },
    interval: 1,
    gracefulShutdown: false,
    onConnectionError: (err) => { console.error(err); process.exitCode = 1; },
  });
  const want = mode === 'json' ? 'application/json' : 'application/x-protobuf';
  if (transport.batcher.contentType !== want) {
    // winston-loki falls back to JSON when snappy does not load
    throw new Error(`winston-loki sends ${transport.batcher.contentType}, not ${want}`);
  }
  const logger = winston.createLogger({ level: 'info', transports: [transport] });
  for (let i = 0; i < Number(count); i++) {
    const meta = { seq: i };
    if (i % 2 === 1) meta.labels = { module: 'odd' };
    logger.log(LEVELS[i % 3], `record ${i} via winston-${mode}`, meta);
  }
  await transport.flush();
  await transport.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
