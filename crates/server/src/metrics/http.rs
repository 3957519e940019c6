//! `warrant_http_request_duration_seconds{route, method, status}`: one
//! histogram per route template, method and status class.
//!
//! The route templates are known when the server starts (the paths of the
//! OpenAPI document, which a test keeps equal to the router), so the table
//! of series is built once and only read afterwards: finding a request's
//! series is a hash lookup with no lock, and a series is created on its
//! first request (a `OnceLock`), so that only what was seen is exposed.
//! Requests that match no route share `route="unmatched"`: the label
//! never carries a raw path, so it stays bounded whatever clients send.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use super::histogram::{Histogram, DURATION_BUCKETS};

/// The `route` label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The `method` label values; anything else is `other`.
const METHODS: [&str; 8] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other"];
/// The `status` label values.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The series of one route template and method, by status class.
#[derive(Debug, Default)]
pub struct StatusSeries([OnceLock<Histogram>; CLASSES.len()]);

impl StatusSeries {
    /// Records one answer with `status`, `elapsed` after the request came in.
    pub fn observe(&self, status: StatusCode, elapsed: Duration) {
        let class = usize::from(status.as_u16() / 100).clamp(1, CLASSES.len()) - 1;
        if let Some(slot) = self.0.get(class) {
            slot.get_or_init(|| Histogram::seconds(DURATION_BUCKETS)).observe_duration(elapsed);
        }
    }
}

/// The series of one route template, by method.
#[derive(Debug, Default)]
struct RouteSeries([StatusSeries; METHODS.len()]);

/// Request durations by route template, method and status class.
#[derive(Debug)]
pub struct HttpMetrics {
    routes: HashMap<String, RouteSeries>,
    unmatched: RouteSeries,
}

impl HttpMetrics {
    /// A table for these route templates (as axum's `MatchedPath` gives them).
    pub fn new(routes: impl IntoIterator<Item = String>) -> HttpMetrics {
        HttpMetrics {
            routes: routes.into_iter().map(|r| (r, RouteSeries::default())).collect(),
            unmatched: RouteSeries::default(),
        }
    }

    /// The series of a request: `route` is its matched template, if any.
    pub fn series(&self, route: Option<&str>, method: &Method) -> &StatusSeries {
        let route = route.and_then(|r| self.routes.get(r)).unwrap_or(&self.unmatched);
        &route.0[method_index(method)]
    }

    /// The series seen so far, sorted, with their labels.
    fn seen(&self) -> Vec<([(&'static str, &str); 3], &Histogram)> {
        let mut routes: Vec<(&str, &RouteSeries)> =
            self.routes.iter().map(|(route, series)| (route.as_str(), series)).collect();
        routes.sort_by_key(|(route, _)| *route);
        routes.push((UNMATCHED, &self.unmatched));
        let mut seen = Vec::new();
        for (route, series) in routes {
            for (method, classes) in METHODS.iter().zip(&series.0) {
                for (class, slot) in CLASSES.iter().zip(&classes.0) {
                    if let Some(histogram) = slot.get() {
                        seen.push(([("route", route), ("method", *method), ("status", *class)], histogram));
                    }
                }
            }
        }
        seen
    }
}

/// The index of `method` in `METHODS`.
fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

impl Collector for HttpMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "warrant_http_request_duration",
            "Time from a request's arrival to its answer's head, by route template, method and status class.",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for (labels, histogram) in self.seen() {
            histogram.encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    #[test]
    fn requests_are_counted_by_template_method_and_class_and_unknown_paths_are_unmatched() {
        let http =
            std::sync::Arc::new(HttpMetrics::new(["/oauth2/token".into(), "/admin/v1/agents/{id}".into()]));
        let observe = |route, method: &Method, status| {
            http.series(route, method).observe(status, Duration::from_millis(1));
        };
        observe(Some("/oauth2/token"), &Method::POST, StatusCode::OK);
        observe(Some("/oauth2/token"), &Method::POST, StatusCode::UNAUTHORIZED);
        observe(Some("/oauth2/token"), &Method::POST, StatusCode::BAD_REQUEST);
        observe(Some("/admin/v1/agents/{id}"), &Method::GET, StatusCode::NOT_FOUND);
        observe(None, &Method::from_bytes(b"BREW").unwrap(), StatusCode::NOT_FOUND);
        observe(Some("/not/a/template"), &Method::GET, StatusCode::OK);

        let mut registry = Registry::default();
        registry.register_collector(Box::new(http));
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        let count = |labels: &str| {
            let prefix = format!("warrant_http_request_duration_seconds_count{{{labels}}} ");
            text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.parse::<u64>().unwrap())
        };
        assert_eq!(count(r#"route="/oauth2/token",method="POST",status="4xx""#), Some(2), "{text}");
        assert_eq!(count(r#"route="/oauth2/token",method="POST",status="2xx""#), Some(1));
        assert_eq!(count(r#"route="/admin/v1/agents/{id}",method="GET",status="4xx""#), Some(1));
        assert_eq!(count(r#"route="unmatched",method="other",status="4xx""#), Some(1));
        assert_eq!(count(r#"route="unmatched",method="GET",status="2xx""#), Some(1));
        assert_eq!(
            count(r#"route="/oauth2/token",method="GET",status="2xx""#),
            None,
            "never seen, not exposed"
        );
        assert!(text.contains("# TYPE warrant_http_request_duration_seconds histogram"));
    }
}
