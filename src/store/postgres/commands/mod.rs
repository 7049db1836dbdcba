//! Each store command on PostgreSQL ([`super::PgApply`]), one module per command family,
//! each mirroring its redb writer (`store::writer`) outcome for outcome: the same domain
//! rule decides, on the row taken `FOR UPDATE` in the command's transaction, so a second
//! instance waits for the first and budgets stay exact.

mod access_log;
mod idempotency;
mod link;
mod outbox;
mod portal;
