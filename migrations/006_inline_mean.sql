-- The running mean (2 KB at 512-d) is rewritten with every chunk: keep it in the row instead of
-- in TOAST, which saves a TOAST insert and delete per horse and chunk.
ALTER TABLE horses ALTER COLUMN feature_mean SET STORAGE MAIN;
-- Pruning scans the table once a day; an index on last_seen across all streams cost every
-- chunk's update an index entry per horse, more than the daily scan it saved.
DROP INDEX horses_last_seen;
