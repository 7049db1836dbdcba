//! The records other than links as PostgreSQL rows: tenants, API keys, contacts, deliveries,
//! access-log entries and idempotency records — the column lists a `SELECT` names and the
//! record read back from a row. As in [`super::rows`], a value the schema's CHECKs should
//! have refused reads as `StoreError::Corrupt`, never a panic.

use tokio_postgres::Row;
use uuid::Uuid;

use super::rows::{channel, get, hash32, millis, unsigned};
use crate::domain::brand::Png;
use crate::domain::contact::Contact;
use crate::domain::delivery::{DeliveryKind, DeliveryRecord, DeliveryStatus};
use crate::domain::evidence::ChainLink;
use crate::domain::portal::{AccessEvent, AccessLogEntry, Actor, Outcome};
use crate::domain::tenant::{ApiKeyRecord, CasingPin, Tenant};
use crate::domain::webhook::WebhookMessage;
use crate::domain::{ContactId, LinkUid, TenantId, UserId};
use crate::store::{IdempotencyRecord, StoreError};

/// The tenant's columns, for [`tenant_from_row`].
pub const TENANT_COLUMNS: &str = "tenant_id, name, created_at, accent, logo";

/// The API key's columns (without its hash), for [`api_key_from_row`].
pub const API_KEY_COLUMNS: &str =
    "key_id, tenant_id, user_id, agent_id, name, roles, created_at, revoked_at, casing";

/// The contact's columns, for [`contact_from_row`].
pub const CONTACT_COLUMNS: &str = "tenant_id, contact_id, contact_guid, first_name, last_name, \
    name, email_work, email_personal, phone, sms_opt_in, do_not_contact, active, deleted, \
    updated_at";

/// The delivery's columns (without its lease), for [`delivery_from_row`].
pub const DELIVERY_COLUMNS: &str = "delivery_id, link_uid, tenant_id, channel, recipient, \
    sealed_token, status, attempts, next_attempt_at, last_error, created_at, sent_at, kind, \
    unfinished_leases, webhook_endpoint, webhook_id, webhook_body";

/// The access-log entry's columns (without its noise key), for [`access_log_from_row`].
pub const ACCESS_LOG_COLUMNS: &str = "link_uid, id, link_id, tenant_id, event, outcome, detail, \
    actor_ip, actor_user_agent, actor_user_id, at, count, last_at, hash, prev_hash";

/// The idempotency record's columns (without its key), for [`idempotency_from_row`].
pub const IDEMPOTENCY_COLUMNS: &str =
    "operation, fingerprint, link_uid, sealed_token, delivery_errors, created_at";

/// `columns` (one of the lists above) taken from the table aliased `table` and renamed with
/// `prefix`: `o.delivery_id AS d_delivery_id, …`, so a join can select another record's
/// columns beside a link's without their names colliding.
pub fn aliased(columns: &str, table: &str, prefix: &str) -> String {
    columns
        .split(',')
        .map(str::trim)
        .map(|c| format!("{table}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tenant read from a row selected with [`TENANT_COLUMNS`].
pub fn tenant_from_row(row: &Row) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        name: get(row, "name")?,
        created_at: millis(get(row, "created_at")?),
        accent: get(row, "accent")?,
        logo: get::<Option<Vec<u8>>>(row, "logo")?
            .map(Png::parse)
            .transpose()
            .map_err(StoreError::Corrupt)?,
    })
}

/// An API key read from a row selected with [`API_KEY_COLUMNS`].
pub fn api_key_from_row(row: &Row) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        key_id: get(row, "key_id")?,
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        user_id: UserId::from(get::<Uuid>(row, "user_id")?),
        agent_id: get(row, "agent_id")?,
        name: get(row, "name")?,
        roles: get(row, "roles")?,
        created_at: millis(get(row, "created_at")?),
        revoked_at: get::<Option<i64>>(row, "revoked_at")?.map(millis),
        casing: get::<Option<String>>(row, "casing")?
            .map(|c| casing(&c))
            .transpose()?,
    })
}

/// The stored name of a casing pin (the variant's name, as the schema's CHECK spells it).
pub fn casing_name(pin: CasingPin) -> &'static str {
    match pin {
        CasingPin::Camel => "Camel",
        CasingPin::Pascal => "Pascal",
    }
}

fn casing(text: &str) -> Result<CasingPin, StoreError> {
    match text {
        "Camel" => Ok(CasingPin::Camel),
        "Pascal" => Ok(CasingPin::Pascal),
        other => Err(StoreError::Corrupt(format!("unknown casing '{other}'"))),
    }
}

/// A contact read from a row selected with [`CONTACT_COLUMNS`].
pub fn contact_from_row(row: &Row) -> Result<Contact, StoreError> {
    contact_from_row_as(row, "")
}

/// [`contact_from_row`] for a row whose contact columns are named with `prefix` (see
/// [`aliased`]).
pub fn contact_from_row_as(row: &Row, prefix: &str) -> Result<Contact, StoreError> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(Contact {
        tenant_id: TenantId::from(get::<Uuid>(row, &c("tenant_id"))?),
        contact_id: ContactId::from(get::<i32>(row, &c("contact_id"))?),
        contact_guid: get(row, &c("contact_guid"))?,
        first_name: get(row, &c("first_name"))?,
        last_name: get(row, &c("last_name"))?,
        name: get(row, &c("name"))?,
        email_work: get(row, &c("email_work"))?,
        email_personal: get(row, &c("email_personal"))?,
        phone: get(row, &c("phone"))?,
        sms_opt_in: get(row, &c("sms_opt_in"))?,
        do_not_contact: get(row, &c("do_not_contact"))?,
        active: get(row, &c("active"))?,
        deleted: get(row, &c("deleted"))?,
        updated_at: millis(get(row, &c("updated_at"))?),
    })
}

/// A delivery read from a row selected with [`DELIVERY_COLUMNS`].
pub fn delivery_from_row(row: &Row) -> Result<DeliveryRecord, StoreError> {
    delivery_from_row_as(row, "")
}

/// [`delivery_from_row`] for a row whose delivery columns are named with `prefix` (see
/// [`aliased`]).
pub fn delivery_from_row_as(row: &Row, prefix: &str) -> Result<DeliveryRecord, StoreError> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(DeliveryRecord {
        delivery_id: unsigned(get(row, &c("delivery_id"))?, "delivery_id")?,
        link_uid: LinkUid::from(get::<Uuid>(row, &c("link_uid"))?),
        tenant_id: TenantId::from(get::<Uuid>(row, &c("tenant_id"))?),
        channel: channel(&get::<String>(row, &c("channel"))?)?,
        to: get(row, &c("recipient"))?,
        sealed_token: get(row, &c("sealed_token"))?,
        status: delivery_status(&get::<String>(row, &c("status"))?)?,
        attempts: unsigned(get(row, &c("attempts"))?, "attempts")?,
        next_attempt_at: millis(get(row, &c("next_attempt_at"))?),
        last_error: get(row, &c("last_error"))?,
        created_at: millis(get(row, &c("created_at"))?),
        sent_at: get::<Option<i64>>(row, &c("sent_at"))?.map(millis),
        kind: delivery_kind(&get::<String>(row, &c("kind"))?)?,
        unfinished_leases: unsigned(get(row, &c("unfinished_leases"))?, "unfinished_leases")?,
        webhook: webhook_from_row(row, prefix)?,
    })
}

/// A webhook delivery's endpoint, id and body (all set for kind `Webhook`, else none).
fn webhook_from_row(row: &Row, prefix: &str) -> Result<Option<WebhookMessage>, StoreError> {
    let c = |name: &str| format!("{prefix}{name}");
    let endpoint: Option<String> = get(row, &c("webhook_endpoint"))?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    Ok(Some(WebhookMessage {
        endpoint,
        id: get::<Option<String>>(row, &c("webhook_id"))?.unwrap_or_default(),
        body: get::<Option<String>>(row, &c("webhook_body"))?.unwrap_or_default(),
    }))
}

/// A stored delivery status (its [`DeliveryStatus::as_str`] name).
pub fn delivery_status(text: &str) -> Result<DeliveryStatus, StoreError> {
    [
        DeliveryStatus::Queued,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Superseded,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
    .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery status '{text}'")))
}

/// A stored delivery kind (its [`DeliveryKind::as_str`] name).
pub fn delivery_kind(text: &str) -> Result<DeliveryKind, StoreError> {
    [
        DeliveryKind::Link,
        DeliveryKind::Passcode,
        DeliveryKind::Webhook,
    ]
    .into_iter()
    .find(|k| k.as_str() == text)
    .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery kind '{text}'")))
}

/// An access-log entry read from a row selected with [`ACCESS_LOG_COLUMNS`].
pub fn access_log_from_row(row: &Row) -> Result<AccessLogEntry, StoreError> {
    Ok(AccessLogEntry {
        id: unsigned(get(row, "id")?, "id")?,
        link_uid: LinkUid::from(get::<Uuid>(row, "link_uid")?),
        link_id: unsigned(get(row, "link_id")?, "link_id")?,
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        event: access_event(&get::<String>(row, "event")?)?,
        outcome: get::<String>(row, "outcome")?
            .parse::<Outcome>()
            .map_err(StoreError::Corrupt)?,
        detail: get(row, "detail")?,
        actor: Actor {
            ip: get(row, "actor_ip")?,
            user_agent: get(row, "actor_user_agent")?,
            user_id: get::<Option<Uuid>>(row, "actor_user_id")?.map(UserId::from),
        },
        at: millis(get(row, "at")?),
        count: unsigned(get(row, "count")?, "count")?,
        last_at: get::<Option<i64>>(row, "last_at")?.map(millis),
        chain: chain_link(get(row, "hash")?, get(row, "prev_hash")?)?,
    })
}

/// A row's place in its link's hash chain (both columns or neither, 32 bytes each).
fn chain_link(
    hash: Option<Vec<u8>>,
    prev: Option<Vec<u8>>,
) -> Result<Option<ChainLink>, StoreError> {
    let bad = || StoreError::Corrupt("an access-log hash is not 32 bytes".into());
    match (hash, prev) {
        (Some(hash), Some(prev)) => Ok(Some(ChainLink {
            hash: hash.try_into().map_err(|_| bad())?,
            prev_hash: prev.try_into().map_err(|_| bad())?,
        })),
        _ => Ok(None),
    }
}

/// A stored access-log event (its [`AccessEvent::as_str`] name).
pub fn access_event(text: &str) -> Result<AccessEvent, StoreError> {
    AccessEvent::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown access-log event '{text}'")))
}

/// An idempotency record read from a row selected with [`IDEMPOTENCY_COLUMNS`].
pub fn idempotency_from_row(row: &Row) -> Result<IdempotencyRecord, StoreError> {
    Ok(IdempotencyRecord {
        operation: get(row, "operation")?,
        fingerprint: hash32(&get::<Vec<u8>>(row, "fingerprint")?)?,
        link_uid: LinkUid::from(get::<Uuid>(row, "link_uid")?),
        sealed_token: get(row, "sealed_token")?,
        delivery_errors: get(row, "delivery_errors")?,
        created_at: millis(get(row, "created_at")?),
    })
}

/// The columns of an attachment record (without its sealed header).
pub const ATTACHMENT_COLUMNS: &str = "tenant_id, attachment_id, name, content_type, download_only, size, sha256, created_at, \
     released_at";

pub fn attachment_from_row(
    row: &Row,
) -> Result<crate::domain::attachment::AttachmentRecord, StoreError> {
    Ok(crate::domain::attachment::AttachmentRecord {
        id: get(row, "attachment_id")?,
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        name: get(row, "name")?,
        content_type: get(row, "content_type")?,
        download_only: get(row, "download_only")?,
        size: super::rows::unsigned(get(row, "size")?, "size")?,
        sha256: super::rows::hash32(get(row, "sha256")?)?,
        created_at: millis(get(row, "created_at")?),
        released_at: get::<Option<i64>>(row, "released_at")?.map(millis),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back_as_their_variants() {
        for s in [
            DeliveryStatus::Queued,
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
            DeliveryStatus::Superseded,
        ] {
            assert_eq!(delivery_status(s.as_str()).ok(), Some(s));
        }
        for k in [DeliveryKind::Link, DeliveryKind::Passcode] {
            assert_eq!(delivery_kind(k.as_str()).ok(), Some(k));
        }
        for e in [
            AccessEvent::Created,
            AccessEvent::OpenDenied,
            AccessEvent::Purged,
        ] {
            assert_eq!(access_event(e.as_str()).ok(), Some(e));
        }
        for c in [CasingPin::Camel, CasingPin::Pascal] {
            assert_eq!(casing(casing_name(c)).ok(), Some(c));
        }
        assert_eq!(
            aliased("a, b,\n c", "o", "d_"),
            "o.a AS d_a, o.b AS d_b, o.c AS d_c"
        );
        assert!(matches!(
            delivery_status("queued"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(access_event("Nope"), Err(StoreError::Corrupt(_))));
    }
}
