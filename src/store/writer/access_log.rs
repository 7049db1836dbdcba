//! The access log in the writer. Lifecycle rows (created, delivered, opened, revoked …) are
//! appended and kept for the link's whole life; noise rows (landing views, passcode sends
//! and failures, denied opens) aggregate per event, outcome and address into one row with a
//! count, and at most `NOISE_ROWS_PER_LINK` of them are kept (the least recently seen goes).
//! So no amount of denials can push a lifecycle row out. A purged link's log stays under a
//! tombstone for the retention window. Every new row is sealed into its link's hash chain
//! (`domain::evidence`) before it is stored, in the same transaction; aggregated rows hang off
//! the chain, so evicting one leaves it whole.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::tables::Tables;
use crate::domain::evidence::GENESIS;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{
    AccessEvent, AccessLogEntry, Actor, NOISE_ROWS_PER_LINK, Outcome, Repeats, noise_key,
};
use crate::domain::{UnixMillis, UserId};
use crate::store::commands::LOGS_FORGOTTEN_PER_BATCH;

impl Tables<'_> {
    /// Records one event of `link`: a new lifecycle row, or one more occurrence of a noise
    /// row. Invariant: `access_log_noise` names exactly the aggregated noise rows, with
    /// their last-seen time, in the same transaction as the rows.
    pub(super) fn log(
        &mut self,
        link: &LinkRecord,
        event: AccessEvent,
        outcome: Outcome,
        detail: Option<String>,
        actor: &Actor,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        self.log_repeated(link, event, outcome, detail, actor, Repeats::once(at))?;
        self.queue_webhooks(link, event, outcome, at)
    }

    /// Records a successful staff action on `link` (created, revoked, unlocked, resent …) by
    /// the user `by`.
    pub(super) fn log_staff(
        &mut self,
        link: &LinkRecord,
        event: AccessEvent,
        detail: Option<String>,
        by: UserId,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        self.log(link, event, Outcome::Success, detail, &Actor::staff(by), at)
    }

    /// Logs occurrences already counted together: a noise event folds them into its row for
    /// the address; a lifecycle event is one row (its first occurrence) each time.
    pub(super) fn log_repeated(
        &mut self,
        link: &LinkRecord,
        event: AccessEvent,
        outcome: Outcome,
        detail: Option<String>,
        actor: &Actor,
        repeats: Repeats,
    ) -> Result<(), StoreError> {
        let uid = link.uid.as_u128();
        let Some(key) = noise_key(event, outcome, actor) else {
            let mut entry = self.new_entry(link, event, outcome, detail, actor, repeats.first)?;
            entry.seal(self.chain_head(uid)?);
            return self.put_log(&entry);
        };
        let known = self
            .access_log_noise
            .get((uid, key.as_str()))?
            .map(|g| g.value().0);
        if let Some(mut entry) = self.load_log(uid, known)? {
            entry.absorb(repeats, detail, actor);
            return self.put_noise(&key, &entry);
        }
        let mut entry = self.new_entry(link, event, outcome, detail, actor, repeats.first)?;
        entry.count = repeats.count;
        entry.last_at = Some(repeats.last);
        entry.seal(self.chain_head(uid)?);
        self.put_noise(&key, &entry)?;
        self.evict_noise(uid)
    }

    fn new_entry(
        &mut self,
        link: &LinkRecord,
        event: AccessEvent,
        outcome: Outcome,
        detail: Option<String>,
        actor: &Actor,
        at: UnixMillis,
    ) -> Result<AccessLogEntry, StoreError> {
        let id = self.next_id("next_log_id")?;
        Ok(AccessLogEntry {
            id,
            link_uid: link.uid,
            link_id: link.link_id,
            tenant_id: link.tenant_id,
            event,
            outcome,
            detail,
            actor: actor.clone(),
            at,
            count: 1,
            last_at: None,
            chain: None,
        })
    }

    /// The head of `uid`'s hash chain: the hash of its last chained lifecycle row, or
    /// `GENESIS`. Read in the writer's transaction, which is the only writer, so two rows
    /// can never follow the same head.
    fn chain_head(&self, uid: u128) -> Result<[u8; 32], StoreError> {
        for row in self.access_log.range((uid, 0)..=(uid, u64::MAX))?.rev() {
            let entry: AccessLogEntry = decode(row?.1.value())?;
            if let Some(head) = entry.advances_chain() {
                return Ok(head);
            }
        }
        Ok(GENESIS)
    }

    fn load_log(&self, uid: u128, id: Option<u64>) -> Result<Option<AccessLogEntry>, StoreError> {
        let Some(id) = id else {
            return Ok(None);
        };
        match self.access_log.get((uid, id))? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    fn put_log(&mut self, entry: &AccessLogEntry) -> Result<(), StoreError> {
        let key = (entry.link_uid.as_u128(), entry.id);
        self.access_log.insert(key, encode(entry)?.as_slice())?;
        Ok(())
    }

    /// Writes a noise row and its index entry together.
    fn put_noise(&mut self, key: &str, entry: &AccessLogEntry) -> Result<(), StoreError> {
        self.put_log(entry)?;
        let last = entry.last_at.unwrap_or(entry.at);
        self.access_log_noise
            .insert((entry.link_uid.as_u128(), key), (entry.id, last.as_i64()))?;
        Ok(())
    }

    /// The noise index entries of one link: (key, entry id, last seen).
    fn noise_of(&self, uid: u128) -> Result<Vec<(String, u64, i64)>, StoreError> {
        let mut rows = Vec::new();
        for entry in self.access_log_noise.range((uid, "")..)? {
            let (key, value) = entry?;
            let (owner, key) = key.value();
            if owner != uid {
                break;
            }
            let (id, last) = value.value();
            rows.push((key.to_owned(), id, last));
        }
        Ok(rows)
    }

    /// Drops the least recently seen noise rows past the per-link cap.
    fn evict_noise(&mut self, uid: u128) -> Result<(), StoreError> {
        let mut rows = self.noise_of(uid)?;
        let excess = rows.len().saturating_sub(NOISE_ROWS_PER_LINK);
        if excess == 0 {
            return Ok(());
        }
        rows.sort_by_key(|(_, id, last)| (*last, *id));
        for (key, id, _) in rows.into_iter().take(excess) {
            self.access_log.remove((uid, id))?;
            self.access_log_noise.remove((uid, key.as_str()))?;
        }
        Ok(())
    }

    /// Marks a purged link's log so it is deleted once the retention window has passed.
    pub(super) fn tombstone_log(
        &mut self,
        link: &LinkRecord,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        self.log(
            link,
            AccessEvent::Purged,
            Outcome::Info,
            None,
            &Actor::default(),
            at,
        )?;
        self.log_tombstones
            .insert((at.as_i64(), link.uid.as_u128()), link.tenant_id.as_u128())?;
        Ok(())
    }

    /// Deletes the logs (rows and noise index) of up to [`LOGS_FORGOTTEN_PER_BATCH`] links
    /// purged before `purged_before`; returns whether more are due, so the purge round goes
    /// on until every log past the retention is gone (their pages are then reused).
    pub(super) fn forget_old_logs(
        &mut self,
        purged_before: UnixMillis,
    ) -> Result<bool, StoreError> {
        let mut due = Vec::new();
        for e in self
            .log_tombstones
            .range(..(purged_before.as_i64(), 0u128))?
            .take(LOGS_FORGOTTEN_PER_BATCH + 1)
        {
            due.push(e?.0.value());
        }
        let more = due.len() > LOGS_FORGOTTEN_PER_BATCH;
        due.truncate(LOGS_FORGOTTEN_PER_BATCH);
        for (at, uid) in due {
            self.log_tombstones.remove((at, uid))?;
            self.access_log
                .retain_in((uid, 0)..=(uid, u64::MAX), |_, _| false)?;
            for (key, _, _) in self.noise_of(uid)? {
                self.access_log_noise.remove((uid, key.as_str()))?;
            }
        }
        Ok(more)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, FileConfig, Overrides};
    use crate::domain::evidence::{ChainRow, check_chain};
    use crate::domain::millis::ms;
    use crate::domain::portal::{AccessEvent, Actor, NOISE_ROWS_PER_LINK, Outcome};
    use crate::domain::{LinkUid, TenantId, TokenHash, UnixMillis, UserId};
    use crate::store::commands::{CreateLink as Create, LogEvent, RevokeLink};
    use crate::store::{SendLimits, Store};

    fn open(dir: &std::path::Path) -> Store {
        let config = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        Store::open(&dir.join("t.redb"), &config.writer).unwrap()
    }

    fn create(store: &Store) -> LinkUid {
        let uid = LinkUid::from_u128(7);
        let mut link = crate::domain::link::tests_support::record();
        (link.uid, link.token_hash, link.tenant_id) =
            (uid, TokenHash([7; 32]), TenantId::from_u128(9));
        let limits = SendLimits {
            per_recipient_per_hour: 10,
            per_tenant_per_hour: 10,
            first_retry_at: ms(0),
        };
        store
            .write_blocking(Create {
                link: Box::new(link),
                deliveries: vec![],
                limits,
            })
            .unwrap();
        uid
    }

    fn denied(store: &Store, ip: &str, at: UnixMillis) {
        let op = LogEvent {
            token_hash: TokenHash([7; 32]),
            event: AccessEvent::OpenDenied,
            outcome: Outcome::Failure,
            detail: Some("Revoked".into()),
            at,
            actor: Actor {
                ip: Some(ip.into()),
                ..Actor::default()
            },
        };
        store.write_blocking(op).unwrap();
    }

    #[test]
    fn denials_from_many_addresses_evict_only_the_least_recently_seen_noise() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let uid = create(&store);
        let tenant = TenantId::from_u128(9);
        store
            .write_blocking(RevokeLink {
                tenant_id: tenant,
                uid,
                by: UserId::from_u128(8),
                at: ms(1),
            })
            .unwrap();
        for n in 0..NOISE_ROWS_PER_LINK + 50 {
            let at = ms(10 + n as i64);
            denied(&store, &format!("10.0.{}.{}", n / 256, n % 256), at);
            if n > 0 {
                denied(&store, "10.0.0.0", at);
            }
        }
        let log = store
            .fetch_blocking(crate::store::queries::AccessLogOf { tenant, uid })
            .unwrap();
        let events: Vec<AccessEvent> = log.iter().map(|e| e.event).collect();
        assert_eq!(&events[..2], [AccessEvent::Created, AccessEvent::Revoked]);
        assert_eq!(log.len(), 2 + NOISE_ROWS_PER_LINK);
        let first = log
            .iter()
            .find(|e| e.actor.ip.as_deref() == Some("10.0.0.0"));
        let first = first.expect("the address seen all along stays");
        assert_eq!(first.count, (NOISE_ROWS_PER_LINK + 50) as u64);
        assert!(
            !log.iter()
                .any(|e| e.actor.ip.as_deref() == Some("10.0.0.1")),
            "the least recently seen went"
        );
        let chain: Vec<ChainRow<'_>> = log
            .iter()
            .map(|e| ChainRow {
                facts: e.facts(),
                chain: e.chain,
            })
            .collect();
        assert!(log.iter().all(|e| e.chain.is_some()));
        assert_eq!(
            check_chain(&chain),
            Vec::<String>::new(),
            "eviction keeps the chain"
        );
        let report = store.check().unwrap();
        assert!(report.is_consistent(), "{:?}", report.problems);
    }
}
