-- 003: attachments are retired by the purge (issue 17). `released_at` is set when the purge
-- removes the last share pointing at an attachment; an attachment no share points at is
-- removed (with its chunks) once the retention window has passed since the later of its
-- upload and its release, found through the index on that moment.
ALTER TABLE attachments ADD COLUMN released_at bigint;

-- attachments_by_idle: the moment since which no share held the attachment.
CREATE INDEX attachments_by_idle
    ON attachments ((greatest(created_at, coalesce(released_at, 0))));
