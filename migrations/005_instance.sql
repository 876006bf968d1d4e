-- Identifies this database. The hot cache records it, so a Redis shared by mistake with another
-- database (staging and production, two test runs) is never trusted for this one.
CREATE TABLE paddock_instance (
  id         TEXT        PRIMARY KEY,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO paddock_instance (id) VALUES (gen_random_uuid()::text);
