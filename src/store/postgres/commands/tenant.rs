//! Tenants, API keys and contacts (`store/writer/link.rs` is their specification). Each is one
//! statement on one row, except `PutContact`, which decides on the contact it replaces.
//!
//! Locking, per command:
//! - `CreateTenant`, `CreateApiKey`: one `INSERT … ON CONFLICT DO UPDATE` — an insert that
//!   replaces the record stored under the same key, as the embedded store's insert does.
//! - `RevokeApiKey`: one conditional `UPDATE` (`revoked_at = coalesce(revoked_at, $at)`):
//!   the row lock it takes makes the first revocation's time the one kept.
//! - `PutContact`: `SELECT … FOR UPDATE` of the contact (its guid is kept), then `UPDATE`;
//!   with no row, `INSERT … ON CONFLICT DO NOTHING`, and if another instance inserted it
//!   meanwhile, the row is locked and replaced as an existing one.
//! - `DeleteContact`: one `DELETE`.

use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::domain::brand::Png;
use crate::domain::contact::Contact;
use crate::store::StoreError;
use crate::store::commands::{
    ContactWritten, CreateApiKey, CreateTenant, DeleteContact, PutContact, RevokeApiKey,
};
use crate::store::postgres::contract::PgApply;
use crate::store::postgres::records::casing_name;
use crate::store::postgres::{from_pg, unique_violation};

impl PgApply for CreateTenant {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        let tenant = &self.0;
        txn.execute(
            "INSERT INTO tenants (tenant_id, name, created_at, accent, logo) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE \
             SET name = EXCLUDED.name, created_at = EXCLUDED.created_at, \
             accent = EXCLUDED.accent, logo = EXCLUDED.logo",
            &[
                &tenant.tenant_id.as_uuid(),
                &tenant.name,
                &tenant.created_at.as_i64(),
                &tenant.accent,
                &tenant.logo.as_ref().map(Png::bytes),
            ],
        )
        .await
        .map_err(|e| from_pg(&e))?;
        Ok(())
    }
}

impl PgApply for CreateApiKey {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        let r = &self.record;
        let result = txn
            .execute(
                "INSERT INTO api_keys (key_hash, key_id, tenant_id, user_id, agent_id, name, \
                   roles, created_at, revoked_at, casing) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (key_hash) DO UPDATE SET key_id = EXCLUDED.key_id, \
                   tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id, \
                   agent_id = EXCLUDED.agent_id, name = EXCLUDED.name, roles = EXCLUDED.roles, \
                   created_at = EXCLUDED.created_at, revoked_at = EXCLUDED.revoked_at, \
                   casing = EXCLUDED.casing",
                &[
                    &self.hash.0.as_slice(),
                    &r.key_id,
                    &r.tenant_id.as_uuid(),
                    &r.user_id.as_uuid(),
                    &r.agent_id,
                    &r.name,
                    &r.roles,
                    &r.created_at.as_i64(),
                    &r.revoked_at.map(|m| m.as_i64()),
                    &r.casing.map(casing_name),
                ],
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            // Key ids are fresh v4 uuids: another key under this id is a caller's mistake.
            Err(e) if unique_violation(&e).is_some() => Err(StoreError::Io(format!(
                "api key id {} is already another key's",
                r.key_id
            ))),
            Err(e) => Err(from_pg(&e)),
        }
    }
}

impl PgApply for RevokeApiKey {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<bool, StoreError> {
        let changed = txn
            .execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE key_id = $1",
                &[&self.key_id, &self.at.as_i64()],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        Ok(changed > 0)
    }
}

/// The contact's columns in the order [`contact_params`] binds them.
const CONTACT_INSERT: &str = "INSERT INTO contacts (tenant_id, contact_id, contact_guid, \
    first_name, last_name, name, email_work, email_personal, phone, sms_opt_in, \
    do_not_contact, active, deleted, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
    ON CONFLICT (tenant_id, contact_id) DO NOTHING";

const CONTACT_UPDATE: &str = "UPDATE contacts SET contact_guid = $3, first_name = $4, \
    last_name = $5, name = $6, email_work = $7, email_personal = $8, phone = $9, \
    sms_opt_in = $10, do_not_contact = $11, active = $12, deleted = $13, updated_at = $14 \
    WHERE tenant_id = $1 AND contact_id = $2";

/// Owned values of a contact's columns.
struct ContactRow {
    tenant_id: Uuid,
    contact_id: i32,
    updated_at: i64,
}

fn contact_params<'a>(c: &'a Contact, k: &'a ContactRow) -> [&'a (dyn ToSql + Sync); 14] {
    [
        &k.tenant_id,
        &k.contact_id,
        &c.contact_guid,
        &c.first_name,
        &c.last_name,
        &c.name,
        &c.email_work,
        &c.email_personal,
        &c.phone,
        &c.sms_opt_in,
        &c.do_not_contact,
        &c.active,
        &c.deleted,
        &k.updated_at,
    ]
}

impl PgApply for PutContact {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<ContactWritten, StoreError> {
        let mut contact = (*self.0).clone();
        let key = ContactRow {
            tenant_id: contact.tenant_id.as_uuid(),
            contact_id: i32::from(contact.contact_id),
            updated_at: contact.updated_at.as_i64(),
        };
        let pg = |e: tokio_postgres::Error| from_pg(&e);
        // Twice at most: a contact another instance inserted between our look and our
        // insert is there, locked by us, the second time.
        for _ in 0..2 {
            let existing = txn
                .query_opt(
                    "SELECT contact_guid FROM contacts \
                     WHERE tenant_id = $1 AND contact_id = $2 FOR UPDATE",
                    &[&key.tenant_id, &key.contact_id],
                )
                .await
                .map_err(pg)?
                .map(|row| crate::store::postgres::rows::get::<Uuid>(&row, "contact_guid"))
                .transpose()?;
            if contact.contact_guid.is_nil() {
                contact.contact_guid = existing.unwrap_or_else(Uuid::new_v4);
            }
            if existing.is_some() {
                txn.execute(CONTACT_UPDATE, &contact_params(&contact, &key))
                    .await
                    .map_err(pg)?;
                return Ok(ContactWritten {
                    contact: Box::new(contact),
                    created: false,
                });
            }
            let inserted = txn
                .execute(CONTACT_INSERT, &contact_params(&contact, &key))
                .await
                .map_err(pg)?;
            if inserted == 1 {
                return Ok(ContactWritten {
                    contact: Box::new(contact),
                    created: true,
                });
            }
            // Someone else's insert won: take theirs as the existing contact.
            contact.contact_guid = self.0.contact_guid;
        }
        Err(StoreError::Conflict)
    }
}

impl PgApply for DeleteContact {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<bool, StoreError> {
        let deleted = txn
            .execute(
                "DELETE FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
                &[&self.tenant_id.as_uuid(), &i32::from(self.contact_id)],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        Ok(deleted > 0)
    }
}
