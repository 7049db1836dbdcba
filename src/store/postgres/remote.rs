//! The PostgreSQL store as the rest of the program holds it: the pool lives on a small tokio
//! runtime of its own, so every connection's task runs there whoever calls — the server's
//! request tasks, the jobs, or a synchronous admin command with no runtime at all — much as
//! the embedded store's writer has a thread of its own. Calls hop onto that runtime and back;
//! a PostgreSQL round trip dwarfs the hop.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Runtime;

use super::{Migrated, PgApply, PgFetch, PgStore};
use crate::config::PgSettings;
use crate::store::{StoreError, WriterObserver};

/// Worker threads of the PostgreSQL runtime: enough to keep the pool's connections busy
/// while the server's own workers serve requests.
const WORKERS: usize = 2;

/// A cheap-to-clone handle on the pool and the runtime it lives on.
#[derive(Clone)]
pub struct Remote {
    pg: PgStore,
    runtime: Arc<OwnedRuntime>,
    /// Told of every command's commit, as the embedded writer tells of its batches.
    observer: Arc<dyn WriterObserver>,
}

/// Drops the runtime without waiting for its tasks, which is allowed anywhere (dropping a
/// runtime normally blocks, and may not happen inside another runtime's task).
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Remote {
    /// Starts the runtime, connects and brings the schema to this build's version (see
    /// [`PgStore::connect`]). Blocks; call it from start-up, not from a request.
    pub fn connect(
        settings: &PgSettings,
        observer: Arc<dyn WriterObserver>,
    ) -> Result<(Remote, Migrated), StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("customerlink-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io(format!("PostgreSQL runtime: {e}")))?;
        let runtime = Arc::new(OwnedRuntime(Some(runtime)));
        let settings = settings.clone();
        let (pg, migrated) =
            run_blocking(&runtime, async move { PgStore::connect(&settings).await })?;
        let remote = Remote {
            pg,
            runtime,
            observer,
        };
        Ok((remote, migrated))
    }

    /// The pool itself (for code already on the PostgreSQL runtime, and for tests).
    pub fn pool(&self) -> &PgStore {
        &self.pg
    }

    /// Applies `command` in its own transaction ([`PgStore::write`]).
    pub async fn write<C: PgApply>(&self, command: C) -> Result<C::Output, StoreError> {
        let pg = self.pg.clone();
        let observer = Arc::clone(&self.observer);
        self.run(async move { observed(&pg, &command, &*observer).await })
            .await
    }

    /// [`Remote::write`] for synchronous callers.
    pub fn write_blocking<C: PgApply>(&self, command: C) -> Result<C::Output, StoreError> {
        let pg = self.pg.clone();
        let observer = Arc::clone(&self.observer);
        run_blocking(&self.runtime, async move {
            observed(&pg, &command, &*observer).await
        })
    }

    /// Answers `query` ([`PgStore::fetch`]).
    pub async fn fetch<Q: PgFetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        let pg = self.pg.clone();
        self.run(async move { pg.fetch(&query).await }).await
    }

    /// [`Remote::fetch`] for synchronous callers.
    pub fn fetch_blocking<Q: PgFetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        let pg = self.pg.clone();
        run_blocking(&self.runtime, async move { pg.fetch(&query).await })
    }

    /// `check` ([`PgStore::check`]) for the synchronous admin command.
    pub fn check_blocking(&self) -> Result<crate::store::CheckReport, StoreError> {
        let pg = self.pg.clone();
        run_blocking(&self.runtime, async move { pg.check().await })
    }

    /// One round trip (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let pg = self.pg.clone();
        self.run(async move { pg.ping().await }).await
    }

    /// Runs `work` on the PostgreSQL runtime and awaits it from whatever runtime the caller
    /// is on.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(runtime) = self.runtime.0.as_ref() else {
            return Err(StoreError::Closed);
        };
        runtime
            .spawn(work)
            .await
            .unwrap_or_else(|e| Err(StoreError::Io(format!("PostgreSQL task failed: {e}"))))
    }
}

/// Writes `command` and reports it as a batch of one: committed, or not (metrics count
/// commits and their time the same way on both stores), and whether it queued deliveries.
async fn observed<C: PgApply>(
    pg: &PgStore,
    command: &C,
    observer: &dyn WriterObserver,
) -> Result<C::Output, StoreError> {
    let started = std::time::Instant::now();
    let (result, queued) = pg.write_reporting(command).await;
    observer.record_commit(1, started.elapsed(), result.is_ok());
    if queued {
        observer.deliveries_queued();
    }
    result
}

/// Runs `work` on the PostgreSQL runtime and waits for it on this thread. The answer comes
/// back over a standard channel, which may be waited on anywhere a thread may block.
fn run_blocking<T: Send + 'static>(
    runtime: &OwnedRuntime,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let Some(runtime) = runtime.0.as_ref() else {
        return Err(StoreError::Closed);
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv()
        .unwrap_or_else(|_| Err(StoreError::Io("PostgreSQL task failed".into())))
}
