//! How a typed command travels through the writer: boxed as a [`Job`] that applies itself on
//! the batch's tables and answers its own typed reply, so the writer never matches on
//! command kinds and a caller's reply can only carry its command's `Output`.

use tokio::sync::oneshot;

use super::super::StoreError;
use super::super::commands::Command;
use super::tables::Tables;

/// How this store applies a [`Command`] inside a write transaction. Taking `&self` lets the
/// writer apply a batch again without a command that failed (see `apply_batch`). Sealed in
/// effect: `Tables` cannot be named outside the store, so only the store implements it.
pub trait Apply: Command {
    fn apply(&self, tables: &mut Tables<'_>) -> Result<Self::Output, StoreError>;
}

/// A queued command with its reply, the outcome type erased.
pub(super) trait Job: Send {
    /// Applies the command and keeps its outcome; an `Err` is the command's failure (a copy
    /// of it is kept for [`Job::answer`]).
    fn apply(&mut self, tables: &mut Tables<'_>) -> Result<(), StoreError>;
    /// Answers the caller: the kept outcome if `batch` (the commit) succeeded, else its error.
    fn answer(self: Box<Self>, batch: Result<(), StoreError>);
}

/// A command and the one reply that can carry its output.
pub(super) struct Queued<C: Apply> {
    command: C,
    outcome: Option<Result<C::Output, StoreError>>,
    reply: oneshot::Sender<Result<C::Output, StoreError>>,
}

impl<C: Apply> Queued<C> {
    pub(super) fn new(command: C, reply: oneshot::Sender<Result<C::Output, StoreError>>) -> Self {
        Queued {
            command,
            outcome: None,
            reply,
        }
    }
}

impl<C: Apply> Job for Queued<C> {
    fn apply(&mut self, tables: &mut Tables<'_>) -> Result<(), StoreError> {
        let outcome = self.command.apply(tables);
        let failed = outcome.as_ref().err().cloned();
        self.outcome = Some(outcome);
        failed.map_or(Ok(()), Err)
    }

    fn answer(self: Box<Self>, batch: Result<(), StoreError>) {
        let Queued { outcome, reply, .. } = *self;
        let not_applied = || Err(StoreError::Io("the command was not applied".into()));
        let _ = reply.send(batch.and_then(|()| outcome.unwrap_or_else(not_applied)));
    }
}
