//! What a result is measured on: cores, CPU model and memory, read from
//! `/proc` (Linux) for the line every benchmark prints with its figures.

/// Cores the benchmark may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find(|l| l.starts_with("model name")).map(|l| l.to_owned()))
        .and_then(|line| line.split_once(':').map(|(_, model)| model.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Total memory from `/proc/meminfo`, in GiB.
pub fn memory_gib() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// One line: cores, CPU and memory.
pub fn describe() -> String {
    let memory = memory_gib().map_or_else(|| "unknown memory".to_owned(), |g| format!("{g:.0} GiB"));
    format!("{} cores, {}, {memory}", cores(), cpu_model())
}
