//! Every metric Warrant exposes, registered once at start-up, and the
//! methods the request paths record through.
//!
//! Recording is an atomic add on a handle resolved when the server starts:
//! the label sets the paths use (kind and method of an issued token, OAuth
//! error code of a refusal, reason of an inactive introspection) are
//! created up front, so they are exposed at zero and counted with no lookup
//! and no lock. A label set outside those (a method or reason added later
//! and not listed here) is still counted, through the family's lookup.
//! Labels never carry a client id, a token or an agent id.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use warrant_introspection::{InactiveReason, Introspection, VerifyError};
use warrant_issuer::{AuthenticatedClient, TokenObserver};
use warrant_policy::{ClientKind, OAuthError, OAuthErrorCode};
use warrant_store::audit::BatchWritten;
use warrant_store::denylist::{Denylist, DenylistError, Inactive};

use super::histogram::{Histogram, BATCH_BUCKETS, DURATION_BUCKETS};
use super::http::HttpMetrics;

/// The media type of the exposition: OpenMetrics text, which Prometheus
/// asks for first and parses natively.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, &'static str)>;

/// The client kinds that get tokens, and how they authenticate.
const ISSUED_KINDS: [ClientKind; 2] = [ClientKind::Agent, ClientKind::Operator];
const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

/// Every OAuth error code the token endpoint answers with.
const ERROR_CODES: [OAuthErrorCode; 9] = [
    OAuthErrorCode::InvalidRequest,
    OAuthErrorCode::InvalidClient,
    OAuthErrorCode::InvalidGrant,
    OAuthErrorCode::UnauthorizedClient,
    OAuthErrorCode::UnsupportedGrantType,
    OAuthErrorCode::InvalidScope,
    OAuthErrorCode::InvalidTarget,
    OAuthErrorCode::ServerError,
    OAuthErrorCode::TemporarilyUnavailable,
];

/// Every reason an introspected token is inactive (the audit trail's words).
const INACTIVE_REASONS: [InactiveReason; 12] = [
    InactiveReason::Invalid(VerifyError::Malformed),
    InactiveReason::Invalid(VerifyError::Algorithm),
    InactiveReason::Invalid(VerifyError::Type),
    InactiveReason::Invalid(VerifyError::UnknownKey),
    InactiveReason::Invalid(VerifyError::Signature),
    InactiveReason::Invalid(VerifyError::Issuer),
    InactiveReason::Invalid(VerifyError::Audience),
    InactiveReason::Invalid(VerifyError::Expired),
    InactiveReason::Invalid(VerifyError::IssuedInFuture),
    InactiveReason::Denied(Inactive::Revoked),
    InactiveReason::Denied(Inactive::Killed),
    InactiveReason::Denied(Inactive::GrantRevoked),
];

/// Warrant's metrics. Shared through `AppState`; the token service and the
/// audit writer record through it too.
pub struct Metrics {
    registry: Registry,
    issued: Family<Labels, Counter>,
    /// `issued_fixed[kind][method]`, indexed as `ISSUED_KINDS` × `AUTH_METHODS`.
    issued_fixed: Vec<Vec<Counter>>,
    refused: Family<Labels, Counter>,
    /// Indexed as `ERROR_CODES`.
    refused_fixed: Vec<Counter>,
    introspections: Family<Labels, Counter>,
    active: Counter,
    unavailable: Counter,
    /// Indexed as `INACTIVE_REASONS`.
    inactive_fixed: Vec<Counter>,
    kills: Counter,
    restores: Counter,
    revocations: Counter,
    audit_events: Histogram,
    audit_commit: Histogram,
    audit_failures: Counter,
    http: Arc<HttpMetrics>,
}

impl Metrics {
    /// Registers every metric; the denylist is read at each scrape, and
    /// the HTTP series are those of `routes` (templates as axum matches them).
    pub fn new(denylist: Arc<dyn Denylist>, routes: impl IntoIterator<Item = String>) -> Metrics {
        let mut registry = Registry::default();

        let issued = Family::<Labels, Counter>::default();
        registry.register(
            "warrant_tokens_issued",
            "Access tokens issued, by client kind and authentication method",
            issued.clone(),
        );
        let issued_fixed = ISSUED_KINDS
            .iter()
            .map(|kind| {
                AUTH_METHODS
                    .iter()
                    .map(|method| fixed(&issued, vec![("kind", kind.as_str()), ("method", method)]))
                    .collect()
            })
            .collect();

        let refused = Family::<Labels, Counter>::default();
        registry.register(
            "warrant_tokens_refused",
            "Token requests refused, by OAuth error code",
            refused.clone(),
        );
        let refused_fixed =
            ERROR_CODES.iter().map(|code| fixed(&refused, vec![("error", code.as_str())])).collect();

        let introspections = Family::<Labels, Counter>::default();
        registry.register(
            "warrant_introspections",
            "Introspection answers: active, inactive (with the reason) or unavailable (the denylist could not answer: 503)",
            introspections.clone(),
        );
        let active = fixed(&introspections, vec![("result", "active")]);
        let unavailable = fixed(&introspections, vec![("result", "unavailable")]);
        let inactive_fixed = INACTIVE_REASONS
            .iter()
            .map(|reason| fixed(&introspections, vec![("result", "inactive"), ("reason", reason.as_str())]))
            .collect();

        let kills = Counter::default();
        registry.register("warrant_kills", "Agents killed (a bulk kill counts each agent)", kills.clone());
        let restores = Counter::default();
        registry.register("warrant_restores", "Killed agents restored", restores.clone());
        let revocations = Counter::default();
        registry.register(
            "warrant_revocations",
            "Access tokens revoked by their client (RFC 7009)",
            revocations.clone(),
        );

        let audit_events = Histogram::counts(BATCH_BUCKETS);
        registry.register(
            "warrant_audit_batch_events",
            "Audit events per group commit",
            audit_events.clone(),
        );
        let audit_commit = Histogram::seconds(DURATION_BUCKETS);
        registry.register_with_unit(
            "warrant_audit_commit",
            "Time to write one audit batch, committed or not",
            Unit::Seconds,
            audit_commit.clone(),
        );
        let audit_failures = Counter::default();
        registry.register(
            "warrant_audit_batch_failures",
            "Audit batches that could not be written (their requests answered 500)",
            audit_failures.clone(),
        );

        registry.register_collector(Box::new(DenylistCollector(denylist)));
        let http = Arc::new(HttpMetrics::new(routes));
        registry.register_collector(Box::new(http.clone()));

        Metrics {
            registry,
            issued,
            issued_fixed,
            refused,
            refused_fixed,
            introspections,
            active,
            unavailable,
            inactive_fixed,
            kills,
            restores,
            revocations,
            audit_events,
            audit_commit,
            audit_failures,
            http,
        }
    }

    /// The exposition, in OpenMetrics text ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// The HTTP request durations.
    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// What an introspection decided: active, inactive for a reason, or
    /// unknown because the denylist could not answer (503).
    pub fn introspected(&self, answer: &Result<Introspection, DenylistError>) {
        match answer {
            Ok(Introspection::Active(_)) => {
                self.active.inc();
            }
            Ok(Introspection::Inactive { reason, .. }) => self.inactive(*reason),
            Err(_) => {
                self.unavailable.inc();
            }
        }
    }

    fn inactive(&self, reason: InactiveReason) {
        match INACTIVE_REASONS.iter().position(|r| *r == reason).and_then(|i| self.inactive_fixed.get(i)) {
            Some(counter) => counter.inc(),
            None => self
                .introspections
                .get_or_create(&vec![("result", "inactive"), ("reason", reason.as_str())])
                .inc(),
        };
    }

    /// `agents` agents were killed.
    pub fn killed(&self, agents: usize) {
        self.kills.inc_by(u64::try_from(agents).unwrap_or(u64::MAX));
    }

    /// A killed agent was restored.
    pub fn restored(&self) {
        self.restores.inc();
    }

    /// A client revoked one of its tokens.
    pub fn revoked(&self) {
        self.revocations.inc();
    }

    /// The audit writer tried to commit a batch.
    pub fn audit_batch(&self, batch: BatchWritten) {
        self.audit_events.observe_count(batch.events);
        self.audit_commit.observe_duration(batch.elapsed);
        if !batch.committed {
            self.audit_failures.inc();
        }
    }
}

impl TokenObserver for Metrics {
    fn issued(&self, client: &AuthenticatedClient) {
        let kind = ISSUED_KINDS.iter().position(|k| *k == client.kind);
        let method = AUTH_METHODS.iter().position(|m| *m == client.method);
        match kind.zip(method).and_then(|(k, m)| self.issued_fixed.get(k).and_then(|row| row.get(m))) {
            Some(counter) => counter.inc(),
            None => self
                .issued
                .get_or_create(&vec![("kind", client.kind.as_str()), ("method", client.method)])
                .inc(),
        };
    }

    fn refused(&self, error: &OAuthError) {
        match ERROR_CODES.iter().position(|c| *c == error.code).and_then(|i| self.refused_fixed.get(i)) {
            Some(counter) => counter.inc(),
            None => self.refused.get_or_create(&vec![("error", error.code.as_str())]).inc(),
        };
    }
}

/// The counter of `labels` in `family`, created now (so exposed at zero).
fn fixed(family: &Family<Labels, Counter>, labels: Labels) -> Counter {
    family.get_or_create(&labels).clone()
}

/// `warrant_denylist_following` and `warrant_denylist_entries{kind}`, read
/// from the denylist at each scrape.
struct DenylistCollector(Arc<dyn Denylist>);

impl std::fmt::Debug for DenylistCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DenylistCollector")
    }
}

impl Collector for DenylistCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let following = ConstGauge::new(i64::from(stats.following));
        following.encode(encoder.encode_descriptor(
            "warrant_denylist_following",
            "1 while denylist checks are answered from the in-memory copy (the Redis subscription is up and loaded; always in process), 0 while they read Redis directly",
            None,
            MetricType::Gauge,
        )?)?;
        let mut entries = encoder.encode_descriptor(
            "warrant_denylist_entries",
            "Entries in this instance's in-memory copy of the denylist: killed agents, revoked tokens (expired ones pruned now and then) and revoked grants",
            None,
            MetricType::Gauge,
        )?;
        for (kind, count) in [("kills", stats.kills), ("tokens", stats.tokens), ("grants", stats.grants)] {
            let gauge = ConstGauge::new(i64::try_from(count).unwrap_or(i64::MAX));
            gauge.encode(entries.encode_family(&[("kind", kind)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use warrant_policy::ClientId;
    use warrant_store::denylist::{DenylistStats, TokenFacts};

    struct Fixed(DenylistStats);

    #[async_trait::async_trait]
    impl Denylist for Fixed {
        async fn check(&self, _: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError> {
            Ok(None)
        }
        async fn kill(&self, _: &[String], _: warrant_policy::Timestamp) -> Result<(), DenylistError> {
            Ok(())
        }
        async fn revoke_token(
            &self,
            _: &str,
            _: warrant_policy::Timestamp,
            _: warrant_policy::Timestamp,
        ) -> Result<(), DenylistError> {
            Ok(())
        }
        async fn revoke_grant(
            &self,
            _: &str,
            _: &str,
            _: warrant_policy::Timestamp,
        ) -> Result<(), DenylistError> {
            Ok(())
        }
        async fn ping(&self) -> Result<(), DenylistError> {
            Ok(())
        }
        async fn announce_changes(&self, _: &[String]) -> Result<(), DenylistError> {
            Ok(())
        }
        fn watch_changes(&self, _: warrant_store::denylist::ChangeListener) {}
        fn change_epoch(&self) -> Option<u64> {
            Some(0)
        }
        fn stats(&self) -> DenylistStats {
            self.0
        }
    }

    fn metrics() -> Metrics {
        let stats = DenylistStats { following: true, kills: 2, tokens: 5, grants: 1 };
        Metrics::new(Arc::new(Fixed(stats)), ["/oauth2/token".to_owned()])
    }

    /// The value of the sample named exactly `series` (name and labels).
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    fn client(kind: ClientKind, method: &'static str) -> AuthenticatedClient {
        AuthenticatedClient {
            client_id: ClientId::parse("agt_1").unwrap(),
            kind,
            method,
            credential_id: "c".into(),
        }
    }

    #[test]
    fn every_usual_label_set_is_exposed_at_zero_before_any_traffic() {
        let text = metrics().encode().unwrap();
        for series in [
            r#"warrant_tokens_issued_total{kind="agent",method="private_key_jwt"}"#,
            r#"warrant_tokens_issued_total{kind="operator",method="client_secret_basic"}"#,
            r#"warrant_tokens_refused_total{error="invalid_client"}"#,
            r#"warrant_tokens_refused_total{error="server_error"}"#,
            r#"warrant_introspections_total{result="active"}"#,
            r#"warrant_introspections_total{result="unavailable"}"#,
            r#"warrant_introspections_total{result="inactive",reason="killed"}"#,
            r#"warrant_introspections_total{result="inactive",reason="signature"}"#,
            "warrant_kills_total",
            "warrant_restores_total",
            "warrant_revocations_total",
            "warrant_audit_batch_failures_total",
            "warrant_audit_batch_events_count",
            "warrant_audit_commit_seconds_count",
        ] {
            assert_eq!(value(&text, series), Some(0.0), "{series} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn recordings_land_in_their_series() {
        let m = metrics();
        m.issued(&client(ClientKind::Agent, "client_secret_basic"));
        m.issued(&client(ClientKind::Agent, "client_secret_basic"));
        m.issued(&client(ClientKind::Resource, "some_new_method"));
        m.refused(&OAuthError::invalid_scope("x"));
        let claims = warrant_introspection::AccessClaims {
            iss: "https://warrant.example".into(),
            sub: "agt_1".into(),
            aud: "https://crm.example".into(),
            client_id: "agt_1".into(),
            scope: warrant_policy::ScopeSet::parse("read").unwrap(),
            jti: "j1".into(),
            iat: 0,
            exp: 300,
        };
        let inactive = |reason| Ok(Introspection::Inactive { reason, agent_id: None });
        m.introspected(&Ok(Introspection::Active(claims)));
        m.introspected(&inactive(InactiveReason::Denied(Inactive::Killed)));
        m.introspected(&inactive(InactiveReason::Invalid(VerifyError::Expired)));
        m.introspected(&Err(DenylistError::Timeout));
        m.killed(3);
        m.restored();
        m.revoked();
        m.audit_batch(BatchWritten { events: 7, elapsed: Duration::from_millis(2), committed: true });
        m.audit_batch(BatchWritten { events: 1, elapsed: Duration::from_millis(1), committed: false });
        let text = m.encode().unwrap();
        for (series, expected) in [
            (r#"warrant_tokens_issued_total{kind="agent",method="client_secret_basic"}"#, 2.0),
            (r#"warrant_tokens_issued_total{kind="resource",method="some_new_method"}"#, 1.0),
            (r#"warrant_tokens_refused_total{error="invalid_scope"}"#, 1.0),
            (r#"warrant_introspections_total{result="active"}"#, 1.0),
            (r#"warrant_introspections_total{result="inactive",reason="killed"}"#, 1.0),
            (r#"warrant_introspections_total{result="inactive",reason="expired"}"#, 1.0),
            (r#"warrant_introspections_total{result="unavailable"}"#, 1.0),
            ("warrant_kills_total", 3.0),
            ("warrant_restores_total", 1.0),
            ("warrant_revocations_total", 1.0),
            ("warrant_audit_batch_events_count", 2.0),
            ("warrant_audit_batch_events_sum", 8.0),
            ("warrant_audit_commit_seconds_count", 2.0),
            ("warrant_audit_batch_failures_total", 1.0),
            ("warrant_denylist_following", 1.0),
            (r#"warrant_denylist_entries{kind="kills"}"#, 2.0),
            (r#"warrant_denylist_entries{kind="tokens"}"#, 5.0),
            (r#"warrant_denylist_entries{kind="grants"}"#, 1.0),
        ] {
            assert_eq!(value(&text, series), Some(expected), "{series} in\n{text}");
        }
    }

    #[test]
    fn the_fixed_label_lists_name_every_value_once() {
        // Fails to compile when a value is added: list it above too.
        for code in ERROR_CODES {
            match code {
                OAuthErrorCode::InvalidRequest
                | OAuthErrorCode::InvalidClient
                | OAuthErrorCode::InvalidGrant
                | OAuthErrorCode::UnauthorizedClient
                | OAuthErrorCode::UnsupportedGrantType
                | OAuthErrorCode::InvalidScope
                | OAuthErrorCode::InvalidTarget
                | OAuthErrorCode::ServerError
                | OAuthErrorCode::TemporarilyUnavailable => {}
            }
        }
        for reason in INACTIVE_REASONS {
            match reason {
                InactiveReason::Invalid(
                    VerifyError::Malformed
                    | VerifyError::Algorithm
                    | VerifyError::Type
                    | VerifyError::UnknownKey
                    | VerifyError::Signature
                    | VerifyError::Issuer
                    | VerifyError::Audience
                    | VerifyError::Expired
                    | VerifyError::IssuedInFuture,
                )
                | InactiveReason::Denied(Inactive::Revoked | Inactive::Killed | Inactive::GrantRevoked) => {}
            }
        }
        let codes: std::collections::BTreeSet<_> = ERROR_CODES.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), ERROR_CODES.len());
        let reasons: std::collections::BTreeSet<_> = INACTIVE_REASONS.iter().map(|r| r.as_str()).collect();
        assert_eq!(reasons.len(), INACTIVE_REASONS.len());
    }
}
