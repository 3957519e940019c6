//! An example resource server: a small ticketing API whose routes sit
//! behind Warrant's tower layer (`warrant_introspection::layer`). Agents
//! call it with Warrant access tokens for its audience; `tickets:read`
//! lets them list and read tickets, `tickets:write` lets them open one. A
//! kill or a grant revocation in Warrant reaches it through the Redis
//! denylist it follows.
//!
//! `main.rs` reads the environment and runs an [`Application`]; tests build
//! one on port 0, or use [`build_router`] directly.

pub mod config;
pub mod startup;
pub mod tickets;

pub use config::{ConfigError, TicketingConfig};
pub use startup::{build_router, Application, StartError, READ, WRITE};
pub use tickets::{Ticket, TicketStore};
