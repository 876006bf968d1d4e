-- Stream ownership for several replicas (src/ownership): one lease per stream, held by one
-- replica at a time. `token` only ever grows (a row is never deleted, a released lease is only
-- expired): every registry write of the owner checks it in its own transaction, so a paused or
-- partitioned former owner can never overwrite what the new owner wrote. Times are the
-- database's clock, so replicas' clocks need not agree.
CREATE TABLE stream_leases (
  stream_id   TEXT        PRIMARY KEY,
  owner       TEXT        NOT NULL,
  token       BIGINT      NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX stream_leases_owner ON stream_leases (owner);

-- Replicas alive: each renews its row with its leases; the live ones share the streams.
CREATE TABLE paddock_replicas (
  replica_id TEXT        PRIMARY KEY,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL
);

-- Which replica wrote a chunk-log row (NULL: a single process without leases).
ALTER TABLE stream_chunks ADD COLUMN processed_by TEXT;
