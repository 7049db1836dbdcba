-- 002: attachments (issue 17). The sealed file lives in the database so every instance serves
-- it: the record (with the 65-byte sealed header) in `attachments`, each sealed 64 KiB chunk a
-- row of `attachment_chunks`. Chunks are written as the upload streams in, before the record;
-- chunks with no record (an upload that died) are removed by the purge after an hour.

-- attachments: (tenant, attachment id) → AttachmentRecord and the sealed header.
CREATE TABLE attachments (
    tenant_id     uuid    NOT NULL REFERENCES tenants,
    attachment_id uuid    NOT NULL,
    name          text    NOT NULL,
    content_type  text    NOT NULL,
    download_only boolean NOT NULL,
    size          bigint  NOT NULL,
    sha256        bytea   NOT NULL,
    header        bytea   NOT NULL,
    created_at    bigint  NOT NULL,
    PRIMARY KEY (tenant_id, attachment_id),
    UNIQUE (attachment_id)
);

-- attachment_chunks: (attachment id, chunk index) → sealed chunk.
CREATE TABLE attachment_chunks (
    attachment_id uuid        NOT NULL,
    n             bigint      NOT NULL,
    bytes         bytea       NOT NULL,
    written_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attachment_id, n)
);
