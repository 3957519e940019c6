//! End-to-end tests: each test spawns the real server on port 0 with its own
//! database and keys, and speaks HTTP to it as a client would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod admin_roles;
mod agent_status;
mod answers;
mod config;
mod discovery;
mod flow;
mod helpers;
mod jwt;
mod postgres;
mod private_key_jwt;
mod restart;
mod token_errors;
mod token_grants;
