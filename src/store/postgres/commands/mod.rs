//! The commands of [`crate::store::commands`] on PostgreSQL, one module per family, each a
//! [`super::PgApply`] whose outcomes are the embedded writer's (`store/writer/*.rs`): the
//! same domain rule decides, on the row taken `FOR UPDATE` in the command's transaction, so
//! a second instance waits for the first and budgets stay exact.

mod access_log;
mod attachment;
mod idempotency;
mod link;
mod outbox;
mod portal;

pub(super) use portal::{GRANT_COLUMNS, grant_from_row};
mod tenant;
mod webhook;
