export { STREAM_ID_PATTERN, MAX_CHUNK_DURATION_S, ChunkEventError, chunkEventToPayload, isValidStreamId, parseChunkEvent, parseChunkEventJson } from './chunk-event.ts';
export type { ChunkEventPayload } from './chunk-event.ts';
export { connectNats, natsConnectionOptions, redactNatsUrl } from './nats-connection.ts';
export type { ConnectNatsOptions, NatsLink, NatsSettings } from './nats-connection.ts';
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_CHUNK_STREAM,
  DEFAULT_CHUNK_SUBJECT_PREFIX,
  DEFAULT_CONSUMER,
  DEFAULT_DLQ_STREAM,
  DEFAULT_DLQ_SUBJECT_PREFIX,
  DEFAULT_EVENTS_SUBJECT_PREFIX,
  DEFAULT_MAX_ACK_PENDING,
  ensureConsumer,
  ensureStream,
} from './topology.ts';
export { JetStreamSource, openJetStreamSource } from './jetstream-source.ts';
export type { JetStreamSourceOptions } from './jetstream-source.ts';
export { WatchSource, openWatchSource, FAILED_FOLDER } from './watch-source.ts';
export type { WatchSourceOptions } from './watch-source.ts';
export { deadLetterRecord, deadLetterSubject } from './dead-letter.ts';
export type { DeadLetterRecord } from './dead-letter.ts';
export { chunkProcessedEvent, createEventPublisher, createEventPublisherTo } from './events.ts';
export { EventHub, feedHubFromNats, type EventFeed, type EventListener } from './event-hub.ts';
export type { ChunkProcessedInput, EventPublisher, EventPublisherOptions, HorseIdentity, PaddockEvent } from './events.ts';
export { publishChunkEvent } from './publish-event.ts';
export type { PublishChunkOptions, PublishedChunk } from './publish-event.ts';
export type { ChunkSource, InvalidKind, SourceHooks } from './types.ts';
export { createFileListSource, type FileDeliveryOutcome, type FileListSource } from './file-list-source.ts';
