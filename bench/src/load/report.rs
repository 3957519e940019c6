//! The results table (Markdown, so it can be pasted into BENCHMARKS.md):
//! one row per scenario and connection count, with its throughput as a
//! ratio of its reference route's at the same connection count.

use super::cpu::Usage;
use super::driver::Outcome;
use super::scenario::Scenario;

/// One measured scenario at one connection count.
pub struct Row {
    pub scenario: Scenario,
    pub connections: usize,
    pub outcome: Outcome,
    /// Cores used by Warrant and by the bench during the window.
    pub cpu: Usage,
}

/// Prints the table, then what ran short and the first error of each row.
pub fn print(title: &str, rows: &[Row]) {
    println!("\n### {title}\n");
    println!(
        "| scenario | connections | req/s | p50 ms | p99 ms | max ms | errors | vs reference | CPU warrant | CPU bench | CPU all |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    for row in rows {
        let o = &row.outcome;
        let ratio = row.scenario.reference().map_or_else(String::new, |reference| {
            rows.iter().find(|r| r.scenario == reference && r.connections == row.connections).map_or_else(
                || format!("({} not run)", reference.name()),
                |r| format!("{:.2} × {}", o.rate() / r.outcome.rate().max(1e-9), reference.name()),
            )
        });
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {ratio} | {:.2} | {:.2} | {:.2} |",
            row.scenario.name(),
            row.connections,
            o.rate(),
            ms(o.quantile_ms(0.50)),
            ms(o.quantile_ms(0.99)),
            ms(o.quantile_ms(1.0)),
            o.errors,
            row.cpu.warrant,
            row.cpu.bench,
            row.cpu.machine,
        );
    }
    println!(
        "\nreq/s counts answers that passed the checks; latencies run from the send to the body's last byte; \
         \"vs reference\" is req/s divided by the reference route's at the same connections; CPU is cores \
         used during the window by the Warrant process, by the bench (load generator, and for ref-* \
         rows the reference server too), and by the whole machine (PostgreSQL and Redis included).\n"
    );
    for row in rows {
        let name = format!("{} at {} connections", row.scenario.name(), row.connections);
        if row.outcome.exhausted {
            println!(
                "- {name}: the prepared inputs ran out after {:.1} s; figures are over that window.",
                row.outcome.window.as_secs_f64()
            );
        }
        if let Some(error) = &row.outcome.first_error {
            println!("- {name}: first error: {error}");
        }
    }
}
