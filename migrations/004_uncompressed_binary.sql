-- JPEG thumbnails and float32 vectors do not compress: store them out of line without trying,
-- which saves the compression attempt on every write.
ALTER TABLE horses ALTER COLUMN avatar_thumbnail SET STORAGE EXTERNAL;
ALTER TABLE horses ALTER COLUMN feature_exemplars SET STORAGE EXTERNAL;
ALTER TABLE horses ALTER COLUMN feature_mean SET STORAGE EXTERNAL;
ALTER TABLE horses ALTER COLUMN feature_first SET STORAGE EXTERNAL;
