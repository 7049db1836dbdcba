//! The tables of one write transaction, and the link record helpers every command uses.

use redb::{ReadableTable, Table, WriteTransaction};

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::tables::*;
use crate::domain::link::LinkRecord;

/// All tables open in one write transaction.
pub struct Tables<'t> {
    pub(super) meta: Table<'t, &'static str, u64>,
    pub(super) tenants: Table<'t, u128, &'static [u8]>,
    pub(super) api_keys: Table<'t, [u8; 32], &'static [u8]>,
    pub(super) api_key_ids: Table<'t, u128, [u8; 32]>,
    pub(super) links: Table<'t, u128, &'static [u8]>,
    pub(super) by_token: Table<'t, [u8; 32], u128>,
    pub(super) by_tenant: Table<'t, (u128, u64), u128>,
    pub(super) by_resource: Table<'t, (u128, &'static str, u128, u64), u128>,
    pub(super) by_expiry: Table<'t, (i64, u128), ()>,
    pub(super) by_revoked: Table<'t, (i64, u128), ()>,
    pub(super) contacts: Table<'t, (u128, i32), &'static [u8]>,
    pub(super) outbox: Table<'t, u64, &'static [u8]>,
    pub(super) outbox_due: Table<'t, (i64, u64), ()>,
    pub(super) deliveries_by_link: Table<'t, (u128, u64), ()>,
    pub(super) send_counts: Table<'t, (&'static str, i64), u32>,
    pub(super) grants: Table<'t, [u8; 32], &'static [u8]>,
    pub(super) grants_by_expiry: Table<'t, (i64, [u8; 32]), ()>,
    pub(super) access_log: Table<'t, (u128, u64), &'static [u8]>,
    pub(super) access_log_noise: Table<'t, (u128, &'static str), (u64, i64)>,
    pub(super) log_tombstones: Table<'t, (i64, u128), u128>,
    pub(super) idempotency: Table<'t, (u128, [u8; 32]), &'static [u8]>,
    pub(super) idempotency_by_time: Table<'t, (i64, u128, [u8; 32]), ()>,
    pub(super) attachments: Table<'t, (u128, u128), &'static [u8]>,
    pub(super) attachments_by_idle: Table<'t, (i64, u128, u128), ()>,
    pub(super) webhooks: Table<'t, (u128, &'static str), &'static [u8]>,
}

impl<'t> Tables<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            meta: txn.open_table(META)?,
            tenants: txn.open_table(TENANTS)?,
            api_keys: txn.open_table(API_KEYS)?,
            api_key_ids: txn.open_table(API_KEY_IDS)?,
            links: txn.open_table(LINKS)?,
            by_token: txn.open_table(LINKS_BY_TOKEN)?,
            by_tenant: txn.open_table(LINKS_BY_TENANT)?,
            by_resource: txn.open_table(LINKS_BY_RESOURCE)?,
            by_expiry: txn.open_table(LINKS_BY_EXPIRY)?,
            by_revoked: txn.open_table(LINKS_BY_REVOKED)?,
            contacts: txn.open_table(CONTACTS)?,
            outbox: txn.open_table(OUTBOX)?,
            outbox_due: txn.open_table(OUTBOX_DUE)?,
            deliveries_by_link: txn.open_table(DELIVERIES_BY_LINK)?,
            send_counts: txn.open_table(SEND_COUNTS)?,
            grants: txn.open_table(GRANTS)?,
            grants_by_expiry: txn.open_table(GRANTS_BY_EXPIRY)?,
            access_log: txn.open_table(ACCESS_LOG)?,
            access_log_noise: txn.open_table(ACCESS_LOG_NOISE)?,
            log_tombstones: txn.open_table(LOG_TOMBSTONES)?,
            idempotency: txn.open_table(IDEMPOTENCY)?,
            idempotency_by_time: txn.open_table(IDEMPOTENCY_BY_TIME)?,
            attachments: txn.open_table(ATTACHMENTS)?,
            attachments_by_idle: txn.open_table(ATTACHMENTS_BY_IDLE)?,
            webhooks: txn.open_table(WEBHOOKS)?,
        })
    }

    pub(super) fn load_link_record(&self, uid: u128) -> Result<Option<LinkRecord>, StoreError> {
        match self.links.get(uid)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// Rewrites a stored link (same uid, same index keys).
    pub(super) fn store_link(&mut self, link: &LinkRecord) -> Result<(), StoreError> {
        self.links
            .insert(link.uid.as_u128(), encode(link)?.as_slice())?;
        Ok(())
    }
}
