//! customerlink: mints, delivers, serves and retires secure customer links.
//!
//! Data flows `http` (accept loop, limits) → `api` (bind → handle → respond, one module per
//! operation family) → `domain` (pure rules) → `store` (redb, one group-commit writer).
//! `wire` turns DTOs into bytes and back; `delivery` sends links and codes by email and SMS;
//! `jobs` runs background work (purge, outbox retries); `metrics` counts what operators watch
//! and `logging` names the request each log line belongs to;
//! `app` wires the pieces together and owns start-up and shutdown; `private_fs` keeps the
//! data folder and its files readable by the service's user only; `ops` (tenants and keys,
//! backup, restore, compact) and `cli` are the operator's commands.

pub mod api;
pub mod app;
pub mod attachment;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod evidence;
pub mod http;
pub mod jobs;
pub mod logging;
pub mod manual;
pub mod metrics;
pub mod ops;
pub mod private_fs;
pub mod store;
pub mod wire;
