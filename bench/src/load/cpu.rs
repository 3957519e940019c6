//! CPU time of the Warrant process and of the bench itself (load generator
//! and reference server), from `/proc/<pid>/stat`, and of the whole machine
//! (PostgreSQL and Redis included) from `/proc/stat`, so that each row can
//! say how many cores each side used: whether the server was busy computing
//! or waiting (on a commit, on Redis), and how much the client took from it.

use std::time::Duration;

use anyhow::{Context, Result};

/// Reads the CPU time of two processes.
pub struct CpuMeter {
    warrant_pid: u32,
    ticks_per_second: f64,
}

/// CPU seconds used so far by Warrant, by the bench, and by the machine.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    warrant: f64,
    bench: f64,
    machine: f64,
}

/// Cores used over a window by Warrant, by the bench, and by the machine.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub warrant: f64,
    pub bench: f64,
    pub machine: f64,
}

impl CpuMeter {
    pub fn new(warrant_pid: u32) -> CpuMeter {
        // `getconf CLK_TCK`; 100 on every mainstream Linux.
        let ticks_per_second = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse::<f64>().ok())
            .unwrap_or(100.0);
        CpuMeter { warrant_pid, ticks_per_second }
    }

    pub fn sample(&self) -> Result<Sample> {
        Ok(Sample {
            warrant: self.seconds(self.warrant_pid)?,
            bench: self.seconds(std::process::id())?,
            machine: self.machine_seconds()?,
        })
    }

    /// Cores used between `before` and now, over `window`.
    pub fn usage_since(&self, before: Sample, window: Duration) -> Result<Usage> {
        let now = self.sample()?;
        let secs = window.as_secs_f64().max(1e-9);
        Ok(Usage {
            warrant: (now.warrant - before.warrant) / secs,
            bench: (now.bench - before.bench) / secs,
            machine: (now.machine - before.machine) / secs,
        })
    }

    /// Busy time of every core (user, nice, system, irq, softirq, steal;
    /// not idle or iowait), in seconds, from the `cpu` line of `/proc/stat`.
    fn machine_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat.lines().find(|l| l.starts_with("cpu ")).context("no cpu line in /proc/stat")?;
        let fields: Vec<f64> = line.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0.0)).collect();
        let busy: f64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|i| fields.get(*i)).sum();
        Ok(busy / self.ticks_per_second)
    }

    /// User plus system time of every thread of `pid`, in seconds.
    fn seconds(&self, pid: u32) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The fields after the command name, which is in parentheses:
        // state is the first; utime and stime the 12th and 13th.
        let (_, rest) = stat.rsplit_once(')').context("a /proc stat line")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> Result<f64> {
            Ok(fields.get(i).context("a short /proc stat line")?.parse::<f64>()?)
        };
        Ok((ticks(11)? + ticks(12)?) / self.ticks_per_second)
    }
}
