/** Server-sent events: a stream's live events on one long response, with a ping every 15 s. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventFeed } from '../../sources/index.ts';

const PING_MS = 15_000;

/** Open event streams, so a server stop can end them (they would hold the close forever). */
const open = new Set<() => void>();

export function endEventStreams(): void {
  for (const end of [...open]) end();
}

/** `onCount` hears the number of open event streams (all routes together) after each open and close. */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, feed: EventFeed, streamId: string, onCount?: (open: number) => void): void {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  response.write(`: stream ${streamId}\n\n`);
  const unsubscribe = feed.subscribe(streamId, (event) => {
    response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const ping = setInterval(() => response.write(': ping\n\n'), PING_MS);
  const end = () => {
    if (!open.delete(end)) return;
    clearInterval(ping);
    unsubscribe();
    response.end();
    onCount?.(open.size);
  };
  open.add(end);
  onCount?.(open.size);
  request.raw.on('close', end);
}
