-- The tracker's live state after a stream's last chunk (tracks, Kalman state, evidence for new
-- horses), written in the chunk's transaction so a restart or another process resumes mid-track.
-- NULL: no state (a new stream, or one saved before this migration): the tracker starts from the
-- registry alone.
ALTER TABLE streams ADD COLUMN tracker_state BYTEA;
