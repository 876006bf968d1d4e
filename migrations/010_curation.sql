-- Curation through the web app and API (src/http/api): soft delete, sightings, undo.

-- A deleted horse is hidden and never matched again; its row (ID, tracking number) stays.
ALTER TABLE horses ADD COLUMN deleted_at TIMESTAMPTZ;

-- One row per horse per chunk it was seen in: the horse's timeline, and what a split moves.
-- `appearance` is the horse's running mean embedding after the chunk (float32 LE), from which a
-- split rebuilds the feature banks; `thumbnail` a JPEG of the chunk's best view, taken when the
-- horse arrives, comes back or gets a better avatar, and about once a minute otherwise.
CREATE TABLE horse_sightings (
  id          BIGSERIAL        PRIMARY KEY,
  stream_id   TEXT             NOT NULL,
  horse_id    TEXT             NOT NULL,
  chunk_id    TEXT             NOT NULL,
  sequence    BIGINT           NOT NULL,
  first_seen  TIMESTAMPTZ      NOT NULL,
  last_seen   TIMESTAMPTZ      NOT NULL,
  detections  INTEGER          NOT NULL CHECK (detections >= 0),
  confidence  DOUBLE PRECISION NOT NULL,
  box         DOUBLE PRECISION[] CHECK (box IS NULL OR cardinality(box) = 4),
  appearance  BYTEA,
  thumbnail   BYTEA            CHECK (thumbnail IS NULL OR octet_length(thumbnail) <= 102400),
  FOREIGN KEY (stream_id, horse_id) REFERENCES horses (stream_id, id)
);
CREATE INDEX horse_sightings_horse ON horse_sightings (stream_id, horse_id, sequence DESC);
CREATE INDEX horse_sightings_seen ON horse_sightings (last_seen);

-- Operator merges and splits, newest last, so the last one can be undone. The horses' rows as
-- they were before the change are kept beside it (same columns as horses).
CREATE TABLE registry_changes (
  id           BIGSERIAL   PRIMARY KEY,
  stream_id    TEXT        NOT NULL,
  kind         TEXT        NOT NULL CHECK (kind IN ('merge', 'split')),
  -- merge: {keep, drop}; split: {from, created}
  horse_ids    TEXT[]      NOT NULL,
  -- the sightings the change moved from one horse to the other
  sighting_ids BIGINT[]    NOT NULL DEFAULT '{}',
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  undone_at    TIMESTAMPTZ
);
CREATE INDEX registry_changes_stream ON registry_changes (stream_id, id DESC);

CREATE TABLE registry_change_horses (
  change_id BIGINT NOT NULL REFERENCES registry_changes (id),
  LIKE horses
);
CREATE UNIQUE INDEX registry_change_horses_row ON registry_change_horses (change_id, stream_id, id);
