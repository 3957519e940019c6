//! End-to-end tests: each test spawns the real server on port 0 with its own
//! database and keys, and speaks HTTP to it as a client would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access_report;
mod admin;
mod admin_roles;
mod agent_status;
mod answers;
mod audit;
mod bulk_kill;
mod cluster;
mod config;
mod credentials;
mod denylist;
mod discovery;
mod edge;
mod flow;
mod forge;
mod governance;
mod grant_lifetime;
mod helpers;
mod introspection;
mod inventory;
mod inventory_model;
mod jwt;
mod kill_switch;
mod lifecycle;
mod live_traffic;
mod metrics;
mod openapi;
mod postgres;
mod private_key_jwt;
mod redis;
mod redis_outage;
mod restart;
mod revocation;
mod rotation;
mod tls;
mod token_errors;
mod token_grants;
mod two_person;
