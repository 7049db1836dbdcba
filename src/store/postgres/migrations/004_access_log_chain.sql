-- 004: the access log's hash chain (issue 15 §3). Each row written from now on carries its
-- hash and the head of its link's chain it followed (32 bytes each, `domain::evidence`);
-- rows written before stay without (the evidence marks them Unchained).
ALTER TABLE access_log
    ADD COLUMN hash      bytea,
    ADD COLUMN prev_hash bytea,
    ADD CONSTRAINT access_log_chain CHECK (
        (hash IS NULL) = (prev_hash IS NULL)
        AND (hash IS NULL OR (octet_length(hash) = 32 AND octet_length(prev_hash) = 32)));
