/**
 * Output events inside one process, per stream, for live views (the API's server-sent events).
 * Fed by a NATS subscription to every replica's events, or directly by the publisher when the
 * daemon runs without NATS.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../log/index.ts';
import type { PaddockEvent } from './events.ts';
import { DEFAULT_EVENTS_SUBJECT_PREFIX } from './topology.ts';

export type EventListener = (event: PaddockEvent) => void;

export interface EventFeed {
  /** Calls `listener` with each event of the stream from now on; returns the unsubscribe. */
  subscribe(streamId: string, listener: EventListener): () => void;
}

export class EventHub implements EventFeed {
  private readonly listeners = new Map<string, Set<EventListener>>();

  constructor(private readonly logger: Logger) {}

  emit(event: PaddockEvent): void {
    for (const listener of this.listeners.get(event.stream_id) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ stream_id: event.stream_id, type: event.type, err: (error as Error).message }, 'live event listener threw');
      }
    }
  }

  subscribe(streamId: string, listener: EventListener): () => void {
    let set = this.listeners.get(streamId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(streamId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(streamId) === set) this.listeners.delete(streamId);
    };
  }

  /** Listeners now subscribed, over all streams (the API's open event streams). */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }
}

/** Feeds the hub from `<prefix>.>` on NATS: every replica's events and those of `paddock horses`. */
export function feedHubFromNats(nc: NatsConnection, hub: EventHub, logger: Logger, subjectPrefix: string = DEFAULT_EVENTS_SUBJECT_PREFIX): Subscription {
  return nc.subscribe(`${subjectPrefix}.>`, {
    callback: (error, message) => {
      if (error !== null) {
        logger.warn({ err: error.message }, 'live event subscription failed');
        return;
      }
      try {
        const event = message.json<PaddockEvent>();
        if (typeof event?.stream_id === 'string' && typeof event.type === 'string') hub.emit(event);
      } catch {
        logger.debug({ subject: message.subject }, 'live event that is not JSON ignored');
      }
    },
  });
}
