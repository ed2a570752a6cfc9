// Sends log records to lokic's /otlp/v1/logs with the OpenTelemetry JS SDK
// (@opentelemetry/sdk-logs) through the OTLP/HTTP JSON exporter or the
// protobuf one. Usage: node otlp_send.js URL json|proto SERVICE COUNT
// Each record: body "record <i> via <format>", severity INFO (9),
// attribute seq=<i>; the resource has service.name and host.name.
'use strict';
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { SeverityNumber } = require('@opentelemetry/api-logs');

async function main() {
  const [url, format, service, count] = process.argv.slice(2);
  const Exporter = format === 'proto'
    ? require('@opentelemetry/exporter-logs-otlp-proto').OTLPLogExporter
    : require('@opentelemetry/exporter-logs-otlp-http').OTLPLogExporter;
  const exporter = new Exporter({ url: url + '/otlp/v1/logs' });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'client-host' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('lokic-client-test', '1.0.0');
  for (let i = 0; i < Number(count); i++) {
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `record ${i} via ${format}`,
      attributes: { seq: i },
    });
  }
  await provider.forceFlush();
  await provider.shutdown();
}

main().catch((e) => { console.error(e); process.exit(1); });
