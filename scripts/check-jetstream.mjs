// Exits 0 when the NATS server at the given URL has JetStream enabled, 1 otherwise.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const url = process.argv[2] ?? 'nats://127.0.0.1:4222';
try {
  const nc = await connect({ servers: url, timeout: 3000 });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.getAccountInfo();
  console.log(`[ci] NATS JetStream ready at ${url} (streams: ${info.streams})`);
  await nc.close();
} catch (error) {
  console.error(`[ci] NATS JetStream is not available at ${url}: ${error.message}`);
  process.exit(1);
}
