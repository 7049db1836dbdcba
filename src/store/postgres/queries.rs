//! How PostgreSQL answers each query of [`crate::store::queries`]. Every answer is ONE
//! statement, so it reads one snapshot as the embedded store's read transaction does (a link
//! with its deliveries, contact or tenant name comes from a join, a page with its total from
//! one statement). Orders and filters are exactly the embedded store's: newest link first,
//! deliveries by id, the access log by (time, id), API keys by creation (then hash, the
//! embedded store's scan order), contacts by id. A link's status is computed, never stored:
//! the status filter is [`LinkRecord::status`] written as a `WHERE` clause.

use std::sync::LazyLock;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};
use uuid::Uuid;

use super::contract::PgFetch;
use super::fault;
use super::records::{
    ACCESS_LOG_COLUMNS, API_KEY_COLUMNS, CONTACT_COLUMNS, DELIVERY_COLUMNS, IDEMPOTENCY_COLUMNS,
    TENANT_COLUMNS, access_log_from_row, aliased, api_key_from_row, contact_from_row,
    contact_from_row_as, delivery_from_row_as, idempotency_from_row, tenant_from_row,
};
use super::rows::{LINK_COLUMNS, get, link_from_row, resource_key, unsigned};
use crate::domain::contact::Contact;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::share::{Family, SHARED_DOCUMENT};
use crate::store::queries::{
    AccessLogOf, ApiKeyByHash, ApiKeysOf, ContactOf, ContactsOf, IdempotencyOf, LandingOf,
    LinkByToken, LinkCounts, LinkCountsAt, LinkOf, LinkWithContact, LinkWithDeliveries,
    LinkWithTenantName, LinksByResource, LinksByTenant, RevocableLinks, ShareOf, TenantCount,
    TenantOf,
};
use crate::store::{LinkPage, StoreError};

type Params<'a> = [&'a (dyn ToSql + Sync)];

async fn query(client: &Client, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
    client
        .query(sql, params)
        .await
        .map_err(|e| fault::from_pg(&e))
}

async fn query_opt(
    client: &Client,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, StoreError> {
    client
        .query_opt(sql, params)
        .await
        .map_err(|e| fault::from_pg(&e))
}

/// A `usize` offset or count as a `bigint` parameter.
fn count_param(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A link with its tenant's display name (`tenant_name`, NULL without a tenant row).
static LINK_WITH_TENANT_NAME: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {LINK_COLUMNS}, (SELECT t.name FROM tenants t WHERE t.tenant_id = links.tenant_id) \
         AS tenant_name FROM links"
    )
});

/// A link (if it is the tenant's) with one row per delivery (`d_*`, NULL when it has none).
/// Deliveries are looked for only under the embedded store's condition: the link went out
/// on a channel, or it takes passcodes.
static LINK_WITH_DELIVERIES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT l.*, d.* FROM (SELECT {LINK_COLUMNS} FROM links WHERE uid = $1 AND tenant_id = $2) l \
         LEFT JOIN LATERAL (SELECT {} FROM outbox o WHERE o.link_uid = l.uid \
           AND (l.delivery_channels <> '' OR l.require_otp)) d ON true \
         ORDER BY d.d_delivery_id",
        aliased(DELIVERY_COLUMNS, "o", "d_")
    )
});

/// A link (if it is the tenant's) with its recipient's contact (`c_*`, NULL if none).
static LINK_WITH_CONTACT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT l.*, c.* FROM (SELECT {LINK_COLUMNS} FROM links WHERE uid = $1 AND tenant_id = $2) l \
         LEFT JOIN LATERAL (SELECT {} FROM contacts k WHERE k.tenant_id = l.tenant_id \
           AND k.contact_id = l.recipient_contact_id) c ON true",
        aliased(CONTACT_COLUMNS, "k", "c_")
    )
});

impl PgFetch for LinkOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<LinkRecord>, StoreError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE uid = $1 AND tenant_id = $2");
        let (uid, tenant) = (self.uid.as_uuid(), self.tenant.as_uuid());
        query_opt(client, &sql, &[&uid, &tenant])
            .await?
            .map(|row| link_from_row(&row))
            .transpose()
    }
}

impl PgFetch for LinkByToken {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<LinkRecord>, StoreError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE token_hash = $1");
        query_opt(client, &sql, &[&self.0.0.as_slice()])
            .await?
            .map(|row| link_from_row(&row))
            .transpose()
    }
}

impl PgFetch for LinkWithDeliveries {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<(LinkRecord, Vec<DeliveryRecord>)>, StoreError> {
        let (uid, tenant) = (self.0.uid.as_uuid(), self.0.tenant.as_uuid());
        let rows = query(client, &LINK_WITH_DELIVERIES, &[&uid, &tenant]).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let link = link_from_row(first)?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            if get::<Option<i64>>(row, "d_delivery_id")?.is_some() {
                let d = delivery_from_row_as(row, "d_")?;
                if d.kind != crate::domain::delivery::DeliveryKind::Webhook {
                    deliveries.push(d);
                }
            }
        }
        Ok(Some((link, deliveries)))
    }
}

impl PgFetch for LinkWithContact {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<(LinkRecord, Option<Contact>)>, StoreError> {
        let (uid, tenant) = (self.0.uid.as_uuid(), self.0.tenant.as_uuid());
        let Some(row) = query_opt(client, &LINK_WITH_CONTACT, &[&uid, &tenant]).await? else {
            return Ok(None);
        };
        let link = link_from_row(&row)?;
        let contact = match get::<Option<i32>>(&row, "c_contact_id")? {
            Some(_) => Some(contact_from_row_as(&row, "c_")?),
            None => None,
        };
        Ok(Some((link, contact)))
    }
}

impl PgFetch for LinkWithTenantName {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<(LinkRecord, String)>, StoreError> {
        let sql = format!(
            "{} WHERE uid = $1 AND tenant_id = $2",
            *LINK_WITH_TENANT_NAME
        );
        let (uid, tenant) = (self.0.uid.as_uuid(), self.0.tenant.as_uuid());
        query_opt(client, &sql, &[&uid, &tenant])
            .await?
            .map(|row| with_tenant_name(&row))
            .transpose()
    }
}

/// The landing page's link: the token's link only while it is active at `now` (the
/// domain's [`LinkRecord::status`] decides, as in the embedded store).
impl PgFetch for LandingOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<(LinkRecord, String)>, StoreError> {
        let sql = format!("{} WHERE token_hash = $1", *LINK_WITH_TENANT_NAME);
        let Some(row) = query_opt(client, &sql, &[&self.token.0.as_slice()]).await? else {
            return Ok(None);
        };
        let found = with_tenant_name(&row)?;
        Ok((found.0.status(self.now) == LinkStatus::Active).then_some(found))
    }
}

fn with_tenant_name(row: &Row) -> Result<(LinkRecord, String), StoreError> {
    let name = get::<Option<String>>(row, "tenant_name")?.unwrap_or_default();
    Ok((link_from_row(row)?, name))
}

impl PgFetch for LinksByResource {
    async fn fetch_pg(&self, client: &Client) -> Result<Vec<LinkRecord>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links \
             WHERE tenant_id = $1 AND resource_key = $2 AND resource_uid = $3 \
             ORDER BY link_id DESC"
        );
        let tenant = self.tenant.as_uuid();
        let key = resource_key(&self.resource_type);
        let rows = query(client, &sql, &[&tenant, &key, &self.resource_uid]).await?;
        rows.iter().map(link_from_row).collect()
    }
}

/// [`LinkRecord::status`] at `$4` as a condition on a `links` row: revocation wins over
/// expiry, expiry over exhaustion, exhaustion over a lock.
pub fn status_condition(status: Option<LinkStatus>) -> &'static str {
    match status {
        None => "true",
        Some(LinkStatus::Revoked) => "revoked_at IS NOT NULL",
        Some(LinkStatus::Expired) => "revoked_at IS NULL AND $4 >= expires_at",
        Some(LinkStatus::Exhausted) => {
            "revoked_at IS NULL AND $4 < expires_at AND view_count >= max_views"
        }
        Some(LinkStatus::Locked) => {
            "revoked_at IS NULL AND $4 < expires_at AND view_count < max_views \
             AND locked_at IS NOT NULL"
        }
        Some(LinkStatus::Active) => {
            "revoked_at IS NULL AND $4 < expires_at AND view_count < max_views \
             AND locked_at IS NULL"
        }
    }
}

/// [`Family::owns`] as a `WHERE` clause (the marker is a constant without quotes).
fn family_condition(family: Family) -> String {
    let op = match family {
        Family::CustomerLink => "<>",
        Family::DocumentShare => "=",
    };
    format!("resource_type {op} '{SHARED_DOCUMENT}'")
}

impl PgFetch for RevocableLinks {
    async fn fetch_pg(&self, client: &Client) -> Result<Vec<crate::domain::LinkUid>, StoreError> {
        let f = &self.filter;
        let sql = format!(
            "SELECT uid FROM links WHERE tenant_id = $1 AND revoked_at IS NULL AND {} \
               AND ($2::text IS NULL OR (resource_key = $2 AND resource_uid = $3)) \
               AND ($4::bigint IS NOT NULL) AND {} \
               AND ($5::int IS NULL OR recipient_contact_id = $5) \
               AND ($6::uuid IS NULL OR created_by_user_id = $6) \
             ORDER BY link_id LIMIT $7",
            family_condition(Family::CustomerLink),
            status_condition(f.status),
        );
        let key = f.resource.as_ref().map(|(rt, _)| resource_key(rt));
        let uid = f.resource.as_ref().map(|(_, ru)| *ru);
        let contact = f.contact.map(i32::from);
        let by = f.created_by.map(crate::domain::UserId::as_uuid);
        let (tenant, now, limit) = (
            self.tenant.as_uuid(),
            self.now.as_i64(),
            count_param(self.limit),
        );
        let params: [&(dyn ToSql + Sync); 7] = [&tenant, &key, &uid, &now, &contact, &by, &limit];
        let rows = query(client, &sql, &params).await?;
        rows.iter()
            .map(|row| get::<Uuid>(row, "uid").map(crate::domain::LinkUid::from))
            .collect()
    }
}

impl PgFetch for ShareOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<LinkRecord>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE tenant_id = $1 AND link_id = $2 AND {}",
            family_condition(Family::DocumentShare)
        );
        let tenant = self.tenant.as_uuid();
        let id = i64::try_from(self.id).unwrap_or(i64::MAX);
        query_opt(client, &sql, &[&tenant, &id])
            .await?
            .map(|row| link_from_row(&row))
            .transpose()
    }
}

/// One page and the number that matched in all, from one statement: the page is left-joined
/// to a single row carrying the total, so an empty page still answers the total.
impl PgFetch for LinksByTenant {
    async fn fetch_pg(&self, client: &Client) -> Result<LinkPage, StoreError> {
        // A filter that does not depend on the time names no `$4`.
        let condition = status_condition(self.status);
        let family = family_condition(self.family);
        let sql = format!(
            "WITH matched AS (SELECT {LINK_COLUMNS} FROM links \
               WHERE tenant_id = $1 AND {family} AND {condition}) \
             SELECT total.n AS total, page.* FROM (SELECT count(*) AS n FROM matched) total \
             LEFT JOIN (SELECT * FROM matched ORDER BY link_id DESC OFFSET $2 LIMIT $3) page \
               ON true \
             ORDER BY page.link_id DESC"
        );
        let tenant = self.tenant.as_uuid();
        let (skip, take) = (count_param(self.skip), count_param(self.take));
        let now = self.now.as_i64();
        let params: [&(dyn ToSql + Sync); 4] = [&tenant, &skip, &take, &now];
        let params = if condition.contains("$4") {
            &params[..]
        } else {
            &params[..3]
        };
        let rows = query(client, &sql, params).await?;
        let mut page = LinkPage::default();
        for row in &rows {
            page.total = unsigned(get(row, "total")?, "total")?;
            if get::<Option<Uuid>>(row, "uid")?.is_some() {
                page.links.push(link_from_row(row)?);
            }
        }
        Ok(page)
    }
}

impl PgFetch for AccessLogOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Vec<crate::domain::portal::AccessLogEntry>, StoreError> {
        let sql = format!(
            "SELECT {ACCESS_LOG_COLUMNS} FROM access_log WHERE link_uid = $1 AND tenant_id = $2 \
             ORDER BY at, id"
        );
        let (uid, tenant) = (self.uid.as_uuid(), self.tenant.as_uuid());
        let rows = query(client, &sql, &[&uid, &tenant]).await?;
        rows.iter().map(access_log_from_row).collect()
    }
}

impl PgFetch for ContactOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<Contact>, StoreError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND contact_id = $2"
        );
        let (tenant, id) = (self.tenant.as_uuid(), i32::from(self.id));
        query_opt(client, &sql, &[&tenant, &id])
            .await?
            .map(|row| contact_from_row(&row))
            .transpose()
    }
}

/// A page by contact id and the tenant's count, from one statement (as [`LinksByTenant`]).
impl PgFetch for ContactsOf {
    async fn fetch_pg(&self, client: &Client) -> Result<(Vec<Contact>, u64), StoreError> {
        let sql = format!(
            "SELECT total.n AS total, page.* \
             FROM (SELECT count(*) AS n FROM contacts WHERE tenant_id = $1) total \
             LEFT JOIN (SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 \
               ORDER BY contact_id OFFSET $2 LIMIT $3) page ON true \
             ORDER BY page.contact_id"
        );
        let tenant = self.tenant.as_uuid();
        let (skip, take) = (count_param(self.skip), count_param(self.take));
        let rows = query(client, &sql, &[&tenant, &skip, &take]).await?;
        let mut contacts = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = unsigned(get(row, "total")?, "total")?;
            if get::<Option<i32>>(row, "contact_id")?.is_some() {
                contacts.push(contact_from_row(row)?);
            }
        }
        Ok((contacts, total))
    }
}

impl PgFetch for ApiKeyByHash {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<crate::domain::tenant::ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
        query_opt(client, &sql, &[&self.0.0.as_slice()])
            .await?
            .map(|row| api_key_from_row(&row))
            .transpose()
    }
}

impl PgFetch for ApiKeysOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Vec<crate::domain::tenant::ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 \
             ORDER BY created_at, key_hash"
        );
        let rows = query(client, &sql, &[&self.0.as_uuid()]).await?;
        rows.iter().map(api_key_from_row).collect()
    }
}

impl PgFetch for TenantOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<crate::domain::tenant::Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = $1");
        query_opt(client, &sql, &[&self.0.as_uuid()])
            .await?
            .map(|row| tenant_from_row(&row))
            .transpose()
    }
}

impl PgFetch for TenantCount {
    async fn fetch_pg(&self, client: &Client) -> Result<u64, StoreError> {
        let rows = query(client, "SELECT count(*) AS n FROM tenants", &[]).await?;
        match rows.first() {
            Some(row) => unsigned(get(row, "n")?, "n"),
            None => Ok(0),
        }
    }
}

/// The link gauges: one pass over the links (PostgreSQL keeps no row counts to read).
impl PgFetch for LinkCountsAt {
    async fn fetch_pg(&self, client: &Client) -> Result<LinkCounts, StoreError> {
        let sql = "SELECT count(*) AS total, \
                   count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked, \
                   count(*) FILTER (WHERE revoked_at IS NULL AND expires_at <= $1) AS expired \
                   FROM links";
        let rows = query(client, sql, &[&self.now.as_i64()]).await?;
        let Some(row) = rows.first() else {
            return Ok(LinkCounts::default());
        };
        Ok(LinkCounts {
            total: unsigned(get(row, "total")?, "total")?,
            revoked: unsigned(get(row, "revoked")?, "revoked")?,
            expired: unsigned(get(row, "expired")?, "expired")?,
        })
    }
}

/// The key's record only while it is live at `now` (the record's own rule decides).
impl PgFetch for IdempotencyOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<crate::store::IdempotencyRecord>, StoreError> {
        let sql = format!(
            "SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency WHERE tenant_id = $1 AND key_hash = $2"
        );
        let tenant = self.tenant.as_uuid();
        let Some(row) = query_opt(client, &sql, &[&tenant, &self.key.0.as_slice()]).await? else {
            return Ok(None);
        };
        let record = idempotency_from_row(&row)?;
        Ok(record.is_live(self.now).then_some(record))
    }
}

impl PgFetch for crate::store::queries::AttachmentOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<crate::domain::attachment::AttachmentRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM attachments WHERE tenant_id = $1 AND attachment_id = $2",
            super::records::ATTACHMENT_COLUMNS
        );
        query_opt(client, &sql, &[&self.tenant.as_uuid(), &self.id])
            .await?
            .map(|row| super::records::attachment_from_row(&row))
            .transpose()
    }
}

impl PgFetch for crate::store::queries::GrantOf {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Option<crate::domain::portal::GrantRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM grants WHERE grant_hash = $1",
            super::commands::GRANT_COLUMNS
        );
        query_opt(client, &sql, &[&self.0.0.as_slice()])
            .await?
            .map(|row| super::commands::grant_from_row(&row))
            .transpose()
    }
}

/// Chunk 0 is the sealed header (kept on the record), chunks 1.. the sealed chunks.
impl PgFetch for crate::store::queries::AttachmentChunk {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<Vec<u8>>, StoreError> {
        let row = if self.n == 0 {
            query_opt(
                client,
                "SELECT header AS bytes FROM attachments WHERE attachment_id = $1",
                &[&self.id],
            )
            .await?
        } else {
            query_opt(
                client,
                "SELECT bytes FROM attachment_chunks WHERE attachment_id = $1 AND n = $2",
                &[&self.id, &self.n],
            )
            .await?
        };
        row.map(|row| get::<Vec<u8>>(&row, "bytes")).transpose()
    }
}

impl PgFetch for crate::store::queries::AllAttachments {
    async fn fetch_pg(
        &self,
        client: &Client,
    ) -> Result<Vec<crate::domain::attachment::AttachmentRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM attachments ORDER BY attachment_id",
            super::records::ATTACHMENT_COLUMNS
        );
        let rows = query(client, &sql, &[]).await?;
        rows.iter()
            .map(super::records::attachment_from_row)
            .collect()
    }
}
