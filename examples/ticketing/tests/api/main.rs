//! The ticketing example against a real Warrant: both on port 0 over HTTP,
//! sharing the Redis denylist under a per-test prefix. Fails (never skips)
//! when Redis cannot be reached.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fail_closed;
mod helpers;
mod kill;
mod redis;
mod tickets;
