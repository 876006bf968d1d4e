/** Server-sent events: a stream's live events on one long response, with a ping every 15 s. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventFeed } from '../../sources/index.ts';

const PING_MS = 15_000;
/** Open event streams at most, all clients together; more are refused with 429. */
export const MAX_EVENT_STREAMS = 256;
/** Open event streams at most per client address (a page holds one; a few tabs, a dashboard). */
export const MAX_EVENT_STREAMS_PER_CLIENT = 8;
/** A client that leaves this much of its stream unread is dropped (EventSource reconnects), not buffered for. */
export const MAX_UNREAD_BYTES = 1024 * 1024;
/** Seconds a refused client is asked to wait before it tries again. */
const RETRY_AFTER_S = 5;

/** Open event streams, so a server stop can end them (they would hold the close forever). */
const open = new Set<() => void>();
const openPerClient = new Map<string, number>();

export function endEventStreams(): void {
  for (const end of [...open]) end();
}

/** `onCount` hears the number of open event streams (all routes together) after each open and close. */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, feed: EventFeed, streamId: string, onCount?: (open: number) => void): FastifyReply | undefined {
  const client = request.ip;
  const ofClient = openPerClient.get(client) ?? 0;
  if (open.size >= MAX_EVENT_STREAMS || ofClient >= MAX_EVENT_STREAMS_PER_CLIENT) {
    const limit = open.size >= MAX_EVENT_STREAMS ? `${MAX_EVENT_STREAMS} in all` : `${MAX_EVENT_STREAMS_PER_CLIENT} per client`;
    return reply
      .code(429)
      .header('retry-after', String(RETRY_AFTER_S))
      .send({ error: { code: 'TOO_MANY_EVENT_STREAMS', message: `too many open event streams (at most ${limit}); close one or retry later` } });
  }
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (text: string) => {
    if (response.writableLength > MAX_UNREAD_BYTES) end();
    else response.write(text);
  };
  const unsubscribe = feed.subscribe(streamId, (event) => send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  const ping = setInterval(() => send(': ping\n\n'), PING_MS);
  const end = () => {
    if (!open.delete(end)) return;
    clearInterval(ping);
    unsubscribe();
    const left = (openPerClient.get(client) ?? 1) - 1;
    if (left > 0) openPerClient.set(client, left);
    else openPerClient.delete(client);
    response.end();
    onCount?.(open.size);
  };
  open.add(end);
  openPerClient.set(client, ofClient + 1);
  onCount?.(open.size);
  response.write(`: stream ${streamId}\n\n`);
  request.raw.on('close', end);
  return undefined;
}
