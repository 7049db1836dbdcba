//! Black-box tests: the real server on loopback, over HTTP, one test binary (link time is
//! paid once on this 2-core machine). Modules are named after what they prove.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed expectation is a failed test"
)]

mod support;

mod access_log;
mod admin;
mod attachment_ops;
mod attachments;
mod auth;
mod autobatch;
mod bad_input;
mod branding;
mod casing;
mod connections;
mod contacts;
mod crash;
mod csv_injection;
mod csv_wire;
mod delivery;
mod dev_mode;
mod durability;
mod errors;
mod evidence;
mod file_modes;
mod grants;
mod hostile_names;
mod idempotency;
mod isolation;
mod jobs;
mod jsv_whitespace;
mod key_revoke;
mod languages;
mod limits;
mod links;
mod migrate;
mod migrate_scale;
mod ops;
mod outbox_poison;
mod packaging;
mod pg_links;
mod pg_outbox;
mod pg_reads;
mod portal;
mod portal_cookie;
mod portal_paths;
mod portal_policy;
mod postgres;
mod proxies;
mod purge;
mod reissue;
mod resource_types;
mod revoke_many;
mod roles;
mod routing;
mod scale_out;
mod send_limits;
mod share_recipient;
mod share_wire;
mod shares;
mod storage_faults;
mod upgrade;
mod vary_and_escapes;
mod verify_limiter;
mod webhooks;
mod wire;
