//! Black-box tests: the real server on loopback, over HTTP, one test binary (link time is
//! paid once on this 2-core machine). Modules are named after what they prove.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed expectation is a failed test"
)]

mod support;

mod admin;
mod auth;
mod bad_input;
mod contacts;
mod crash;
mod delivery;
mod durability;
mod hostile_names;
mod isolation;
mod limits;
mod links;
mod ops;
mod outbox_poison;
mod portal;
mod portal_paths;
mod purge;
mod send_limits;
mod wire;
