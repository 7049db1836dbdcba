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
