//! The single writer thread (DESIGN.md decision 1). Handlers queue commands; the thread takes
//! everything already queued, applies it in ONE write transaction, commits once (durable) and
//! answers each caller. While a commit's fsync runs, new commands pile up, so batches grow
//! with load by themselves. Each command checks before it mutates, so a rejected command never
//! touches the batch; only an I/O failure fails the whole batch (and nothing of it is written).

use std::sync::Arc;

use redb::Database;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use crate::config::WriterSettings;

mod access_log;
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
    db: Arc<Database>,
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

fn run(db: &Database, mut rx: mpsc::Receiver<Request>, settings: &WriterSettings) {
    let max_batch = settings.max_batch;
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
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
            let committed = apply_batch(db, &mut batch, settings.quick_repair);
            settings
                .stats
                .record_commit(len, started.elapsed(), committed);
        }
        if stop {
            return;
        }
    }
}

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;

/// Returns whether the batch was committed.
fn apply_batch(db: &Database, batch: &mut Vec<(WriteOp, Reply)>, quick_repair: bool) -> bool {
    let mut replies = Vec::with_capacity(batch.len());
    let result = (|| {
        let mut txn = db.begin_write()?;
        txn.set_quick_repair(quick_repair);
        {
            let mut tables = Tables::open(&txn)?;
            for (op, reply) in batch.drain(..) {
                match tables.apply(op) {
                    Err(e @ StoreError::Io(_)) => return Err(e),
                    outcome => replies.push((reply, outcome)),
                }
            }
        }
        txn.commit()?;
        Ok(())
    })();
    let committed = result.is_ok();
    match result {
        Ok(()) => {
            for (reply, outcome) in replies {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "write batch failed; nothing of it was committed");
            let failed = replies
                .into_iter()
                .map(|(r, _)| r)
                .chain(batch.drain(..).map(|(_, r)| r));
            for reply in failed {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
    committed
}
