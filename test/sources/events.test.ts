import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { silentLogger } from '../../src/log/index.ts';
import { createEventPublisher, EventHub, feedHubFromNats } from '../../src/sources/index.ts';
import type { PaddockEvent } from '../../src/sources/index.ts';
import { serviceAvailable } from '../helpers/services.ts';
import { connectTestNats, scratchNames, waitFor } from './helpers.ts';

const natsUp = await serviceAvailable('nats');

describe.skipIf(!natsUp)('output events (real NATS)', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await nc?.drain();
  });

  it('publishes chunk.processed, horse.created, horse.reactivated, horse.identified and horse.merged with the documented shape', async () => {
    const { eventsPrefix } = scratchNames('ev');
    const received: Array<{ subject: string; event: PaddockEvent }> = [];
    const sub = nc.subscribe(`${eventsPrefix}.>`, {
      callback: (_error, msg) => {
        received.push({ subject: msg.subject, event: msg.json<PaddockEvent>() });
      },
    });
    await nc.flush();
    const events = createEventPublisher(nc, { logger: silentLogger(), subjectPrefix: eventsPrefix });
    events.chunkProcessed({
      streamId: 'barn1',
      chunkId: 'barn1-000004',
      sequence: 4,
      horses: [
        { id: 'horse_001', trackingId: 1, status: 'continued' },
        { id: 'horse_002', trackingId: 2, status: 'new' },
      ],
      provisional: [{ trackId: 17, detections: 9 }],
      timingsMs: { decode: 12.5, total: 40 },
      overheadRatio: 0.125,
      processedAt: new Date('2026-03-04T05:06:07.000Z'),
    });
    events.horseCreated('barn1', 'barn1-000004', { id: 'horse_002', trackingId: 2, color: 'bay', name: null });
    events.horseReactivated('barn1', 'barn1-000005', { id: 'horse_001', trackingId: 1, color: 'grey', name: 'Misty' });
    events.horseIdentified('barn1', 'barn1-000005', 17, 'horse_003', 'new');
    events.horseMerged('barn2', 'horse_001', 'horse_003');
    await nc.flush();
    await waitFor(() => (received.length >= 5 ? true : undefined), 3000, 'five events');
    sub.unsubscribe();

    expect(received.map((r) => r.subject)).toEqual([`${eventsPrefix}.barn1`, `${eventsPrefix}.barn1`, `${eventsPrefix}.barn1`, `${eventsPrefix}.barn1`, `${eventsPrefix}.barn2`]);
    expect(received.map((r) => r.event)).toEqual([
      {
        type: 'chunk.processed',
        stream_id: 'barn1',
        chunk_id: 'barn1-000004',
        sequence: 4,
        horses: [
          { id: 'horse_001', tracking_id: 1, status: 'continued' },
          { id: 'horse_002', tracking_id: 2, status: 'new' },
        ],
        provisional: [{ track_id: 17, detections: 9 }],
        timings_ms: { decode: 12.5, total: 40 },
        overhead_ratio: 0.125,
        processed_at: '2026-03-04T05:06:07.000Z',
      },
      { type: 'horse.created', stream_id: 'barn1', chunk_id: 'barn1-000004', horse: { id: 'horse_002', tracking_id: 2, color: 'bay', name: null } },
      { type: 'horse.reactivated', stream_id: 'barn1', chunk_id: 'barn1-000005', horse: { id: 'horse_001', tracking_id: 1, color: 'grey', name: 'Misty' } },
      { type: 'horse.identified', stream_id: 'barn1', chunk_id: 'barn1-000005', track_id: 17, horse_id: 'horse_003', status: 'new' },
      { type: 'horse.merged', stream_id: 'barn2', keep: 'horse_001', drop: 'horse_003' },
    ]);
  });

  it('logs and reports a failed publish instead of throwing', async () => {
    const closed = await connectTestNats();
    await closed.close();
    const failures: string[] = [];
    const events = createEventPublisher(closed, { logger: silentLogger(), onPublishError: (type) => failures.push(type) });
    expect(() => events.horseMerged('barn3', 'horse_001', 'horse_002')).not.toThrow();
    expect(failures).toEqual(['horse.merged']);
  });

  it('feeds the live-event hub from every publisher on NATS, per stream, ignoring what is not an event', async () => {
    const { eventsPrefix } = scratchNames('hub');
    const hub = new EventHub(silentLogger());
    const seen: PaddockEvent[] = [];
    const unsubscribe = hub.subscribe('barn1', (event) => seen.push(event));
    const subscription = feedHubFromNats(nc, hub, silentLogger(), eventsPrefix);
    await nc.flush();
    // As another replica, or `paddock horses merge`, would publish.
    const other = createEventPublisher(nc, { logger: silentLogger(), subjectPrefix: eventsPrefix });
    other.horseMerged('barn1', 'horse_001', 'horse_004');
    other.horseMerged('barn2', 'horse_001', 'horse_002');
    nc.publish(`${eventsPrefix}.barn1`, 'not json');
    other.publish({ type: 'horse.renamed', stream_id: 'barn1', horse_id: 'horse_001', name: 'Bella' });
    await waitFor(() => (seen.length >= 2 ? true : undefined), 5000, 'two events of barn1');
    expect(seen).toEqual([
      { type: 'horse.merged', stream_id: 'barn1', keep: 'horse_001', drop: 'horse_004' },
      { type: 'horse.renamed', stream_id: 'barn1', horse_id: 'horse_001', name: 'Bella' },
    ]);
    unsubscribe();
    expect(hub.listenerCount).toBe(0);
    subscription.unsubscribe();
  });
});
