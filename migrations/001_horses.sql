-- The per-stream horse registry. Rows are never deleted: IDs and tracking numbers are never reused.
CREATE TABLE horses (
  stream_id         TEXT             NOT NULL,
  id                TEXT             NOT NULL,
  tracking_id       INTEGER          NOT NULL CHECK (tracking_id > 0),
  name              TEXT,
  color             TEXT             NOT NULL,
  -- Feature bank, float32 little-endian: first appearance, running mean, and up to K exemplars
  -- concatenated (feature_exemplar_count × feature_dim values).
  feature_dim            INTEGER     NOT NULL CHECK (feature_dim > 0),
  feature_first          BYTEA       NOT NULL,
  feature_mean           BYTEA       NOT NULL,
  feature_exemplars      BYTEA       NOT NULL,
  feature_exemplar_count INTEGER     NOT NULL CHECK (feature_exemplar_count >= 0),
  last_box          DOUBLE PRECISION[] CHECK (last_box IS NULL OR cardinality(last_box) = 4),
  avatar_thumbnail  BYTEA            CHECK (avatar_thumbnail IS NULL OR octet_length(avatar_thumbnail) <= 102400),
  thumbnail_quality DOUBLE PRECISION,
  first_detected    TIMESTAMPTZ      NOT NULL,
  last_seen         TIMESTAMPTZ      NOT NULL,
  total_detections  INTEGER          NOT NULL DEFAULT 0 CHECK (total_detections >= 0),
  confidence_score  DOUBLE PRECISION NOT NULL DEFAULT 0,
  version           INTEGER          NOT NULL DEFAULT 1,
  merged_into       TEXT,
  created_at        TIMESTAMPTZ      NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ      NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, id),
  UNIQUE (stream_id, tracking_id),
  FOREIGN KEY (stream_id, merged_into) REFERENCES horses (stream_id, id)
);

-- Loading one stream's live horses, most recent first.
CREATE INDEX horses_stream_recency ON horses (stream_id, last_seen DESC) WHERE merged_into IS NULL;
-- Pruning across streams by inactivity.
CREATE INDEX horses_last_seen ON horses (last_seen);
