//! The outbox commands: queue deliveries within the send limits (and passcodes the portal
//! asked for), record attempts, lease due
//! deliveries to the worker, and resend (token rotation). Invariant kept here: `outbox_due`
//! holds exactly the queued deliveries, keyed by their next attempt; `deliveries_by_link`
//! holds every delivery of a stored link.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{
    AttemptOutcome, LeaseDue, LinkQueued, RecordAttempt, Resend, ResendOutcome, RetryPolicy,
    SendLimits,
};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::delivery::{
    DeliveryKind, DeliveryRecord, DeliveryStatus, NewDelivery, SentThisHour, channels_of,
    over_limit,
};
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Actor, Outcome};
use crate::domain::{TenantId, UnixMillis, resend};

/// The per-recipient send counter's key: `to:<tenant id>:<address>`, so one tenant's sends
/// neither use up nor reveal another tenant's budget for the same address. (Keys of the
/// older `to:<address>` form are never read again and expire with their hour.)
fn recipient_key(tenant_id: TenantId, to: &str) -> String {
    format!("to:{}:{}", tenant_id.simple(), to.to_lowercase())
}

impl Apply for RecordAttempt {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        let recorded = t.record_attempt(self.delivery_id, self.at, &self.outcome, self.retry)?;
        if let Some(record) = &recorded {
            t.record_webhook_attempt(record, self)?;
        }
        Ok(recorded)
    }
}

impl Apply for LeaseDue {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        t.lease_due(self.now, self.lease_until, self.limit)
    }
}

impl Apply for Resend {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        t.resend(self)
    }
}

impl Tables<'_> {
    /// Queues each delivery unless its recipient or the tenant is over the hourly limit.
    pub(super) fn queue_deliveries(
        &mut self,
        link: &LinkRecord,
        deliveries: &[NewDelivery],
        limits: SendLimits,
        now: UnixMillis,
    ) -> Result<(Vec<DeliveryRecord>, Vec<String>), StoreError> {
        if deliveries.is_empty() {
            // Most creates send nothing: no counter key to format.
            return Ok((Vec::new(), Vec::new()));
        }
        let hour = now.hour();
        let tenant_key = format!("tenant:{}", link.tenant_id.simple());
        let mut queued = Vec::new();
        let mut refused = Vec::new();
        for d in deliveries {
            let to_key = recipient_key(link.tenant_id, &d.to);
            let to_count = self.count(&to_key, hour)?;
            let tenant_count = self.count(&tenant_key, hour)?;
            let sent = SentThisHour {
                recipient: to_count,
                tenant: tenant_count,
            };
            if let Some(reason) = over_limit(d.channel, sent, &limits) {
                refused.push(reason);
                continue;
            }
            self.send_counts
                .insert((to_key.as_str(), hour), to_count + 1)?;
            self.send_counts
                .insert((tenant_key.as_str(), hour), tenant_count + 1)?;
            let due = limits.first_retry_at;
            let record = DeliveryRecord::queued(link, DeliveryKind::Link, d.clone(), due, now);
            queued.push(self.enqueue(record)?);
        }
        Ok((queued, refused))
    }

    /// Queues a passcode message for the link's passcode channel, due at once; its own
    /// cooldown and hourly limit (in `domain::otp`) bound it, not the link send counters.
    /// `None` (with a `Failure` log row) when the link has no address on that channel.
    pub(super) fn queue_passcode(
        &mut self,
        link: &LinkRecord,
        sealed_code: Vec<u8>,
        at: UnixMillis,
        actor: &Actor,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let (channel, to) = link.passcode_address();
        let Some(to) = to else {
            let detail = format!("no {} address for the passcode", channel.as_str());
            self.log(
                link,
                AccessEvent::OtpSent,
                Outcome::Failure,
                Some(detail),
                actor,
                at,
            )?;
            return Ok(None);
        };
        let new = NewDelivery {
            channel,
            to: to.to_owned(),
            sealed_token: sealed_code,
        };
        let record = DeliveryRecord::queued(link, DeliveryKind::Passcode, new, at, at);
        let record = self.enqueue(record)?;
        // Who asked is recorded now; the attempt's outcome gets its own row when it is known.
        let detail = format!("queued for {}", channel.as_str());
        self.log(
            link,
            AccessEvent::OtpSent,
            Outcome::Info,
            Some(detail),
            actor,
            at,
        )?;
        Ok(Some(record))
    }

    /// Stores a new queued delivery under the next id with its index entries.
    pub(super) fn enqueue(
        &mut self,
        mut record: DeliveryRecord,
    ) -> Result<DeliveryRecord, StoreError> {
        let id = self.next_id("next_delivery_id")?;
        record.delivery_id = id;
        self.store_delivery(&record)?;
        self.outbox_due
            .insert((record.next_attempt_at.as_i64(), id), ())?;
        self.deliveries_by_link
            .insert((record.link_uid.as_u128(), id), ())?;
        self.queued_deliveries |= record.due_when_queued();
        Ok(record)
    }

    fn count(&self, key: &str, hour: i64) -> Result<u32, StoreError> {
        Ok(self.send_counts.get((key, hour))?.map_or(0, |g| g.value()))
    }

    fn load_delivery(&self, id: u64) -> Result<Option<DeliveryRecord>, StoreError> {
        match self.outbox.get(id)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    fn store_delivery(&mut self, record: &DeliveryRecord) -> Result<(), StoreError> {
        self.outbox
            .insert(record.delivery_id, encode(record)?.as_slice())?;
        Ok(())
    }

    /// Counts an attempt: sent, retried later (exponential backoff), or given up.
    /// An attempt on a delivery that is no longer queued (superseded meanwhile) changes nothing.
    fn record_attempt(
        &mut self,
        id: u64,
        at: UnixMillis,
        outcome: &AttemptOutcome,
        retry: RetryPolicy,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let Some(mut record) = self.load_delivery(id)? else {
            return Ok(None);
        };
        if record.status != DeliveryStatus::Queued {
            return Ok(Some(record));
        }
        self.outbox_due
            .remove((record.next_attempt_at.as_i64(), id))?;
        record.record_attempt(at, outcome, retry);
        if record.status == DeliveryStatus::Queued {
            self.outbox_due
                .insert((record.next_attempt_at.as_i64(), id), ())?;
        }
        self.store_delivery(&record)?;
        self.log_attempt(&record, at)?;
        Ok(Some(record))
    }

    /// The access log row for an attempt (`DeliveryRecord::attempt_log`); a webhook event's
    /// attempts are the endpoint's state, not the link's log.
    fn log_attempt(&mut self, record: &DeliveryRecord, at: UnixMillis) -> Result<(), StoreError> {
        if record.kind == DeliveryKind::Webhook {
            return Ok(());
        }
        let Some(link) = self.load_link_record(record.link_uid.as_u128())? else {
            return Ok(());
        };
        let (event, outcome, detail) = record.attempt_log();
        self.log(&link, event, outcome, Some(detail), &Actor::default(), at)
    }

    /// Hands out due deliveries, moving each one's next attempt to `lease_until`.
    fn lease_due(
        &mut self,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut due = Vec::new();
        for entry in self
            .outbox_due
            .range(..=(now.as_i64(), u64::MAX))?
            .take(limit)
        {
            due.push(entry?.0.value());
        }
        let mut leased = Vec::with_capacity(due.len());
        for (at, id) in due {
            self.outbox_due.remove((at, id))?;
            let Some(mut record) = self.load_delivery(id)? else {
                continue;
            };
            if !record.lease(lease_until) {
                self.store_delivery(&record)?;
                self.log_attempt(&record, now)?;
                continue;
            }
            self.store_delivery(&record)?;
            self.outbox_due.insert((lease_until.as_i64(), id), ())?;
            leased.push(record);
        }
        Ok(leased)
    }

    /// See [`Resend`]. Every check happens before the first mutation.
    fn resend(&mut self, cmd: &Resend) -> Result<ResendOutcome, StoreError> {
        let (uid, at) = (cmd.uid, cmd.at);
        let Some(mut link) = self
            .load_link_record(uid.as_u128())?
            .filter(|l| l.tenant_id == cmd.tenant_id)
        else {
            return Ok(ResendOutcome::NotFound);
        };
        let old_expiry = link.expires_at;
        let renewed = match &cmd.reissue {
            None => resend::resend(&mut link, at, cmd.rules),
            Some(r) => resend::reissue(&mut link, at, cmd.rules, r.expires_at),
        };
        if let Err(refusal) = renewed {
            return Ok(ResendOutcome::Refused(refusal));
        }
        if link.expires_at != old_expiry {
            self.by_expiry
                .remove((old_expiry.as_i64(), uid.as_u128()))?;
            self.by_expiry
                .insert((link.expires_at.as_i64(), uid.as_u128()), ())?;
        }
        self.supersede_queued(uid.as_u128())?;
        self.by_token.remove(link.token_hash.0)?;
        link.token_hash = cmd.token_hash;
        self.by_token.insert(link.token_hash.0, uid.as_u128())?;
        let (queued, refused) = self.queue_deliveries(&link, &cmd.deliveries, cmd.limits, at)?;
        link.sent_over(&queued);
        self.store_link(&link)?;
        let mut detail = format!("new token; {} queued", channels_of(&queued));
        if let Some(r) = &cmd.reissue {
            let asked = Some("auto".to_owned());
            self.log(
                &link,
                AccessEvent::ReissueRequested,
                Outcome::Info,
                asked,
                &r.actor,
                at,
            )?;
            detail = format!("re-issued on request: new expiry; {detail}");
        }
        self.log_staff(&link, AccessEvent::Resent, Some(detail), cmd.by, at)?;
        Ok(ResendOutcome::Resent(LinkQueued {
            link: Box::new(link),
            queued,
            refused,
        }))
    }

    fn delivery_ids(&self, link_uid: u128) -> Result<Vec<u64>, StoreError> {
        let mut ids = Vec::new();
        for entry in self
            .deliveries_by_link
            .range((link_uid, 0)..=(link_uid, u64::MAX))?
        {
            ids.push(entry?.0.value().1);
        }
        Ok(ids)
    }

    fn supersede_queued(&mut self, link_uid: u128) -> Result<(), StoreError> {
        for id in self.delivery_ids(link_uid)? {
            let Some(mut record) = self.load_delivery(id)? else {
                continue;
            };
            if record.status == DeliveryStatus::Queued && record.kind != DeliveryKind::Webhook {
                self.outbox_due
                    .remove((record.next_attempt_at.as_i64(), id))?;
                record.status = DeliveryStatus::Superseded;
                self.store_delivery(&record)?;
            }
        }
        Ok(())
    }

    /// Removes every delivery of a link (purge).
    pub(super) fn delete_deliveries(&mut self, link_uid: u128) -> Result<(), StoreError> {
        for id in self.delivery_ids(link_uid)? {
            if let Some(record) = self.load_delivery(id)?
                && record.status == DeliveryStatus::Queued
            {
                self.outbox_due
                    .remove((record.next_attempt_at.as_i64(), id))?;
            }
            self.outbox.remove(id)?;
            self.deliveries_by_link.remove((link_uid, id))?;
        }
        Ok(())
    }

    /// Drops send counters older than the previous hour.
    pub(super) fn forget_old_send_counts(&mut self, now: UnixMillis) -> Result<(), StoreError> {
        let keep_from = now.hour() - 1;
        self.send_counts.retain(|(_, hour), _| hour >= keep_from)?;
        Ok(())
    }
}
