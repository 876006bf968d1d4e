-- Per-stream settings and the registry version that moves on every write, so a loaded
-- registry can tell cheaply whether it is stale.
CREATE TABLE streams (
  stream_id           TEXT        PRIMARY KEY,
  registry_version    BIGINT      NOT NULL DEFAULT 0,
  herd_expected_count INTEGER     CHECK (herd_expected_count IS NULL OR herd_expected_count > 0),
  herd_official_ids   TEXT[]      NOT NULL DEFAULT '{}',
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
