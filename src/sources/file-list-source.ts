import type { ChunkDelivery, ChunkEvent, DeliveryPort } from '../../machines/types.ts';

const DEFAULT_MAX_GIVE_BACKS = 5;

export type FileDeliveryOutcome = { status: 'acked' } | { status: 'dead-lettered'; reason: string };

export interface FileListSource {
  deliveries: ChunkDelivery[];
  port: DeliveryPort;
  /** Resolves when every delivery was acked or dead-lettered, in delivery order. */
  settled: Promise<FileDeliveryOutcome[]>;
  /** Where nak'd deliveries go back to (the supervisor's `send`), set once it runs. */
  setRedeliver(send: (delivery: ChunkDelivery) => void): void;
}

/**
 * Chunk files named on the command line (`paddock process`, `paddock demo`) as deliveries for
 * the same supervisor the daemon runs: ack and dead-letter settle them, a nak gives a file back
 * after its delay, as JetStream would — at most `maxGiveBacks` times: a one-shot command must end
 * (the registry unreachable for good), so the file then counts as failed.
 */
export function createFileListSource(events: ChunkEvent[], maxGiveBacks = DEFAULT_MAX_GIVE_BACKS): FileListSource {
  const outcomes = new Map<number, FileDeliveryOutcome>();
  let redeliver: ((delivery: ChunkDelivery) => void) | null = null;
  let finish: (outcomes: FileDeliveryOutcome[]) => void = () => {};
  const settled = new Promise<FileDeliveryOutcome[]>((resolve) => {
    finish = resolve;
  });
  const deliveries = events.map((event, index): ChunkDelivery => ({ event, deliveryCount: 1, handle: index }));

  const settle = (delivery: ChunkDelivery, outcome: FileDeliveryOutcome) => {
    const index = delivery.handle as number;
    if (outcomes.has(index)) return;
    outcomes.set(index, outcome);
    if (outcomes.size === deliveries.length) finish(deliveries.map((_, i) => outcomes.get(i)!));
  };
  if (deliveries.length === 0) finish([]);

  return {
    deliveries,
    settled,
    setRedeliver(send) {
      redeliver = send;
    },
    port: {
      ack: (delivery) => settle(delivery, { status: 'acked' }),
      deadLetter: (delivery, reason) => settle(delivery, { status: 'dead-lettered', reason }),
      working: () => {},
      nak: (delivery, delayMs) => {
        if (delivery.deliveryCount > maxGiveBacks) {
          settle(delivery, { status: 'dead-lettered', reason: `given back ${delivery.deliveryCount} times without being processed (is the registry reachable?)` });
          return;
        }
        const again: ChunkDelivery = { event: delivery.event, deliveryCount: delivery.deliveryCount + 1, handle: delivery.handle };
        setTimeout(() => redeliver?.(again), delayMs);
      },
    },
  };
}
