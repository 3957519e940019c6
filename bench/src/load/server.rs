//! The Warrant server under test, as a separate process (so that its peak
//! memory can be read from `/proc`): the release `warrant` binary next to
//! this one, started with `serve` on 127.0.0.1 port 0, a temporary data and
//! key directory, and in production mode a fresh PostgreSQL database and a
//! fresh Redis key prefix. The child is killed when [`WarrantProcess`] is
//! dropped, on success or on error.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sqlx::Connection;

/// The production backends given to the bench: a database created for
/// this run (dropped by [`Production::drop_database`]) and Redis.
pub struct Production {
    server_url: String,
    db_name: String,
    /// The URL of the fresh database.
    pub database_url: String,
    pub redis_url: String,
}

impl Production {
    /// Reads `DATABASE_URL` and `REDIS_URL` and creates a fresh database on
    /// that PostgreSQL server.
    pub async fn create(run_id: &str) -> Result<Production> {
        let server_url = std::env::var("DATABASE_URL")
            .context("--production needs DATABASE_URL (postgres://…) and REDIS_URL (redis://…)")?;
        let redis_url = std::env::var("REDIS_URL")
            .context("--production needs DATABASE_URL (postgres://…) and REDIS_URL (redis://…)")?;
        let db_name = format!("warrant_load_{run_id}");
        let mut admin =
            sqlx::PgConnection::connect(&server_url).await.context("PostgreSQL (DATABASE_URL)")?;
        sqlx::query(&format!("CREATE DATABASE {db_name}")).execute(&mut admin).await?;
        let base = server_url.rsplit_once('/').map_or(server_url.as_str(), |(base, _)| base);
        let database_url = format!("{base}/{db_name}");
        Ok(Production { server_url, db_name, database_url, redis_url })
    }

    /// Drops the database created for this run.
    pub async fn drop_database(self) -> Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.server_url).await?;
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.db_name)).execute(&mut admin).await?;
        Ok(())
    }
}

/// A running `warrant serve` child process.
pub struct WarrantProcess {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Where the server's log (its standard error) goes.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The bootstrap operator the bench seeds with.
pub const ADMIN_ID: &str = "bench-admin";

impl WarrantProcess {
    /// Starts `warrant serve` and waits until it listens and is ready.
    pub async fn start(
        admin_secret: &str,
        production: Option<&Production>,
        run_id: &str,
    ) -> Result<WarrantProcess> {
        let binary = std::env::current_exe()?.with_file_name("warrant");
        if !binary.is_file() {
            bail!(
                "{} not found: run `cargo build --release -p warrant-server` first (the bench runs the \
                 release `warrant` binary next to its own)",
                binary.display()
            );
        }
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("warrant.log");
        let mut command = Command::new(&binary);
        command.arg("serve");
        // Nothing from the bench's environment chooses the mode but --production.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WARRANT_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .env("WARRANT_LISTEN", "127.0.0.1:0")
            .env("WARRANT_DATA_DIR", dir.path().join("data"))
            .env("WARRANT_KEYS_DIR", dir.path().join("keys"))
            .env("WARRANT_BOOTSTRAP_ADMIN_ID", ADMIN_ID)
            .env("WARRANT_BOOTSTRAP_ADMIN_SECRET", admin_secret)
            // Tokens fetched before a scenario must outlive the whole run.
            .env("WARRANT_TOKEN_TTL", "3600")
            // Scenarios drive one client at thousands of requests per second:
            // a limit that never trips, so the check's cost is still measured.
            .env("WARRANT_TOKEN_RATE_LIMIT", "1000000")
            .env("WARRANT_TOKEN_RATE_BURST", "1000000");
        if let Some(production) = production {
            command
                .env("WARRANT_DATABASE_URL", &production.database_url)
                .env("WARRANT_REDIS_URL", &production.redis_url)
                .env("WARRANT_REDIS_PREFIX", format!("bench:{run_id}:"));
        }
        let log_file = std::fs::File::create(&log)?;
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log_file);
        let mut child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;

        // `serve` prints "Warrant listening on http://ADDR (issuer …)" on
        // standard output once it is bound; the rest of stdout is drained.
        let stdout = child.stdout.take().context("the child's stdout")?;
        let (found, listening) = tokio::sync::oneshot::channel::<String>();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let address = line.split_once("listening on ").map(|(_, rest)| rest);
                if let (Some(address), Some(sender)) = (address, found.take()) {
                    let base = address.split_whitespace().next().unwrap_or_default().to_owned();
                    let _ = sender.send(base);
                }
            }
        });
        let mut process = WarrantProcess { child, base: String::new(), log, _dir: dir };
        match tokio::time::timeout(Duration::from_secs(60), listening).await {
            Ok(Ok(base)) => process.base = base,
            _ => bail!("warrant did not start; its log:\n{}", process.log_tail()),
        }
        let http = reqwest::Client::new();
        if let Err(error) = crate::api::wait_ready(&http, &process.base).await {
            bail!("{error:#}; warrant's log:\n{}", process.log_tail());
        }
        Ok(process)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_memory_kib(&self) -> Result<u64> {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// The process's resident memory now (`VmRSS`), in KiB.
    pub fn memory_kib(&self) -> Result<u64> {
        proc_status_kib(self.pid(), "VmRSS:")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for WarrantProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of `/proc/<pid>/status`.
fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(field)).with_context(|| format!("no {field}"))?;
    line.split_whitespace().nth(1).context("an empty field")?.parse().context("a number of kB")
}
