//! `warrant-bench load`: throughput, latency and memory of Warrant's OAuth
//! endpoints under concurrent load, beside reference routes that bound what
//! such an endpoint could cost on the same machine.
//!
//! It starts the release `warrant` binary as a child process on loopback
//! (embedded SQLite and in-process denylist, or with `--production` a fresh
//! PostgreSQL database from `DATABASE_URL` and Redis from `REDIS_URL`),
//! seeds an inventory through the admin API, starts the reference server,
//! then runs each scenario at each connection count: a one-second warm-up,
//! then the timed window. It prints a Markdown table and the server's peak
//! memory. The modules: [`server`] (the child), [`seed`] (the inventory),
//! [`cpu`] (CPU time of each side),
//! [`reference`] (the reference server), [`scenario`] (what each scenario
//! sends), [`driver`] (the timed loop) and [`report`] (the table).

mod cpu;
mod driver;
mod reference;
mod report;
mod scenario;
mod seed;
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

use self::reference::ReferenceServer;
use self::report::Row;
use self::scenario::{Scenario, Target};
use self::server::{Production, WarrantProcess};

const USAGE: &str = "usage: warrant-bench load [--seconds N] [--connections 16,64] [--agents N] \
                     [--resources N] [--grants N] [--scenarios a,b,...] [--production]";
/// The unmeasured run before each measured one.
const WARMUP: Duration = Duration::from_secs(1);
/// Single-use inputs prepared for the warm-up of a consuming scenario.
const WARMUP_INPUTS: usize = 5_000;
/// Inputs prepared for the timed window: the warm-up's rate times this.
const INPUT_MARGIN: f64 = 1.5;

/// The command line.
struct Options {
    seconds: u64,
    connections: Vec<usize>,
    counts: seed::Counts,
    scenarios: Vec<Scenario>,
    production: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            seconds: 10,
            connections: vec![16, 64],
            counts: seed::Counts { agents: 1_000, resources: 20, grants: 5_000 },
            scenarios: Scenario::ALL.to_vec(),
            production: false,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            if flag == "--production" {
                options.production = true;
                continue;
            }
            let value = args.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
            let number = || value.parse::<usize>().with_context(|| format!("{flag} {value}: not a number"));
            match flag.as_str() {
                "--seconds" => {
                    options.seconds = value.parse().with_context(|| format!("--seconds {value}"))?
                }
                "--agents" => options.counts.agents = number()?,
                "--resources" => options.counts.resources = number()?,
                "--grants" => options.counts.grants = number()?,
                "--connections" => {
                    options.connections = value
                        .split(',')
                        .map(|c| c.trim().parse::<usize>().with_context(|| format!("--connections {value}")))
                        .collect::<Result<_>>()?;
                }
                "--scenarios" => {
                    let chosen =
                        value.split(',').map(|s| Scenario::parse(s.trim())).collect::<Result<Vec<_>>>()?;
                    options.scenarios = Scenario::ALL.into_iter().filter(|s| chosen.contains(s)).collect();
                }
                _ => bail!("unknown option {flag}\n{USAGE}"),
            }
        }
        ensure!(options.seconds > 0, "--seconds must be positive");
        ensure!(
            !options.connections.is_empty() && options.connections.iter().all(|c| *c > 0),
            "--connections must list positive numbers"
        );
        Ok(options)
    }
}

/// Runs the load benchmark with the command-line arguments after `load`.
pub async fn run(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let production = if options.production { Some(Production::create(&run_id).await?) } else { None };
    let outcome = measure(&options, production.as_ref(), &run_id).await;
    if let Some(production) = production {
        if let Err(error) = production.drop_database().await {
            eprintln!("warrant-bench: the benchmark database was not dropped: {error:#}");
        }
    }
    outcome
}

/// Starts Warrant and the reference server, seeds, runs every scenario at
/// every connection count, and prints the table and the memory figures.
async fn measure(options: &Options, production: Option<&Production>, run_id: &str) -> Result<()> {
    let mode = match production {
        Some(_) => "production mode (PostgreSQL + Redis)",
        None => "embedded mode (SQLite, in-process denylist)",
    };
    println!("warrant-bench load: {mode}");
    println!(
        "machine: {} (the load generator and the reference server share them)",
        crate::machine::describe()
    );
    let admin_secret = format!("bench-{run_id}");
    let server = WarrantProcess::start(&admin_secret, production, run_id).await?;
    let started_kib = server.peak_memory_kib()?;
    println!("warrant pid {} at {}, log {}", server.pid(), server.base, server.log.display());

    let http = reqwest::Client::new();
    let counts = options.counts;
    println!(
        "seeding {} agents ({} with private_key_jwt), {} resources, {} grants ...",
        counts.agents,
        counts.agents.div_ceil(seed::KEY_AGENT_EVERY),
        counts.resources,
        counts.grants
    );
    let seeding = Instant::now();
    let inventory = seed::seed(&http, &server.base, server::ADMIN_ID, &admin_secret, counts).await?;
    println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    let seeded_kib = server.peak_memory_kib()?;

    let metadata: Value = http
        .get(format!("{}/.well-known/oauth-authorization-server", server.base))
        .send()
        .await?
        .json()
        .await?;
    let token_endpoint = metadata["token_endpoint"].as_str().context("no token_endpoint in the metadata")?;
    let reference = ReferenceServer::start()?;
    let target = Target {
        warrant: &server.base,
        token_endpoint: token_endpoint.to_owned(),
        reference: &reference,
        inventory: &inventory,
        http,
    };

    let meter = cpu::CpuMeter::new(server.pid());
    let mut rows = Vec::new();
    for scenario in options.scenarios.iter().copied() {
        for connections in options.connections.iter().copied() {
            let (outcome, cpu) = measure_one(&target, &meter, scenario, connections, options.seconds).await?;
            println!(
                "  {:<20} {connections:>3} connections: {:>8.0} req/s, {} errors, CPU warrant {:.2} bench {:.2} all {:.2}",
                scenario.name(),
                outcome.rate(),
                outcome.errors,
                cpu.warrant,
                cpu.bench,
                cpu.machine
            );
            rows.push(Row { scenario, connections, outcome, cpu });
        }
    }
    let peak_kib = server.peak_memory_kib()?;
    let end_kib = server.memory_kib()?;
    drop(server);
    reference.stop().await?;

    report::print(&format!("{mode}, {} s per row", options.seconds), &rows);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "warrant peak memory (VmHWM): {:.1} MiB after start, {:.1} MiB after seeding, {:.1} MiB at the end \
         (resident at the end: {:.1} MiB)",
        mib(started_kib),
        mib(seeded_kib),
        mib(peak_kib),
        mib(end_kib)
    );
    Ok(())
}

/// Warms `scenario` up, prepares its inputs, and measures it for `seconds`,
/// with the cores each side used meanwhile.
async fn measure_one(
    target: &Target<'_>,
    meter: &cpu::CpuMeter,
    scenario: Scenario,
    connections: usize,
    seconds: u64,
) -> Result<(driver::Outcome, cpu::Usage)> {
    let clients = driver::clients(connections)?;
    let warm_plan = Arc::new(scenario::plan(target, scenario, WARMUP_INPUTS).await?);
    let warm = driver::run(&clients, &warm_plan, WARMUP).await?;
    if warm.ok == 0 {
        bail!(
            "{} at {connections} connections: no correct answer in the warm-up: {}",
            scenario.name(),
            warm.first_error.as_deref().unwrap_or("no request sent")
        );
    }
    let plan = if scenario.consumes() {
        drop(warm_plan);
        let need = (warm.rate() * seconds as f64 * INPUT_MARGIN) as usize + 1_000;
        let preparing = Instant::now();
        let plan = scenario::plan(target, scenario, need).await?;
        println!(
            "  {:<20} {connections:>3} connections: prepared {need} single-use requests in {:.1} s",
            scenario.name(),
            preparing.elapsed().as_secs_f64()
        );
        Arc::new(plan)
    } else {
        warm_plan
    };
    let before = meter.sample()?;
    let outcome = driver::run(&clients, &plan, Duration::from_secs(seconds)).await?;
    let usage = meter.usage_since(before, outcome.window)?;
    Ok((outcome, usage))
}
