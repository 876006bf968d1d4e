import type { PaddockConfig } from '../config/index.ts';

/**
 * How long a stream waits for a missing sequence before going on without it. After a crash the
 * unacked chunks come back only after the ack wait, while later chunks arrive at once: the wait
 * must outlast the ack wait (with a margin) or the later chunks would be processed first.
 */
export function gapTimeoutFor(ackWaitMs: number): number {
  return Math.max(30_000, ackWaitMs + Math.max(5_000, Math.floor(ackWaitMs / 2)));
}

/** Supervisor settings from the configuration, shared by the daemon and one-shot commands. */
export function supervisorOptionsFrom(config: PaddockConfig) {
  return {
    maxInflight: config.maxInflight,
    idleTimeoutMs: config.idleTimeoutMs,
    // In-flight chunks get the deadline less what closing the connections may take, so the
    // daemon's absolute deadline (cli/commands/run.ts) is rarely the one that ends it.
    shutdownDeadlineMs: Math.max(1000, config.shutdownDeadlineMs - Math.min(5000, Math.floor(config.shutdownDeadlineMs / 3))),
    // In-progress acks well inside JetStream's ack wait, so a long chunk is never redelivered.
    workingIntervalMs: Math.min(10_000, Math.floor(config.natsTopology.ackWaitMs / 3)),
    stream: { maxDeliveries: config.maxDeliveries, gapTimeoutMs: gapTimeoutFor(config.natsTopology.ackWaitMs) },
  };
}

