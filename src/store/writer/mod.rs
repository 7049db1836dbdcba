//! The single writer thread (DESIGN.md decision 1). Handlers queue commands; the thread takes
//! everything already queued, applies it in ONE write transaction, commits once (durable) and
//! answers each caller. While a commit's fsync runs, new commands pile up, so batches grow
//! with load by themselves. A command that fails (a damaged record) is taken out and the
//! batch applied again without it, so it leaves no half writes and takes no batch-mate down;
//! only an I/O failure fails the whole batch. A failed batch follows redb's
//! commit contract: it may still have become durable, so its callers get
//! [`StoreError::Unavailable`], the handle is closed and the thread reopens the file with
//! backoff, answering everything queued meanwhile with the same error (`recover`).

use std::sync::Arc;
use std::time::Duration;

use redb::{Database, WriteTransaction};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use super::db::DbCell;
use super::{StoreError, WriterObserver};
use crate::config::WriterSettings;

mod access_log;
mod attachment;
mod idempotency;
mod job;
mod lazy;
mod link;
mod outbox;
mod portal;
mod tables;
mod webhook;

pub(super) use idempotency::MaybeQueued;
pub use job::Apply;
use job::{Job, Queued};
use tables::Tables;

enum Request {
    Job(Box<dyn Job>),
    Stop,
}

#[derive(Clone)]
pub(super) struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl WriterHandle {
    pub(super) async fn send<C: Apply>(&self, command: C) -> Result<C::Output, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Job(Box::new(Queued::new(command, reply))))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) fn send_blocking<C: Apply>(&self, command: C) -> Result<C::Output, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(Request::Job(Box::new(Queued::new(command, reply))))
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// Whether the writer thread still takes commands.
    pub(super) fn is_alive(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Asks the thread to stop after what is already queued. Blocking: not for async contexts.
    pub(super) fn stop(&self) {
        let _ = self.tx.blocking_send(Request::Stop);
    }
}

pub(super) fn spawn(
    db: Arc<DbCell>,
    settings: &WriterSettings,
    observer: Arc<dyn WriterObserver>,
) -> Result<(WriterHandle, std::thread::JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel(settings.queue_capacity);
    let settings = settings.clone();
    let thread = std::thread::Builder::new()
        .name("customerlink-writer".into())
        .spawn(move || run(&db, rx, &settings, &*observer))
        .map_err(|e| StoreError::Io(e.to_string()))?;
    Ok((WriterHandle { tx }, thread))
}

fn run(
    db: &DbCell,
    mut rx: mpsc::Receiver<Request>,
    settings: &WriterSettings,
    observer: &dyn WriterObserver,
) {
    let max_batch = settings.max_batch;
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        if db.retry_after_secs().is_some() && !recover(db, &mut rx) {
            return;
        }
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        let mut stop = false;
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Job(job) => batch.push(job),
                Request::Stop => {
                    stop = true;
                    break;
                }
            }
            if batch.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let (len, started) = (batch.len(), std::time::Instant::now());
            let written = write_batch(db, &mut batch, settings.quick_repair);
            observer.record_commit(len, started.elapsed(), written.is_some());
            if written == Some(LeftBehind::Deliveries) {
                observer.deliveries_queued();
            }
        }
        if stop {
            return;
        }
    }
}

/// While the database is faulted: reopens it when the backoff allows, and answers queued
/// commands with [`StoreError::Unavailable`] meanwhile. Returns `false` when told to stop.
fn recover(db: &DbCell, rx: &mut mpsc::Receiver<Request>) -> bool {
    loop {
        if db.reopen_due() {
            match db.reopen() {
                Ok(()) => return true,
                Err(e) => tracing::warn!(error = %e, "database not reopened yet; retrying"),
            }
        }
        loop {
            match rx.try_recv() {
                Ok(Request::Job(job)) => {
                    let retry_after_secs = db.retry_after_secs().unwrap_or(1);
                    job.answer(Err(StoreError::Unavailable { retry_after_secs }));
                }
                Ok(Request::Stop) | Err(TryRecvError::Disconnected) => return false,
                Err(TryRecvError::Empty) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a committed batch left for others to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LeftBehind {
    Nothing,
    Deliveries,
}

/// Applies and commits one batch on the current handle. Returns what it queued if it was
/// committed, `None` if not.
/// A failed commit, or any failure after which the handle refuses writes (redb's contract),
/// faults the handle so the next round reopens it, and the batch is answered with
/// [`StoreError::Unavailable`]: it may have become durable. A failure before the commit on a
/// handle that still writes keeps its error.
fn write_batch(
    db: &DbCell,
    batch: &mut Vec<Box<dyn Job>>,
    quick_repair: bool,
) -> Option<LeftBehind> {
    let jobs = std::mem::take(batch);
    let handle = match db.current() {
        Ok(handle) => handle,
        Err(e) => {
            answer_all(jobs, &Err(e));
            return None;
        }
    };
    match apply_batch(&handle, jobs, quick_repair) {
        Ok((done, queued)) => {
            db.committed();
            answer_all(done, &Ok(()));
            Some(queued)
        }
        Err(failed) => {
            let error = if failed.at_commit || handle.begin_write().is_err() {
                drop(handle);
                tracing::error!(error = %failed.error, "write batch failed; reopening the database");
                db.fault();
                let retry_after_secs = db.retry_after_secs().unwrap_or(1);
                StoreError::Unavailable { retry_after_secs }
            } else {
                tracing::error!(error = %failed.error, "write batch failed; nothing of it was committed");
                failed.error
            };
            answer_all(failed.jobs, &Err(error));
            None
        }
    }
}

fn answer_all(jobs: Vec<Box<dyn Job>>, batch: &Result<(), StoreError>) {
    for job in jobs {
        job.answer(batch.clone());
    }
}

/// Why a batch was not committed, whether it failed in the commit itself, and the jobs
/// still to answer.
struct Failed {
    error: StoreError,
    at_commit: bool,
    jobs: Vec<Box<dyn Job>>,
}

/// Where applying a batch stopped: a storage failure (the whole batch fails) or the command
/// at this index failed (only it does).
enum Stopped {
    Batch(StoreError),
    Command(usize),
}

/// Applies the jobs in one transaction and commits it; returns the jobs to answer. A job
/// whose command fails other than by I/O is answered with its error at once, the
/// transaction is aborted (so none of its writes survive) and the rest are applied again
/// in a new one. redb cannot roll back one command instead: `ephemeral_savepoint` is refused
/// once the transaction has opened a table (see docs/storage.md).
fn apply_batch(
    db: &Database,
    mut jobs: Vec<Box<dyn Job>>,
    quick_repair: bool,
) -> Result<(Vec<Box<dyn Job>>, LeftBehind), Failed> {
    loop {
        let fail = |error, at_commit, jobs| Failed {
            error,
            at_commit,
            jobs,
        };
        let mut txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => return Err(fail(e.into(), false, jobs)),
        };
        txn.set_quick_repair(quick_repair);
        match apply_all(&txn, &mut jobs) {
            Ok(queued) => {
                return match txn.commit() {
                    Ok(()) => Ok((jobs, queued)),
                    Err(e) => Err(fail(e.into(), true, jobs)),
                };
            }
            Err(Stopped::Batch(error)) => return Err(fail(error, false, jobs)),
            Err(Stopped::Command(index)) => {
                if let Err(e) = txn.abort() {
                    return Err(fail(e.into(), false, jobs));
                }
                jobs.remove(index).answer(Ok(()));
            }
        }
    }
}

fn apply_all(txn: &WriteTransaction, jobs: &mut [Box<dyn Job>]) -> Result<LeftBehind, Stopped> {
    let mut tables = Tables::open(txn);
    for (index, job) in jobs.iter_mut().enumerate() {
        match job.apply(&mut tables) {
            Ok(()) => {}
            Err(e) if e.fails_batch() => return Err(Stopped::Batch(e)),
            Err(_) => return Err(Stopped::Command(index)),
        }
    }
    tables.finish().map_err(Stopped::Batch)
}

#[cfg(test)]
mod reuse_tests;
#[cfg(test)]
mod tables_tests;
#[cfg(test)]
mod tests;
