//! The tables of one write transaction, and the link record helpers every command uses.

use redb::WriteTransaction;

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::tables::*;
use super::LeftBehind;
use super::lazy::Lazy;
use crate::domain::link::LinkRecord;

/// All tables of one write transaction, each opened when a command first touches it.
pub struct Tables<'t> {
    pub(super) meta: Lazy<'t, &'static str, u64>,
    pub(super) tenants: Lazy<'t, u128, &'static [u8]>,
    pub(super) api_keys: Lazy<'t, [u8; 32], &'static [u8]>,
    pub(super) api_key_ids: Lazy<'t, u128, [u8; 32]>,
    pub(super) links: Lazy<'t, u128, &'static [u8]>,
    pub(super) by_token: Lazy<'t, [u8; 32], u128>,
    pub(super) by_tenant: Lazy<'t, (u128, u64), u128>,
    pub(super) by_resource: Lazy<'t, (u128, &'static str, u128, u64), u128>,
    pub(super) by_expiry: Lazy<'t, (i64, u128), ()>,
    pub(super) by_revoked: Lazy<'t, (i64, u128), ()>,
    pub(super) contacts: Lazy<'t, (u128, i32), &'static [u8]>,
    pub(super) outbox: Lazy<'t, u64, &'static [u8]>,
    pub(super) outbox_due: Lazy<'t, (i64, u64), ()>,
    pub(super) deliveries_by_link: Lazy<'t, (u128, u64), ()>,
    pub(super) send_counts: Lazy<'t, (&'static str, i64), u32>,
    pub(super) grants: Lazy<'t, [u8; 32], &'static [u8]>,
    pub(super) grants_by_expiry: Lazy<'t, (i64, [u8; 32]), ()>,
    pub(super) access_log: Lazy<'t, (u128, u64), &'static [u8]>,
    pub(super) access_log_noise: Lazy<'t, (u128, &'static str), (u64, i64)>,
    pub(super) log_tombstones: Lazy<'t, (i64, u128), u128>,
    pub(super) idempotency: Lazy<'t, (u128, [u8; 32]), &'static [u8]>,
    pub(super) idempotency_by_time: Lazy<'t, (i64, u128, [u8; 32]), ()>,
    pub(super) attachments: Lazy<'t, (u128, u128), &'static [u8]>,
    pub(super) attachments_by_idle: Lazy<'t, (i64, u128, u128), ()>,
    pub(super) webhooks: Lazy<'t, (u128, &'static str), &'static [u8]>,
    /// The `meta` id counters drawn from in this batch, with the next id of each.
    ids: Vec<(&'static str, u64)>,
    /// Whether a command of this batch queued a delivery that is due at once.
    pub(super) queued_deliveries: bool,
}

impl<'t> Tables<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Self {
        Self {
            meta: Lazy::new(txn, META),
            tenants: Lazy::new(txn, TENANTS),
            api_keys: Lazy::new(txn, API_KEYS),
            api_key_ids: Lazy::new(txn, API_KEY_IDS),
            links: Lazy::new(txn, LINKS),
            by_token: Lazy::new(txn, LINKS_BY_TOKEN),
            by_tenant: Lazy::new(txn, LINKS_BY_TENANT),
            by_resource: Lazy::new(txn, LINKS_BY_RESOURCE),
            by_expiry: Lazy::new(txn, LINKS_BY_EXPIRY),
            by_revoked: Lazy::new(txn, LINKS_BY_REVOKED),
            contacts: Lazy::new(txn, CONTACTS),
            outbox: Lazy::new(txn, OUTBOX),
            outbox_due: Lazy::new(txn, OUTBOX_DUE),
            deliveries_by_link: Lazy::new(txn, DELIVERIES_BY_LINK),
            send_counts: Lazy::new(txn, SEND_COUNTS),
            grants: Lazy::new(txn, GRANTS),
            grants_by_expiry: Lazy::new(txn, GRANTS_BY_EXPIRY),
            access_log: Lazy::new(txn, ACCESS_LOG),
            access_log_noise: Lazy::new(txn, ACCESS_LOG_NOISE),
            log_tombstones: Lazy::new(txn, LOG_TOMBSTONES),
            idempotency: Lazy::new(txn, IDEMPOTENCY),
            idempotency_by_time: Lazy::new(txn, IDEMPOTENCY_BY_TIME),
            attachments: Lazy::new(txn, ATTACHMENTS),
            attachments_by_idle: Lazy::new(txn, ATTACHMENTS_BY_IDLE),
            webhooks: Lazy::new(txn, WEBHOOKS),
            ids: Vec::new(),
            queued_deliveries: false,
        }
    }

    /// The next id of the `meta` counter `name` (`next_link_id`, `next_log_id` …). Read once
    /// per batch and counted in memory, written back once by [`Tables::finish`]: a create
    /// draws two ids, and a `meta` read and write for each was 1-2 % of the writer's time.
    pub(super) fn next_id(&mut self, name: &'static str) -> Result<u64, StoreError> {
        if let Some((_, next)) = self.ids.iter_mut().find(|(n, _)| *n == name) {
            *next += 1;
            return Ok(*next - 1);
        }
        let id = self.meta.get(name)?.map(|g| g.value()).unwrap_or(1);
        self.ids.push((name, id + 1));
        Ok(id)
    }

    /// Writes back the counters [`Tables::next_id`] drew from. The batch's last write before
    /// its commit: an aborted batch writes none of them, like the rows that used the ids.
    /// Returns whether the batch queued a delivery due at once.
    pub(super) fn finish(mut self) -> Result<LeftBehind, StoreError> {
        for (name, next) in std::mem::take(&mut self.ids) {
            self.meta.insert(name, next)?;
        }
        Ok(if self.queued_deliveries {
            LeftBehind::Deliveries
        } else {
            LeftBehind::Nothing
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
