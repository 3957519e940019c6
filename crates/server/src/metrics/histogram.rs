//! A histogram with fixed buckets that records without a lock: one atomic
//! add on the bucket and one on the sum, both in whole units (nanoseconds
//! for durations), so that recording on the hot paths never waits on
//! another core. prometheus-client's own histogram takes a mutex per
//! observation; this one only has to be encoded the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::exemplar::Exemplar;
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of request and commit durations, in seconds: the token
/// endpoint and introspection answer in well under a millisecond when warm.
pub const DURATION_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Upper bounds of audit batch sizes, in events (a batch holds at most
/// `warrant_store::audit::MAX_BATCH`).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// A cheaply cloned handle; clones record into the same histogram.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Upper bounds in whole units, ascending.
    bounds: Box<[u64]>,
    /// The same bounds as exposed.
    exposed: Box<[f64]>,
    /// Exposed value of one unit (1e-9 for nanoseconds).
    unit: f64,
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    counts: Box<[AtomicU64]>,
    /// Sum of the observations, in whole units.
    sum: AtomicU64,
}

impl Histogram {
    /// A histogram of durations, exposed in seconds over `buckets`.
    pub fn seconds(buckets: &[f64]) -> Histogram {
        Histogram::new(buckets, 1e-9)
    }

    /// A histogram of counts over `buckets`.
    pub fn counts(buckets: &[f64]) -> Histogram {
        Histogram::new(buckets, 1.0)
    }

    fn new(buckets: &[f64], unit: f64) -> Histogram {
        let bounds = buckets.iter().map(|b| (b / unit).round() as u64).collect();
        let counts = (0..=buckets.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram(Arc::new(Inner { bounds, exposed: buckets.into(), unit, counts, sum: AtomicU64::new(0) }))
    }

    /// Records a duration (for a histogram made by [`Histogram::seconds`]).
    pub fn observe_duration(&self, elapsed: Duration) {
        self.observe_units(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Records a count (for a histogram made by [`Histogram::counts`]).
    pub fn observe_count(&self, value: usize) {
        self.observe_units(u64::try_from(value).unwrap_or(u64::MAX));
    }

    fn observe_units(&self, value: u64) {
        let inner = &*self.0;
        let bucket = inner.bounds.iter().position(|bound| value <= *bound).unwrap_or(inner.bounds.len());
        if let Some(count) = inner.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        inner.sum.fetch_add(value, Ordering::Relaxed);
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let inner = &*self.0;
        let counts: Vec<u64> = inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let buckets: Vec<(f64, u64)> =
            inner.exposed.iter().copied().chain([f64::INFINITY]).zip(counts.iter().copied()).collect();
        // The count is the sum of the buckets read, so `_count` always
        // equals the `+Inf` bucket even while observations land.
        let count = counts.iter().sum();
        let sum = inner.sum.load(Ordering::Relaxed) as f64 * inner.unit;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None::<&ExemplarMap>)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

type ExemplarMap = std::collections::HashMap<usize, Exemplar<NoLabelSet, f64>>;

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::{Registry, Unit};

    fn exposed(histogram: &Histogram, unit: Option<Unit>) -> String {
        let mut registry = Registry::default();
        match unit {
            Some(unit) => registry.register_with_unit("h", "help", unit, histogram.clone()),
            None => registry.register("h", "help", histogram.clone()),
        }
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn durations_land_in_cumulative_buckets_and_sum_in_seconds() {
        let h = Histogram::seconds(&[0.001, 0.01]);
        for ms in [0, 1, 5, 10, 11, 2_000] {
            h.observe_duration(Duration::from_millis(ms));
        }
        let text = exposed(&h, Some(Unit::Seconds));
        for line in [
            "h_seconds_bucket{le=\"0.001\"} 2",
            "h_seconds_bucket{le=\"0.01\"} 4",
            "h_seconds_bucket{le=\"+Inf\"} 6",
            "h_seconds_count 6",
            "h_seconds_sum 2.027",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn counts_are_exposed_as_they_are() {
        let h = Histogram::counts(BATCH_BUCKETS);
        for n in [1, 3, 512, 600] {
            h.observe_count(n);
        }
        let text = exposed(&h, None);
        for line in
            ["h_bucket{le=\"1.0\"} 1", "h_bucket{le=\"4.0\"} 2", "h_bucket{le=\"512.0\"} 3", "h_sum 1116.0"]
        {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
