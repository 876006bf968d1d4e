-- The idempotency log: one row per processed chunk; a chunk found here is acked and skipped.
CREATE TABLE stream_chunks (
  stream_id    TEXT             NOT NULL,
  chunk_id     TEXT             NOT NULL,
  sequence     BIGINT           NOT NULL,
  start_time   TIMESTAMPTZ,
  duration_s   DOUBLE PRECISION,
  horses_seen  INTEGER          NOT NULL DEFAULT 0,
  timings      JSONB            NOT NULL DEFAULT '{}'::jsonb,
  processed_at TIMESTAMPTZ      NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, chunk_id)
);

CREATE INDEX stream_chunks_sequence ON stream_chunks (stream_id, sequence DESC);
