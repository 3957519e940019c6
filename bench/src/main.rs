//! `warrant-bench`: benchmarks that start Warrant themselves on loopback
//! and talk HTTP to it, as clients would.
//!
//! ```text
//! cargo run --release -p warrant-bench -- kill-propagation [--kills 200] [--instances 3]
//! cargo run --release -p warrant-bench -- load [--seconds 10] [--connections 16,64] [--production] ...
//! ```
//!
//! This file only dispatches: [`kill_propagation`] measures how fast a kill
//! reaches every instance; [`load`] measures throughput, latency and memory
//! of the OAuth endpoints against reference routes.

mod api;
mod kill_propagation;
mod load;
mod machine;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage:\n  warrant-bench kill-propagation [--kills N] [--instances N]\n  \
                     warrant-bench load [--seconds N] [--connections 16,64] [--agents N] [--resources N] \
                     [--grants N] [--scenarios a,b,...] [--production]";

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else { bail!(USAGE) };
    let flag = |name: &str, default: usize| -> Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(i) => args.get(i + 1).context(USAGE)?.parse().context(USAGE),
            None => Ok(default),
        }
    };
    match command.as_str() {
        "kill-propagation" => kill_propagation::run(flag("--kills", 200)?, flag("--instances", 3)?).await,
        "load" => load::run(args.get(1..).unwrap_or_default()).await,
        _ => bail!(USAGE),
    }
}
