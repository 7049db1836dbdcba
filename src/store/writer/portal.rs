//! Portal commands in the writer: passcode issue and check with their budgets, the atomic
//! view count with its hand-off grant, unlock and grant exchange (the access log itself is
//! `access_log.rs`). Every check happens before the first write.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{
    ConsumeGrant, GRANTS_FORGOTTEN_PER_BATCH, IssueOtp, IssueOtpOutcome, LogDenials, LogEvent,
    LogLandings, OpenLink, OpenOutcome, UnlockLink, VerifyOtp, VerifyOutcome,
};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::otp::{self, CodeEntry, CodeRequest, FAILURES_PER_LINK};
use crate::domain::portal::{self, AccessEvent, Actor, GrantRecord, OpenRefusal, Outcome};
use crate::domain::token::SecretHash;
use crate::domain::{TenantId, TokenHash, UnixMillis};

impl Apply for IssueOtp {
    fn apply(&self, t: &mut Tables<'_>) -> Result<IssueOtpOutcome, StoreError> {
        t.issue_otp(self)
    }
}

impl Apply for VerifyOtp {
    fn apply(&self, t: &mut Tables<'_>) -> Result<VerifyOutcome, StoreError> {
        t.verify_otp(self.token_hash, &self.candidate, self.at, &self.actor)
    }
}

impl Apply for OpenLink {
    fn apply(&self, t: &mut Tables<'_>) -> Result<OpenOutcome, StoreError> {
        t.open_link(self)
    }
}

impl Apply for UnlockLink {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        let Some(mut link) = t
            .load_link_record(self.uid.as_u128())?
            .filter(|l| l.tenant_id == self.tenant_id)
        else {
            return Ok(None);
        };
        if link.locked_at.is_some() || link.otp_failures > 0 {
            link.locked_at = None;
            link.otp_failures = 0;
            t.store_link(&link)?;
            t.log_staff(&link, AccessEvent::Unlocked, None, self.by, self.at)?;
        }
        Ok(Some(Box::new(link)))
    }
}

impl Apply for ConsumeGrant {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        Ok(t.consume_grant(self.grant.0, self.tenant_id, self.at)?
            .map(Box::new))
    }
}

impl Apply for LogEvent {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        if let Some(link) = t.link_by_token(self.token_hash)? {
            let detail = self.detail.clone();
            t.log(
                &link,
                self.event,
                self.outcome,
                detail,
                &self.actor,
                self.at,
            )?;
        }
        Ok(())
    }
}

impl Apply for LogDenials {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        for denial in &self.0 {
            if let Some(link) = t.link_by_token(denial.token_hash)? {
                let event = AccessEvent::OpenDenied;
                let (detail, actor) = (Some(denial.detail.clone()), &denial.actor);
                t.log_repeated(
                    &link,
                    event,
                    Outcome::Failure,
                    detail,
                    actor,
                    denial.repeats,
                )?;
            }
        }
        Ok(())
    }
}

impl Apply for LogLandings {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        for view in &self.0 {
            if let Some(link) = t.load_link_record(view.link_uid.as_u128())? {
                let event = AccessEvent::LandingViewed;
                t.log(&link, event, Outcome::Info, None, &view.actor, view.at)?;
            }
        }
        Ok(())
    }
}

impl Tables<'_> {
    fn link_by_token(&self, token_hash: TokenHash) -> Result<Option<LinkRecord>, StoreError> {
        match self.by_token.get(token_hash.0)?.map(|g| g.value()) {
            Some(uid) => self.load_link_record(uid),
            None => Ok(None),
        }
    }

    /// The link behind a token if it is usable right now.
    fn active_link(
        &self,
        token_hash: TokenHash,
        at: UnixMillis,
    ) -> Result<Option<LinkRecord>, StoreError> {
        Ok(self
            .link_by_token(token_hash)?
            .filter(|l| l.status(at) == LinkStatus::Active))
    }

    fn issue_otp(&mut self, cmd: &IssueOtp) -> Result<IssueOtpOutcome, StoreError> {
        let (at, actor, fresh) = (cmd.at, &cmd.actor, &cmd.fresh);
        let Some(mut link) = self
            .active_link(cmd.token_hash, at)?
            .filter(|l| l.require_otp)
        else {
            return Ok(IssueOtpOutcome::Unavailable);
        };
        let sealed_code = match otp::request_code(&mut link.otp, (&fresh.0, &fresh.1), at) {
            CodeRequest::Send { sealed_code } => sealed_code,
            CodeRequest::Refused { retry_after_ms } => {
                let detail = Some("cooldown or hourly limit".into());
                self.log(
                    &link,
                    AccessEvent::OtpSent,
                    Outcome::Failure,
                    detail,
                    actor,
                    at,
                )?;
                return Ok(IssueOtpOutcome::Refused { retry_after_ms });
            }
        };
        self.store_link(&link)?;
        let queued = self.queue_passcode(&link, sealed_code, at, actor)?;
        Ok(IssueOtpOutcome::Queued(queued.map(Box::new)))
    }

    fn verify_otp(
        &mut self,
        token_hash: TokenHash,
        candidate: &SecretHash,
        at: UnixMillis,
        actor: &Actor,
    ) -> Result<VerifyOutcome, StoreError> {
        let Some(mut link) = self.active_link(token_hash, at)?.filter(|l| l.require_otp) else {
            return Ok(VerifyOutcome::Unavailable);
        };
        let locked = match otp::enter_code(&mut link, candidate, at) {
            CodeEntry::Verified => {
                self.store_link(&link)?;
                self.log(
                    &link,
                    AccessEvent::OtpVerified,
                    Outcome::Success,
                    None,
                    actor,
                    at,
                )?;
                return Ok(VerifyOutcome::Verified(Box::new(link)));
            }
            CodeEntry::Wrong { locked } => locked,
        };
        self.store_link(&link)?;
        let detail = format!(
            "wrong or expired code ({} of {FAILURES_PER_LINK})",
            link.otp_failures
        );
        self.log(
            &link,
            AccessEvent::OtpFailed,
            Outcome::Failure,
            Some(detail),
            actor,
            at,
        )?;
        if locked {
            self.log(
                &link,
                AccessEvent::Locked,
                Outcome::Failure,
                Some("too many wrong codes".into()),
                actor,
                at,
            )?;
        }
        Ok(VerifyOutcome::NotVerified { locked })
    }

    fn open_link(&mut self, cmd: &OpenLink) -> Result<OpenOutcome, StoreError> {
        let (at, actor, grant) = (cmd.at, &cmd.actor, cmd.grant.0);
        let Some(mut link) = self.link_by_token(cmd.token_hash)? else {
            return Ok(OpenOutcome::Unavailable);
        };
        let record = match portal::open(&mut link, cmd.verified_for, at) {
            Ok(record) => record,
            Err(refusal) => {
                let detail = Some(refusal.detail().to_owned());
                self.log(
                    &link,
                    AccessEvent::OpenDenied,
                    Outcome::Failure,
                    detail,
                    actor,
                    at,
                )?;
                return Ok(match refusal {
                    OpenRefusal::Dead(_) => OpenOutcome::Unavailable,
                    OpenRefusal::PasscodeNotVerified => OpenOutcome::Denied {
                        reason: refusal.detail(),
                    },
                });
            }
        };
        self.store_link(&link)?;
        self.grants.insert(grant, encode(&record)?.as_slice())?;
        self.grants_by_expiry
            .insert((record.expires_at.as_i64(), grant), ())?;
        let detail = portal::opened_detail(&link);
        self.log(
            &link,
            AccessEvent::Opened,
            Outcome::Success,
            Some(detail),
            actor,
            at,
        )?;
        Ok(OpenOutcome::Opened(Box::new(link)))
    }

    /// Exchanges a grant once. Its link is read in this same transaction, so a revocation,
    /// resend or purge committed before ends the grant by construction (no grant index).
    fn consume_grant(
        &mut self,
        grant: [u8; 32],
        tenant_id: TenantId,
        at: UnixMillis,
    ) -> Result<Option<GrantRecord>, StoreError> {
        let record: Option<GrantRecord> = match self.grants.get(grant)? {
            Some(g) => Some(decode(g.value())?),
            None => None,
        };
        let Some(record) = record.filter(|r| r.tenant_id == tenant_id) else {
            return Ok(None);
        };
        self.grants.remove(grant)?;
        self.grants_by_expiry
            .remove((record.expires_at.as_i64(), grant))?;
        let link = self.load_link_record(record.link_uid.as_u128())?;
        if at >= record.expires_at || !record.is_backed_by(link.as_ref(), at) {
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// Deletes up to [`GRANTS_FORGOTTEN_PER_BATCH`] grants that can no longer be exchanged;
    /// returns whether more are expired, so the purge round goes on until none is left.
    pub(super) fn forget_expired_grants(&mut self, now: UnixMillis) -> Result<bool, StoreError> {
        let mut expired = Vec::new();
        for e in self
            .grants_by_expiry
            .range(..(now.as_i64(), [0u8; 32]))?
            .take(GRANTS_FORGOTTEN_PER_BATCH + 1)
        {
            expired.push(e?.0.value());
        }
        let more = expired.len() > GRANTS_FORGOTTEN_PER_BATCH;
        expired.truncate(GRANTS_FORGOTTEN_PER_BATCH);
        for (at, grant) in expired {
            self.grants_by_expiry.remove((at, grant))?;
            self.grants.remove(grant)?;
        }
        Ok(more)
    }
}
