//! The commands of [`crate::store::commands`] on PostgreSQL, one module per family, each a
//! [`super::PgApply`] whose outcomes are the embedded writer's (`store/writer/*.rs`).

mod access_log;
mod outbox;
mod tenant;
