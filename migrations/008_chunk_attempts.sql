-- Attempts at a chunk that started and were never finished in order: a row is counted up when
-- tracking starts and down when it ends (done, failed or given back at a shutdown). What is left
-- counts the times the process died mid-chunk; from PADDOCK_MAX_DELIVERIES on, the chunk is
-- dead-lettered (it is probably what kills the process). Redeliveries never count.
CREATE TABLE chunk_attempts (
  stream_id   TEXT        NOT NULL,
  chunk_id    TEXT        NOT NULL,
  interrupted INTEGER     NOT NULL DEFAULT 0,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, chunk_id)
);
