//! Portal commands on PostgreSQL: passcode issue and check with their budgets, the view
//! count with its hand-off grant, unlock and the grant exchange. Semantics:
//! `store::writer::portal`. Each command takes the link's row `FOR UPDATE` and runs the same
//! domain rule as the embedded writer (`portal::open`, `otp::request_code`, `otp::enter_code`),
//! so N instances opening a link with k views left count exactly k. A grant is exchanged
//! by one `DELETE … RETURNING`: only one transaction can delete its row. Locks are taken
//! link first, then grant, everywhere (open, exchange, purge).

use tokio_postgres::{Row, Transaction};
use uuid::Uuid;

use super::super::access_log::{log, log_staff};
use super::super::outbox::queue_passcode;
use super::super::rows::{LINK_COLUMNS, get, hash32, link_from_row, millis, unsigned};
use super::super::{PgApply, fault};
use super::link::{link_by_token_for_update, store_link, tenant_link_for_update};
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::otp::{self, CodeEntry, CodeRequest, FAILURES_PER_LINK};
use crate::domain::portal::{self, AccessEvent, GrantRecord, OpenRefusal, Outcome};
use crate::domain::{LinkUid, TenantId, TokenHash, UnixMillis};
use crate::store::StoreError;
use crate::store::commands::{
    ConsumeGrant, GRANTS_FORGOTTEN_PER_BATCH, IssueOtp, IssueOtpOutcome, OpenLink, OpenOutcome,
    UnlockLink, VerifyOtp, VerifyOutcome,
};

/// The grant's columns, in [`insert_grant`]'s parameter order.
pub(in crate::store::postgres) const GRANT_COLUMNS: &str = "grant_hash, link_uid, link_id, tenant_id, resource_type, \
    resource_uid, recipient_display_name, recipient_email, recipient_phone, expires_at, \
    token_hash";

impl PgApply for OpenLink {
    /// Takes the link `FOR UPDATE`, then `portal::open` counts the view on the current row.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<OpenOutcome, StoreError> {
        let (at, actor) = (self.at, &self.actor);
        let Some(mut link) = link_by_token_for_update(txn, self.token_hash).await? else {
            return Ok(OpenOutcome::Unavailable);
        };
        let record = match portal::open(&mut link, self.verified_for, at) {
            Ok(record) => record,
            Err(refusal) => {
                let detail = Some(refusal.detail().to_owned());
                let (event, failure) = (AccessEvent::OpenDenied, Outcome::Failure);
                log(txn, &link, event, failure, detail, actor, at).await?;
                return Ok(match refusal {
                    OpenRefusal::Dead(_) => OpenOutcome::Unavailable,
                    OpenRefusal::PasscodeNotVerified => OpenOutcome::Denied {
                        reason: refusal.detail(),
                    },
                });
            }
        };
        store_link(txn, &link).await?;
        insert_grant(txn, &self.grant.0, &record).await?;
        let detail = portal::opened_detail(&link);
        let (event, success) = (AccessEvent::Opened, Outcome::Success);
        log(txn, &link, event, success, Some(detail), actor, at).await?;
        Ok(OpenOutcome::Opened(Box::new(link)))
    }
}

impl PgApply for IssueOtp {
    /// Takes the link `FOR UPDATE`; `otp::request_code` applies the cooldown and hourly
    /// budget to the current row.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<IssueOtpOutcome, StoreError> {
        let (at, actor, fresh) = (self.at, &self.actor, &self.fresh);
        let Some(mut link) = active_otp_link(txn, self.token_hash, at).await? else {
            return Ok(IssueOtpOutcome::Unavailable);
        };
        let sealed_code = match otp::request_code(&mut link.otp, (&fresh.0, &fresh.1), at) {
            CodeRequest::Send { sealed_code } => sealed_code,
            CodeRequest::Refused { retry_after_ms } => {
                let detail = Some("cooldown or hourly limit".into());
                let (event, failure) = (AccessEvent::OtpSent, Outcome::Failure);
                log(txn, &link, event, failure, detail, actor, at).await?;
                return Ok(IssueOtpOutcome::Refused { retry_after_ms });
            }
        };
        store_link(txn, &link).await?;
        let queued = queue_passcode(txn, &link, sealed_code, at, actor).await?;
        Ok(IssueOtpOutcome::Queued(queued.map(Box::new)))
    }
}

impl PgApply for VerifyOtp {
    /// Takes the link `FOR UPDATE`; `otp::enter_code` counts the attempt before comparing,
    /// so concurrent guesses share one budget.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<VerifyOutcome, StoreError> {
        let (at, actor) = (self.at, &self.actor);
        let Some(mut link) = active_otp_link(txn, self.token_hash, at).await? else {
            return Ok(VerifyOutcome::Unavailable);
        };
        let locked = match otp::enter_code(&mut link, &self.candidate, at) {
            CodeEntry::Verified => {
                store_link(txn, &link).await?;
                let (event, success) = (AccessEvent::OtpVerified, Outcome::Success);
                log(txn, &link, event, success, None, actor, at).await?;
                return Ok(VerifyOutcome::Verified(Box::new(link)));
            }
            CodeEntry::Wrong { locked } => locked,
        };
        store_link(txn, &link).await?;
        let detail = format!(
            "wrong or expired code ({} of {FAILURES_PER_LINK})",
            link.otp_failures
        );
        let failure = Outcome::Failure;
        log(
            txn,
            &link,
            AccessEvent::OtpFailed,
            failure,
            Some(detail),
            actor,
            at,
        )
        .await?;
        if locked {
            let detail = Some("too many wrong codes".into());
            log(txn, &link, AccessEvent::Locked, failure, detail, actor, at).await?;
        }
        Ok(VerifyOutcome::NotVerified { locked })
    }
}

impl PgApply for UnlockLink {
    /// Takes the link `FOR UPDATE`; clears the lock and the failure count if either is set.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Option<Box<LinkRecord>>, StoreError> {
        let Some(mut link) = tenant_link_for_update(txn, self.tenant_id, self.uid).await? else {
            return Ok(None);
        };
        if link.locked_at.is_some() || link.otp_failures > 0 {
            link.locked_at = None;
            link.otp_failures = 0;
            store_link(txn, &link).await?;
            log_staff(txn, &link, AccessEvent::Unlocked, None, self.by, self.at).await?;
        }
        Ok(Some(Box::new(link)))
    }
}

impl PgApply for ConsumeGrant {
    /// Reads the link the grant names `FOR SHARE` (so a revocation, resend or purge
    /// committing meanwhile is seen), then deletes the grant with `DELETE … RETURNING`: of two
    /// exchanges at once, one gets the row. The link is locked before the grant, in the order
    /// open and purge take them, so no two of these deadlock.
    async fn apply_pg(
        &self,
        txn: &Transaction<'_>,
    ) -> Result<Option<Box<GrantRecord>>, StoreError> {
        let Some(link_uid) = grant_link(txn, &self.grant.0, self.tenant_id).await? else {
            return Ok(None);
        };
        let link = link_for_share(txn, link_uid).await?;
        let Some(record) = take_grant(txn, &self.grant.0, self.tenant_id).await? else {
            return Ok(None);
        };
        if self.at >= record.expires_at || !record.is_backed_by(link.as_ref(), self.at) {
            return Ok(None);
        }
        Ok(Some(Box::new(record)))
    }
}

/// The link behind a token, locked, if it is active at `at` and takes passcodes.
async fn active_otp_link(
    txn: &Transaction<'_>,
    token_hash: TokenHash,
    at: UnixMillis,
) -> Result<Option<LinkRecord>, StoreError> {
    Ok(link_by_token_for_update(txn, token_hash)
        .await?
        .filter(|l| l.status(at) == LinkStatus::Active && l.require_otp))
}

/// The link `uid` as committed, held against concurrent change until the transaction ends.
async fn link_for_share(
    txn: &Transaction<'_>,
    uid: LinkUid,
) -> Result<Option<LinkRecord>, StoreError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE uid = $1 FOR SHARE");
    let row = txn
        .query_opt(sql.as_str(), &[&uid.as_uuid()])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    row.as_ref().map(link_from_row).transpose()
}

/// Stores a grant under the keyed hash of its secret.
async fn insert_grant(
    txn: &Transaction<'_>,
    grant: &[u8; 32],
    record: &GrantRecord,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO grants ({GRANT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    let link_id = i64::try_from(record.link_id)
        .map_err(|_| StoreError::Corrupt(format!("link id {} out of range", record.link_id)))?;
    txn.execute(
        sql.as_str(),
        &[
            &grant.as_slice(),
            &record.link_uid.as_uuid(),
            &link_id,
            &record.tenant_id.as_uuid(),
            &record.resource_type,
            &record.resource_uid,
            &record.recipient_display_name,
            &record.recipient_email,
            &record.recipient_phone,
            &record.expires_at.as_i64(),
            &record.token_hash.0.as_slice(),
        ],
    )
    .await
    .map_err(|e| fault::from_pg(&e))?;
    Ok(())
}

/// The link the tenant's grant names, if there is such a grant.
async fn grant_link(
    txn: &Transaction<'_>,
    grant: &[u8; 32],
    tenant_id: TenantId,
) -> Result<Option<LinkUid>, StoreError> {
    let row = txn
        .query_opt(
            "SELECT link_uid FROM grants WHERE grant_hash = $1 AND tenant_id = $2",
            &[&grant.as_slice(), &tenant_id.as_uuid()],
        )
        .await
        .map_err(|e| fault::from_pg(&e))?;
    row.map(|r| get::<Uuid>(&r, "link_uid").map(LinkUid::from))
        .transpose()
}

/// Deletes the tenant's grant and answers it; `None` if there is none (or another
/// transaction took it first).
async fn take_grant(
    txn: &Transaction<'_>,
    grant: &[u8; 32],
    tenant_id: TenantId,
) -> Result<Option<GrantRecord>, StoreError> {
    let sql = format!(
        "DELETE FROM grants WHERE grant_hash = $1 AND tenant_id = $2 RETURNING {GRANT_COLUMNS}"
    );
    let row = txn
        .query_opt(sql.as_str(), &[&grant.as_slice(), &tenant_id.as_uuid()])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    row.as_ref().map(grant_from_row).transpose()
}

/// A grant read from a row selected with [`GRANT_COLUMNS`].
pub(in crate::store::postgres) fn grant_from_row(row: &Row) -> Result<GrantRecord, StoreError> {
    Ok(GrantRecord {
        link_uid: LinkUid::from(get::<Uuid>(row, "link_uid")?),
        link_id: unsigned(get(row, "link_id")?, "link_id")?,
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        resource_type: get(row, "resource_type")?,
        resource_uid: get(row, "resource_uid")?,
        recipient_display_name: get(row, "recipient_display_name")?,
        recipient_email: get(row, "recipient_email")?,
        recipient_phone: get(row, "recipient_phone")?,
        expires_at: millis(get(row, "expires_at")?),
        token_hash: TokenHash(hash32(&get::<Vec<u8>>(row, "token_hash")?)?),
    })
}

/// Deletes up to [`GRANTS_FORGOTTEN_PER_BATCH`] grants that can no longer be exchanged;
/// grants another instance is deleting are left to it. Returns whether the batch was full,
/// so the purge round goes on until none is left.
pub(super) async fn forget_expired_grants(
    txn: &Transaction<'_>,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let limit = i64::try_from(GRANTS_FORGOTTEN_PER_BATCH).unwrap_or(i64::MAX);
    let deleted = txn
        .execute(
            "DELETE FROM grants WHERE grant_hash IN (SELECT grant_hash FROM grants \
             WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&now.as_i64(), &limit],
        )
        .await
        .map_err(|e| fault::from_pg(&e))?;
    Ok(deleted >= GRANTS_FORGOTTEN_PER_BATCH as u64)
}
