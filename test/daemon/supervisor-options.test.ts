import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { gapTimeoutFor, supervisorOptionsFrom } from '../../src/daemon/supervisor-options.ts';

describe('supervisor settings from the configuration', () => {
  it('waits for a missing sequence longer than the ack wait, so chunks redelivered after a crash keep their order', () => {
    for (const ackWaitS of ['3', '60', '600']) {
      const config = loadConfig({ PADDOCK_NATS_ACK_WAIT_S: ackWaitS });
      const options = supervisorOptionsFrom(config);
      expect(options.stream.gapTimeoutMs).toBeGreaterThan(config.natsTopology.ackWaitMs);
      expect(options.stream.gapTimeoutMs).toBeGreaterThanOrEqual(30_000);
    }
    expect(gapTimeoutFor(60_000)).toBe(90_000);
  });

  it('leaves in-flight chunks less than the absolute shutdown deadline, and acks in progress well inside the ack wait', () => {
    const options = supervisorOptionsFrom(loadConfig({ PADDOCK_SHUTDOWN_DEADLINE_S: '30', PADDOCK_NATS_ACK_WAIT_S: '60' }));
    expect(options.shutdownDeadlineMs).toBe(25_000);
    expect(options.workingIntervalMs).toBe(10_000);
  });
});
