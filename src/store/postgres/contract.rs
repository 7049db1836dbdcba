//! How PostgreSQL answers the storage contract: each command ([`super::super::commands`]) in
//! one transaction of its own, each query ([`super::super::queries`]) with the statements it
//! needs. Several instances run the same commands on one database at once, so a command that
//! changes a row it decided on takes that row with `SELECT … FOR UPDATE` first: the domain's
//! rule then runs on the current row, and a second instance waits for the first to commit. A
//! transaction PostgreSQL aborts for a serialization conflict or deadlock is run again.

use std::cell::Cell;
use std::future::Future;

use tokio_postgres::{Client, Transaction};

use super::{PgStore, fault};
use crate::store::StoreError;
use crate::store::commands::Command;
use crate::store::queries::Query;

/// Times a command is tried when PostgreSQL aborts it for a conflict with another
/// transaction (40001/40P01); every try starts from scratch.
const TRIES: usize = 5;

/// How PostgreSQL applies a [`Command`]: inside `txn`, committed by [`PgStore::write`] only if
/// this answers `Ok`. Taking `&self` lets a conflicted transaction be run again.
pub trait PgApply: Command + Sync {
    fn apply_pg(
        &self,
        txn: &Transaction<'_>,
    ) -> impl Future<Output = Result<Self::Output, StoreError>> + Send;
}

/// How PostgreSQL answers a [`Query`].
pub trait PgFetch: Query + Sync {
    fn fetch_pg(
        &self,
        client: &Client,
    ) -> impl Future<Output = Result<Self::Output, StoreError>> + Send;
}

tokio::task_local! {
    /// Set during a write that queued a delivery due at once (`outbox::enqueue` notes it),
    /// so the caller learns it after the commit. Task-local: a write is one task on the
    /// pool's runtime.
    static QUEUED_DELIVERIES: Cell<bool>;
}

/// Notes that the write in progress queued a delivery due at once (no-op outside
/// [`PgStore::write_reporting`]).
pub(super) fn note_queued_delivery() {
    let _ = QUEUED_DELIVERIES.try_with(|queued| queued.set(true));
}

impl PgStore {
    /// [`PgStore::write`], and whether the committed write queued a delivery due at once. A
    /// conflict retried after a queueing attempt may report one it did not keep: a spurious
    /// wake-up.
    pub async fn write_reporting<C: PgApply>(
        &self,
        command: &C,
    ) -> (Result<C::Output, StoreError>, bool) {
        QUEUED_DELIVERIES
            .scope(Cell::new(false), async {
                let result = self.write(command).await;
                let queued = result.is_ok() && QUEUED_DELIVERIES.with(Cell::get);
                (result, queued)
            })
            .await
    }

    /// Applies `command` in one transaction and commits it. `Ok` means committed. A conflict
    /// with another instance's transaction is retried; an error of the command itself rolls
    /// back everything it wrote.
    pub async fn write<C: PgApply>(&self, command: &C) -> Result<C::Output, StoreError> {
        let mut client = self.client().await?;
        let mut tries = 0;
        loop {
            tries += 1;
            let txn = client.transaction().await.map_err(|e| fault::from_pg(&e))?;
            let result = match command.apply_pg(&txn).await {
                Ok(output) => txn
                    .commit()
                    .await
                    .map(|()| output)
                    .map_err(|e| fault::from_pg(&e)),
                Err(e) => Err(e),
            };
            match result {
                Err(StoreError::Conflict) if tries < TRIES => continue,
                other => return other,
            }
        }
    }

    /// Answers `query` on one pooled connection.
    pub async fn fetch<Q: PgFetch>(&self, query: &Q) -> Result<Q::Output, StoreError> {
        let client = self.client().await?;
        query.fetch_pg(&client).await
    }
}
