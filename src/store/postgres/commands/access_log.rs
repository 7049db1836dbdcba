//! The portal's log-only commands on PostgreSQL (`store/writer/portal.rs`): each finds its
//! link in the transaction and logs through [`access_log`], which serialises the noise rows of
//! one link across instances; a link gone meanwhile is skipped, as in the embedded store. The
//! batches log link by link in the order of the noise locks (each link's own entries keep
//! their order), so two instances flushing at once cannot deadlock.

use tokio_postgres::Transaction;

use super::super::{PgApply, access_log};
use super::link::link_where;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Outcome};
use crate::domain::{LinkUid, TokenHash};
use crate::store::StoreError;
use crate::store::commands::{LogDenials, LogEvent, LogLandings};

/// The link behind a token, not locked: logging only appends (its noise rows are serialised
/// by [`access_log`]'s advisory lock).
async fn link_by_token(
    txn: &Transaction<'_>,
    token_hash: TokenHash,
) -> Result<Option<LinkRecord>, StoreError> {
    link_where(txn, "token_hash = $1", &token_hash.0.as_slice()).await
}

async fn link_by_uid(
    txn: &Transaction<'_>,
    uid: LinkUid,
) -> Result<Option<LinkRecord>, StoreError> {
    link_where(txn, "uid = $1", &uid.as_uuid()).await
}

impl PgApply for LogEvent {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        if let Some(link) = link_by_token(txn, self.token_hash).await? {
            let detail = self.detail.clone();
            let (event, outcome) = (self.event, self.outcome);
            access_log::log(txn, &link, event, outcome, detail, &self.actor, self.at).await?;
        }
        Ok(())
    }
}

impl PgApply for LogDenials {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        let mut found = Vec::with_capacity(self.0.len());
        for denial in &self.0 {
            if let Some(link) = link_by_token(txn, denial.token_hash).await? {
                found.push((link, denial));
            }
        }
        found.sort_by_key(|(link, _)| access_log::noise_lock_key(link.uid.as_uuid()));
        for (link, denial) in found {
            let event = AccessEvent::OpenDenied;
            let (detail, actor) = (Some(denial.detail.clone()), &denial.actor);
            access_log::log_repeated(
                txn,
                &link,
                event,
                Outcome::Failure,
                detail,
                actor,
                denial.repeats,
            )
            .await?;
        }
        Ok(())
    }
}

impl PgApply for LogLandings {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        let mut views: Vec<_> = self.0.iter().collect();
        views.sort_by_key(|v| access_log::noise_lock_key(v.link_uid.as_uuid()));
        for view in views {
            if let Some(link) = link_by_uid(txn, view.link_uid).await? {
                let event = AccessEvent::LandingViewed;
                let actor = &view.actor;
                access_log::log(txn, &link, event, Outcome::Info, None, actor, view.at).await?;
            }
        }
        Ok(())
    }
}
