-- 005: webhook endpoints (issue 15 §1). One row per (tenant, name): the target, the events
-- it subscribed to (wire names), the staff switch, the signing secret sealed with the outbox
-- key (bound to tenant and name), and how deliveries to it have gone.
CREATE TABLE webhooks (
    tenant_id            uuid    NOT NULL REFERENCES tenants,
    name                 text    NOT NULL,
    url                  text    NOT NULL,
    events               text[]  NOT NULL,
    enabled              boolean NOT NULL,
    sealed_secret        bytea   NOT NULL,
    created_at           bigint  NOT NULL,
    updated_at           bigint  NOT NULL,
    last_success_at      bigint,
    last_error           text,
    last_error_at        bigint,
    consecutive_failures bigint  NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    disabled_at          bigint,
    PRIMARY KEY (tenant_id, name)
);

-- A webhook event is a delivery of its link in the outbox (kind 'Webhook'): the endpoint's
-- name, the stable webhook-id and the JSON body; NULL for every other kind.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('Link', 'Passcode', 'Webhook'));
ALTER TABLE outbox
    ADD COLUMN webhook_endpoint text,
    ADD COLUMN webhook_id       text,
    ADD COLUMN webhook_body     text,
    ADD CHECK ((kind = 'Webhook') = (webhook_endpoint IS NOT NULL AND webhook_id IS NOT NULL
                                    AND webhook_body IS NOT NULL));

-- webhook_expiry_cursor: one row; expiries up to `through` were announced (`link.expired`)
-- by the purge's expiry pass (the embedded store keeps it in `meta`).
CREATE TABLE webhook_expiry_cursor (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    through  bigint  NOT NULL
);
