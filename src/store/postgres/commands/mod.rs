//! The store commands on PostgreSQL, one file per command family, each command's
//! [`super::PgApply`] mirroring its redb writer (`store::writer`) outcome for outcome:
//! the same domain rule decides, on the row taken `FOR UPDATE` in the command's
//! transaction, so a second instance waits for the first and budgets stay exact.

mod idempotency;
mod link;
mod portal;
