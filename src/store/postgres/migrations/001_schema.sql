-- customerlink PostgreSQL schema, version 1: every table of the redb store
-- (src/store/tables.rs, docs/storage.md). Records are columns, not blobs, so `check` and
-- operators can query them. Times are bigint Unix milliseconds (UTC), as in the domain and
-- the redb file, so values round-trip exactly and a migration copies them unchanged. Secrets
-- appear only as 32-byte keyed hashes or sealed (encrypted) bytes. The redb index tables
-- become indexes and constraints of their record's table, so they cannot drift from it.

-- tenants: tenant id → Tenant.
CREATE TABLE tenants (
    tenant_id  uuid   PRIMARY KEY,
    name       text   NOT NULL,
    created_at bigint NOT NULL
);

-- api_keys (+ api_key_ids as the unique key_id): keyed hash of the key → ApiKeyRecord.
CREATE TABLE api_keys (
    key_hash   bytea  PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    key_id     uuid   NOT NULL UNIQUE,
    tenant_id  uuid   NOT NULL REFERENCES tenants,
    user_id    uuid   NOT NULL,
    agent_id   integer,
    name       text,
    roles      text[] NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL,
    revoked_at bigint,
    casing     text   CHECK (casing IN ('Camel', 'Pascal'))
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- contacts: (tenant, contact id) → Contact.
CREATE TABLE contacts (
    tenant_id      uuid    NOT NULL REFERENCES tenants,
    contact_id     integer NOT NULL,
    contact_guid   uuid    NOT NULL,
    first_name     text,
    last_name      text,
    name           text,
    email_work     text,
    email_personal text,
    phone          text,
    sms_opt_in     boolean NOT NULL,
    do_not_contact boolean NOT NULL,
    active         boolean NOT NULL,
    deleted        boolean NOT NULL,
    updated_at     bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, contact_id)
);

-- meta.next_link_id: CustomerLinkIds. A sequence never hands one value out twice, across
-- instances too; a rolled-back create leaves a gap (ids are unique and increasing, not dense).
CREATE SEQUENCE link_ids AS bigint MINVALUE 1;

-- links: link uid → LinkRecord, with the redb indexes as constraints and indexes below.
CREATE TABLE links (
    uid                    uuid     PRIMARY KEY,
    link_id                bigint   NOT NULL UNIQUE CHECK (link_id > 0),
    tenant_id              uuid     NOT NULL REFERENCES tenants,
    -- links_by_token: the unique constraint
    token_hash             bytea    NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    resource_type          text     NOT NULL,
    -- the resource type as the resource index compares it: lower-cased by the application
    -- (Rust's to_lowercase), as in redb's links_by_resource key, not by the database's locale
    resource_key           text     NOT NULL,
    resource_uid           uuid     NOT NULL,
    sensitivity_tier       text     NOT NULL,
    require_otp            boolean  NOT NULL,
    otp_channel            text,
    delivery_channels      text     NOT NULL,
    recipient_contact_id   integer,
    recipient_email        text,
    recipient_phone        text,
    recipient_display_name text,
    recipient_type         text     NOT NULL CHECK (recipient_type IN ('Contact', 'AdHoc')),
    sms_consent_snapshot   boolean  NOT NULL,
    created_by_user_id     uuid     NOT NULL,
    created_by_agent_id    integer,
    created_at             bigint   NOT NULL,
    expires_at             bigint   NOT NULL,
    max_views              bigint   NOT NULL CHECK (max_views BETWEEN 0 AND 4294967295),
    view_count             bigint   NOT NULL DEFAULT 0 CHECK (view_count BETWEEN 0 AND 4294967295),
    revoked_at             bigint,
    revoked_by_user_id     uuid,
    resent_at              bigint[] NOT NULL DEFAULT '{}',
    otp_digits             smallint NOT NULL DEFAULT 0 CHECK (otp_digits BETWEEN 0 AND 255),
    -- the live passcode (LinkRecord.otp): all six set, or none
    otp_code_hash          bytea    CHECK (octet_length(otp_code_hash) = 32),
    otp_sealed_code        bytea,
    otp_issued_at          bigint,
    otp_expires_at         bigint,
    otp_tries              bigint   CHECK (otp_tries >= 0),
    otp_sent_at            bigint[],
    otp_failures           bigint   NOT NULL DEFAULT 0 CHECK (otp_failures >= 0),
    locked_at              bigint,
    CHECK (num_nulls(otp_code_hash, otp_sealed_code, otp_issued_at, otp_expires_at,
                     otp_tries, otp_sent_at) IN (0, 6))
);
-- links_by_tenant: newest first
CREATE UNIQUE INDEX links_by_tenant ON links (tenant_id, link_id DESC);
-- links_by_resource
CREATE INDEX links_by_resource ON links (tenant_id, resource_key, resource_uid, link_id DESC);
-- links_by_expiry, links_by_revoked: purge finds retired links without a scan
CREATE INDEX links_by_expiry ON links (expires_at);
CREATE INDEX links_by_revoked ON links (revoked_at) WHERE revoked_at IS NOT NULL;
-- a contact's links (no redb counterpart: cheap here, useful to operators)
CREATE INDEX links_by_contact ON links (tenant_id, recipient_contact_id)
    WHERE recipient_contact_id IS NOT NULL;

-- outbox (+ outbox_due, deliveries_by_link as indexes): delivery id → DeliveryRecord. A
-- delivery goes with its link (purge). leased_until/lease_owner: the instance attempting it
-- (`FOR UPDATE SKIP LOCKED`); a lease past leased_until is free to take again.
CREATE TABLE outbox (
    delivery_id       bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    link_uid          uuid    NOT NULL REFERENCES links ON DELETE CASCADE,
    tenant_id         uuid    NOT NULL,
    channel           text    NOT NULL CHECK (channel IN ('Email', 'Sms')),
    recipient         text    NOT NULL,
    sealed_token      bytea   NOT NULL,
    status            text    NOT NULL CHECK (status IN ('Queued', 'Sent', 'Failed', 'Superseded')),
    attempts          bigint  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at   bigint  NOT NULL,
    last_error        text,
    created_at        bigint  NOT NULL,
    sent_at           bigint,
    kind              text    NOT NULL DEFAULT 'Link' CHECK (kind IN ('Link', 'Passcode')),
    unfinished_leases bigint  NOT NULL DEFAULT 0 CHECK (unfinished_leases >= 0),
    leased_until      bigint,
    lease_owner       uuid,
    CHECK ((leased_until IS NULL) = (lease_owner IS NULL))
);
-- outbox_due: exactly the queued deliveries, by due time
CREATE INDEX outbox_due ON outbox (next_attempt_at, delivery_id) WHERE status = 'Queued';
-- deliveries_by_link
CREATE INDEX deliveries_by_link ON outbox (link_uid, delivery_id);

-- send_counts: messages queued per (tenant, lower-cased address) and per tenant (address '')
-- in each hour since the epoch; redb's "to:<tenant>:<address>" / "tenant:<id>" keys.
CREATE TABLE send_counts (
    tenant_id uuid   NOT NULL,
    address   text   NOT NULL DEFAULT '',
    hour      bigint NOT NULL,
    sent      bigint NOT NULL CHECK (sent >= 0),
    PRIMARY KEY (tenant_id, address, hour)
);
CREATE INDEX send_counts_by_hour ON send_counts (hour);

-- grants (+ grants_by_expiry): keyed hash of a hand-off grant → GrantRecord.
CREATE TABLE grants (
    grant_hash             bytea  PRIMARY KEY CHECK (octet_length(grant_hash) = 32),
    link_uid               uuid   NOT NULL REFERENCES links ON DELETE CASCADE,
    link_id                bigint NOT NULL,
    tenant_id              uuid   NOT NULL,
    resource_type          text   NOT NULL,
    resource_uid           uuid   NOT NULL,
    recipient_display_name text,
    recipient_email        text,
    recipient_phone        text,
    expires_at             bigint NOT NULL,
    token_hash             bytea  NOT NULL CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX grants_by_expiry ON grants (expires_at);

-- access_log (+ access_log_noise as noise_key): (link uid, entry id) → AccessLogEntry. Rows
-- outlive their link (no foreign key) until the tombstone's retention ends. An aggregated
-- noise row has its "event|outcome|address" key and last_at; a single row has neither.
CREATE TABLE access_log (
    link_uid         uuid   NOT NULL,
    id               bigint GENERATED BY DEFAULT AS IDENTITY,
    link_id          bigint NOT NULL,
    tenant_id        uuid   NOT NULL,
    event            text   NOT NULL,
    outcome          text   NOT NULL,
    detail           text,
    actor_ip         text,
    actor_user_agent text,
    actor_user_id    uuid,
    at               bigint NOT NULL,
    count            bigint NOT NULL DEFAULT 1 CHECK (count >= 1),
    last_at          bigint,
    noise_key        text,
    PRIMARY KEY (link_uid, id),
    CHECK ((noise_key IS NULL) = (last_at IS NULL))
);
-- access_log_noise: a repeat finds its row; eviction picks the least recently seen
CREATE UNIQUE INDEX access_log_noise ON access_log (link_uid, noise_key)
    WHERE noise_key IS NOT NULL;
CREATE INDEX access_log_noise_by_last ON access_log (link_uid, last_at)
    WHERE noise_key IS NOT NULL;

-- log_tombstones: a purged link's log is kept one retention window, then deleted.
CREATE TABLE log_tombstones (
    link_uid  uuid   PRIMARY KEY,
    tenant_id uuid   NOT NULL,
    purged_at bigint NOT NULL
);
CREATE INDEX log_tombstones_by_time ON log_tombstones (purged_at);

-- idempotency (+ idempotency_by_time): (tenant, BLAKE3 of the Idempotency-Key) →
-- IdempotencyRecord. No foreign key: a record may outlive a link purged sooner than 24 h.
CREATE TABLE idempotency (
    tenant_id       uuid   NOT NULL,
    key_hash        bytea  NOT NULL CHECK (octet_length(key_hash) = 32),
    operation       text   NOT NULL,
    fingerprint     bytea  NOT NULL CHECK (octet_length(fingerprint) = 32),
    link_uid        uuid   NOT NULL,
    sealed_token    bytea  NOT NULL,
    delivery_errors text[] NOT NULL DEFAULT '{}',
    created_at      bigint NOT NULL,
    PRIMARY KEY (tenant_id, key_hash)
);
CREATE INDEX idempotency_by_time ON idempotency (created_at);
