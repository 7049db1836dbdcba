//! Each store command on PostgreSQL ([`super::PgApply`]), one module per command family.

mod access_log;
mod outbox;
