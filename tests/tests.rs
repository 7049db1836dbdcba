//! Black-box tests: the real server on loopback, over HTTP, one test binary (link time is
//! paid once on this 2-core machine). Modules are named after what they prove.

mod support;

mod admin;
mod durability;
mod links;
mod purge;
