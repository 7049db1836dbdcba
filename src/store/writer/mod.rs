//! The single writer thread (DESIGN.md decision 1). Handlers queue commands; the thread takes
//! everything already queued, applies it in ONE write transaction, commits once (durable) and
//! answers each caller. While a commit's fsync runs, new commands pile up, so batches grow
//! with load by themselves. Each command checks before it mutates, so a rejected command never
//! touches the batch; only an I/O failure fails the whole batch. A failed batch follows redb's
//! commit contract: it may still have become durable, so its callers get
//! [`StoreError::Unavailable`], the handle is closed and the thread reopens the file with
//! backoff, answering everything queued meanwhile with the same error (`recover`).

use std::sync::Arc;
use std::time::Duration;

use redb::Database;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::db::DbCell;
use crate::config::WriterSettings;

mod access_log;
mod idempotency;
mod ops;
mod outbox;
mod portal;
mod tables;

pub use ops::{
    AttemptOutcome, PortalOp, PortalOutcome, PurgeReport, ResendRefusal, RetryPolicy, SendLimits,
    WriteOp, WriteOutcome,
};
use tables::Tables;

enum Request {
    Op(WriteOp, oneshot::Sender<Result<WriteOutcome, StoreError>>),
    Stop,
}

#[derive(Clone)]
pub(super) struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl WriterHandle {
    pub(super) async fn send(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Op(op, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) fn send_blocking(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(Request::Op(op, reply))
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
) -> Result<(WriterHandle, std::thread::JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel(settings.queue_capacity);
    let settings = settings.clone();
    let thread = std::thread::Builder::new()
        .name("customerlink-writer".into())
        .spawn(move || run(&db, rx, &settings))
        .map_err(|e| StoreError::Io(e.to_string()))?;
    Ok((WriterHandle { tx }, thread))
}

fn run(db: &DbCell, mut rx: mpsc::Receiver<Request>, settings: &WriterSettings) {
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
                Request::Op(op, reply) => batch.push((op, reply)),
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
            let committed = write_batch(db, &mut batch, settings.quick_repair);
            settings
                .stats
                .record_commit(len, started.elapsed(), committed);
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
                Ok(Request::Op(_, reply)) => {
                    let retry_after_secs = db.retry_after_secs().unwrap_or(1);
                    let _ = reply.send(Err(StoreError::Unavailable { retry_after_secs }));
                }
                Ok(Request::Stop) | Err(TryRecvError::Disconnected) => return false,
                Err(TryRecvError::Empty) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;

/// Applies and commits one batch on the current handle. Returns whether it was committed.
/// A failed commit, or any failure after which the handle refuses writes (redb's contract),
/// faults the handle so the next round reopens it, and the batch is answered with
/// [`StoreError::Unavailable`]: it may have become durable. A failure before the commit on a
/// handle that still writes (e.g. a purge aborted on a damaged record) keeps its error.
fn write_batch(db: &DbCell, batch: &mut Vec<(WriteOp, Reply)>, quick_repair: bool) -> bool {
    let (ops, replies): (Vec<WriteOp>, Vec<Reply>) = batch.drain(..).unzip();
    let error = match db.current() {
        Err(e) => e,
        Ok(handle) => match apply_batch(&handle, ops, quick_repair) {
            Ok(outcomes) => {
                db.committed();
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                return true;
            }
            Err(failed) if failed.at_commit || handle.begin_write().is_err() => {
                drop(handle);
                tracing::error!(error = %failed.error, "write batch failed; reopening the database");
                db.fault();
                StoreError::Unavailable {
                    retry_after_secs: db.retry_after_secs().unwrap_or(1),
                }
            }
            Err(failed) => {
                tracing::error!(error = %failed.error, "write batch failed; nothing of it was committed");
                failed.error
            }
        },
    };
    for reply in replies {
        let _ = reply.send(Err(error.clone()));
    }
    false
}

/// Why a batch was not committed, and whether it failed in the commit itself.
struct Failed {
    error: StoreError,
    at_commit: bool,
}

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed {
            error,
            at_commit: false,
        }
    }
}

/// Applies `ops` in one transaction and commits it; one outcome per op, in order. An `Err`
/// fails the whole batch.
fn apply_batch(
    db: &Database,
    ops: Vec<WriteOp>,
    quick_repair: bool,
) -> Result<Vec<Result<WriteOutcome, StoreError>>, Failed> {
    let mut txn = db.begin_write().map_err(StoreError::from)?;
    txn.set_quick_repair(quick_repair);
    let mut outcomes = Vec::with_capacity(ops.len());
    {
        let mut tables = Tables::open(&txn)?;
        for op in ops {
            match tables.apply(op) {
                Err(e @ (StoreError::Io(_) | StoreError::Unavailable { .. })) => {
                    return Err(e.into());
                }
                outcome => outcomes.push(outcome),
            }
        }
    }
    txn.commit().map_err(|e| Failed {
        error: e.into(),
        at_commit: true,
    })?;
    Ok(outcomes)
}
