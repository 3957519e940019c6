//! The operator commands of the `warrant` binary (`agents`, `resources`,
//! `grants`, `credentials`, `kill`, `restore`, `audit tail|export`,
//! `report`): a client of the admin API over HTTP, authenticated with an
//! operator's client credentials. The server itself (`serve`) and the local
//! `audit verify` stay in `main.rs`; this module only parses their words.

mod args;
mod client;
mod commands;
mod credentials;
mod error;
mod render;
mod run;
mod table;
mod value;

pub use args::{parse, Command, USAGE};
pub use run::run;
