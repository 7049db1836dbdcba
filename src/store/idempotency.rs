//! Idempotency records: what a create or resend sent with an `Idempotency-Key` did, so a
//! client that retries (e.g. after a 503 whose commit became durable anyway) gets the first
//! result instead of a second link. Written in the same transaction as the link; kept
//! [`IDEMPOTENCY_WINDOW_MS`] and then removed by purge. The key itself is stored only as a hash.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::check::CheckReport;
use super::codec::decode;
use super::reader::Reader;
use super::tables::{IDEMPOTENCY, IDEMPOTENCY_BY_TIME};
use crate::domain::{LinkUid, TenantId, UnixMillis};

/// How long a key names its first result (24 h, as payment APIs keep theirs).
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A client's `Idempotency-Key`, as the store sees it: a BLAKE3 hash of the header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyKey(pub [u8; 32]);

impl IdempotencyKey {
    pub fn of(text: &str) -> Self {
        Self(*blake3::hash(text.as_bytes()).as_bytes())
    }
}

/// The stored first result of a key (a stored record, see `codec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The operation the key was first used for (`CustomerLinkCreateRequest`, …).
    pub operation: String,
    /// Hash of the bound request; a resend with another fingerprint is a misuse of the key.
    #[serde(with = "crate::domain::bin::hash")]
    pub fingerprint: [u8; 32],
    pub link_uid: LinkUid,
    /// The token that request minted, sealed to the link (`HashKeys::seal_token`), so the
    /// replay can show the same `PortalUrl` without the token ever being stored in clear.
    #[serde(with = "crate::domain::bin::bytes")]
    pub sealed_token: Vec<u8>,
    /// The first reply's delivery errors known when the link was written (bad channels,
    /// refused by the send limits); results of the first send attempts are not replayed.
    #[serde(default)]
    pub delivery_errors: Vec<String>,
    pub created_at: UnixMillis,
}

impl IdempotencyRecord {
    /// Whether the record still names its result at `now`.
    pub fn is_live(&self, now: UnixMillis) -> bool {
        now.ms_since(self.created_at) < IDEMPOTENCY_WINDOW_MS
    }
}

/// Asks a create or resend to run under a key: if the tenant's key already names a live
/// result, the writer returns it (`Replayable::Replay`) and writes nothing; otherwise it
/// stores `record` (with the refused deliveries added) beside the link.
#[derive(Debug, Clone)]
pub struct IdempotencyStamp {
    pub tenant_id: TenantId,
    pub key: IdempotencyKey,
    pub record: IdempotencyRecord,
}

impl Reader {
    /// The live record of `key` in `tenant_id` at `now`, if any.
    pub fn idempotency(
        &self,
        tenant_id: TenantId,
        key: IdempotencyKey,
        now: UnixMillis,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let found = match self.table(IDEMPOTENCY)?.get((tenant_id.as_u128(), key.0))? {
            Some(g) => Some(decode::<IdempotencyRecord>(g.value())?),
            None => None,
        };
        Ok(found.filter(|r| r.is_live(now)))
    }
}

/// `check`: every record has exactly its time index entry, and every entry names a record.
pub(super) fn check(r: &Reader, report: &mut CheckReport) -> Result<(), StoreError> {
    let records = r.table(IDEMPOTENCY)?;
    let mut indexed = 0u64;
    for entry in r.table(IDEMPOTENCY_BY_TIME)?.iter()? {
        let (at, tenant, key) = entry?.0.value();
        indexed += 1;
        let matches = match records.get((tenant, key))? {
            Some(g) => decode::<IdempotencyRecord>(g.value())
                .is_ok_and(|rec| rec.created_at.as_i64() == at),
            None => false,
        };
        if !matches {
            report.problems.push(format!(
                "idempotency index entry {at}/{tenant:032x} names no matching record"
            ));
        }
    }
    let stored = records.iter()?.count() as u64;
    report.idempotency_keys = stored;
    if stored != indexed {
        report.problems.push(format!(
            "idempotency: {stored} records but {indexed} time index entries"
        ));
    }
    Ok(())
}
