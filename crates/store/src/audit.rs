//! The audit trail: append-only events, each chained to the previous one by
//! a SHA-256 hash over its content and the previous hash, so that an edited,
//! removed or inserted event breaks the chain ([`verify_chain`]).
//!
//! Writers do not wait for a database round trip of their own: the
//! [`AuditWriter`] batches the events that arrive while a commit is under
//! way into the next one (group commit), and each caller waits for the
//! commit that carries its event. At shutdown, [`AuditWriter::flush`]
//! returns once every event queued before it is committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use warrant_policy::Timestamp;

use crate::Store;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most events written in one commit.
pub const MAX_BATCH: usize = 512;

/// The writer records the last use of an agent, a grant or a credential at
/// most once per this many seconds (each write dirties pages of its table).
pub const LAST_USE_RESOLUTION: i64 = 60;

/// An event to append; the store gives it its `seq` and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub at: Timestamp,
    /// Who acted: an operator id, a client id, or `system`.
    pub actor: String,
    /// What happened, e.g. `token.issued`, `agent.killed`.
    pub action: String,
    pub agent_id: Option<String>,
    /// The resource's audience, where one is concerned.
    pub resource: Option<String>,
    /// A JSON object with the particulars (never a secret or a token).
    pub detail: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub agent_id: Option<String>,
    pub resource: Option<String>,
    /// The detail exactly as hashed: JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Which events to read; every given field must match.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub agent_id: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only events after this `seq` (the paging cursor).
    pub after_seq: Option<i64>,
    pub limit: i64,
}

/// The hash of an event: SHA-256 (hex) over the JSON array of its fields
/// and the previous hash.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: Timestamp,
    actor: &str,
    action: &str,
    agent_id: Option<&str>,
    resource: Option<&str>,
    detail: &str,
) -> String {
    let canonical = serde_json::json!([prev_hash, seq, at.unix(), actor, action, agent_id, resource, detail]);
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.to_string().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit chain breaks at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks events read in `seq` order, continuing from `(prev_seq,
/// prev_hash)` (`(0, GENESIS_HASH)` at the start). Returns the last seq and
/// hash, to continue with the next page.
pub fn verify_chain(
    events: &[AuditEvent],
    prev_seq: i64,
    prev_hash: &str,
) -> Result<(i64, String), ChainBreak> {
    let (mut seq, mut hash) = (prev_seq, prev_hash.to_owned());
    for event in events {
        if event.seq != seq + 1 {
            return Err(ChainBreak {
                seq: seq + 1,
                reason: format!("missing (the next event is seq {})", event.seq),
            });
        }
        if event.prev_hash != hash {
            return Err(ChainBreak {
                seq: event.seq,
                reason: "prev_hash does not match the previous event".into(),
            });
        }
        let expected = chain_hash(
            &event.prev_hash,
            event.seq,
            event.at,
            &event.actor,
            &event.action,
            event.agent_id.as_deref(),
            event.resource.as_deref(),
            &event.detail,
        );
        if event.hash != expected {
            return Err(ChainBreak {
                seq: event.seq,
                reason: "the content does not match its hash (edited)".into(),
            });
        }
        seq = event.seq;
        hash = event.hash.clone();
    }
    Ok((seq, hash))
}

/// Walks the whole chain stored in `store`, page by page, and checks that
/// it ends at the recorded head (so that trailing deletions are caught).
/// The outer error is the store's; the inner one, the first broken link.
pub async fn verify_store(store: &dyn Store) -> Result<Result<(i64, String), ChainBreak>, crate::StoreError> {
    const PAGE: i64 = 1_000;
    let (mut seq, mut hash) = (0, GENESIS_HASH.to_owned());
    loop {
        let filter = AuditFilter { after_seq: Some(seq), limit: PAGE, ..AuditFilter::default() };
        let events = store.list_audit(&filter).await?;
        match verify_chain(&events, seq, &hash) {
            Ok(last) => (seq, hash) = last,
            Err(broken) => return Ok(Err(broken)),
        }
        if (events.len() as i64) < PAGE {
            break;
        }
    }
    let (head_seq, head_hash) = store.audit_head().await?;
    if head_seq != seq || head_hash != hash {
        return Ok(Err(ChainBreak {
            seq: seq + 1,
            reason: format!("missing: the chain head records seq {head_seq}, the table ends at {seq}"),
        }));
    }
    Ok(Ok((seq, hash)))
}

/// The last use that audit events record, latest first: per agent, its
/// last token (time, audience); per agent and audience, when its grants
/// there were drawn on; per credential, its last use.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LastUse<'a> {
    pub agents: HashMap<&'a str, (Timestamp, &'a str)>,
    pub grants: HashMap<(&'a str, &'a str), Timestamp>,
    pub credentials: HashMap<&'a str, Timestamp>,
}

impl<'a> LastUse<'a> {
    /// What the `token.issued` events among `events` tell.
    pub fn of(events: &'a [NewAuditEvent]) -> LastUse<'a> {
        let mut last = LastUse::default();
        for event in events.iter().filter(|e| e.action == "token.issued") {
            let at = event.at;
            if let (Some(agent_id), Some(resource)) = (&event.agent_id, &event.resource) {
                let agent = last.agents.entry(agent_id).or_insert((at, resource));
                if at >= agent.0 {
                    *agent = (at, resource);
                }
                let grant = last.grants.entry((agent_id, resource)).or_insert(at);
                *grant = (*grant).max(at);
            }
            if let Some(credential_id) = event.detail.get("credential_id").and_then(|v| v.as_str()) {
                let credential = last.credentials.entry(credential_id).or_insert(at);
                *credential = (*credential).max(at);
            }
        }
        last
    }
}

/// What the writer last recorded, so that it records each last use at most
/// once per [`LAST_USE_RESOLUTION`].
#[derive(Debug, Default)]
struct LastUseThrottle {
    agents: HashMap<String, Timestamp>,
    /// By agent, then audience: looked up without building a key.
    grants: HashMap<String, HashMap<String, Timestamp>>,
    credentials: HashMap<String, Timestamp>,
}

impl LastUseThrottle {
    /// Keeps the uses due for a write, and remembers them as written.
    fn due<'a>(&mut self, mut uses: LastUse<'a>) -> LastUse<'a> {
        fn due_in(written: &mut HashMap<String, Timestamp>, key: &str, at: Timestamp) -> bool {
            if written.get(key).is_some_and(|last| at.unix() < last.unix() + LAST_USE_RESOLUTION) {
                return false;
            }
            if written.len() >= 100_000 {
                written.retain(|_, last| at.unix() < last.unix() + LAST_USE_RESOLUTION);
            }
            written.insert(key.to_owned(), at);
            true
        }
        uses.agents.retain(|id, (at, _)| due_in(&mut self.agents, id, *at));
        uses.grants.retain(|(agent, audience), at| {
            if !self.grants.contains_key(*agent) {
                self.grants.insert((*agent).to_owned(), HashMap::new());
            }
            self.grants.get_mut(*agent).is_some_and(|written| due_in(written, audience, *at))
        });
        uses.credentials.retain(|id, at| due_in(&mut self.credentials, id, *at));
        uses
    }
}

/// Why an audit event could not be recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    #[error("the audit writer has stopped")]
    Closed,
    #[error("the audit trail could not be written: {0}")]
    Write(String),
}

struct Pending {
    /// `None` for a flush: answered once everything queued before it is written.
    event: Option<NewAuditEvent>,
    done: oneshot::Sender<Result<(), AuditError>>,
}

/// One batch the writer tried to commit: how many events, how long the
/// commit took, and whether it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchWritten {
    pub events: usize,
    pub elapsed: Duration,
    pub committed: bool,
}

/// Called by the writer task after each batch (metrics); it must not block.
pub type BatchObserver = Arc<dyn Fn(BatchWritten) + Send + Sync>;

/// Appends events with group commit. Cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

impl AuditWriter {
    /// Starts the writer task over `store`.
    pub fn spawn(store: Arc<dyn Store>) -> AuditWriter {
        AuditWriter::spawn_observed(store, Arc::new(|_| {}))
    }

    /// Starts the writer task over `store`, telling `observer` of each batch.
    pub fn spawn_observed(store: Arc<dyn Store>, observer: BatchObserver) -> AuditWriter {
        let (queue, pending) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(write_batches(store, pending, observer));
        AuditWriter { queue }
    }

    /// Queues `event` without waiting for its commit (for paths whose answer
    /// must not wait, such as introspection); a failed write is logged.
    pub async fn enqueue(&self, event: NewAuditEvent) -> Result<(), AuditError> {
        let (done, _) = oneshot::channel();
        self.queue.send(Pending { event: Some(event), done }).await.map_err(|_| AuditError::Closed)
    }

    /// Appends `event` and returns once the commit carrying it is done.
    pub async fn record(&self, event: NewAuditEvent) -> Result<(), AuditError> {
        let (done, committed) = oneshot::channel();
        self.queue.send(Pending { event: Some(event), done }).await.map_err(|_| AuditError::Closed)?;
        committed.await.map_err(|_| AuditError::Closed)?
    }

    /// Returns once every event queued before this call (recorded or
    /// enqueued, by any clone) is committed: what a server does before it
    /// exits. An error if one of those batches could not be written.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (done, flushed) = oneshot::channel();
        self.queue.send(Pending { event: None, done }).await.map_err(|_| AuditError::Closed)?;
        flushed.await.map_err(|_| AuditError::Closed)?
    }
}

async fn write_batches(store: Arc<dyn Store>, mut pending: mpsc::Receiver<Pending>, observer: BatchObserver) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The outcome of the batches since the last flush: a flush reports a
    // failure of any of them.
    let mut since_flush: Result<(), AuditError> = Ok(());
    let mut throttle = LastUseThrottle::default();
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let events: Vec<NewAuditEvent> = batch.iter().filter_map(|p| p.event.clone()).collect();
        if events.is_empty() {
            for p in batch.drain(..) {
                let _ = p.done.send(std::mem::replace(&mut since_flush, Ok(())));
            }
            continue;
        }
        let last_use = throttle.due(LastUse::of(&events));
        let started = Instant::now();
        let written = store.append_audit_with(&events, &last_use).await;
        let report =
            BatchWritten { events: events.len(), elapsed: started.elapsed(), committed: written.is_ok() };
        let result = match written {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::error!(%error, events = events.len(), "audit batch not written");
                Err(AuditError::Write(error.to_string()))
            }
        };
        tracing::debug!(events = events.len(), "audit batch committed");
        if since_flush.is_ok() {
            since_flush = result.clone();
        }
        for p in batch.drain(..) {
            let answer = match p.event {
                Some(_) => result.clone(),
                None => std::mem::replace(&mut since_flush, Ok(())),
            };
            let _ = p.done.send(answer);
        }
        observer(report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let detail = format!("{{\"n\":{seq}}}");
                let hash = chain_hash(&prev, seq, Timestamp(seq), "op", "x.y", Some("agt"), None, &detail);
                let event = AuditEvent {
                    seq,
                    at: Timestamp(seq),
                    actor: "op".into(),
                    action: "x.y".into(),
                    agent_id: Some("agt".into()),
                    resource: None,
                    detail,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                event
            })
            .collect()
    }

    fn issued(agent: &str, audience: &str, credential: &str, at: i64) -> NewAuditEvent {
        NewAuditEvent {
            at: Timestamp(at),
            actor: agent.into(),
            action: "token.issued".into(),
            agent_id: Some(agent.into()),
            resource: Some(audience.into()),
            detail: serde_json::json!({"credential_id": credential}),
        }
    }

    #[test]
    fn last_use_is_the_latest_of_a_batch_and_written_once_per_resolution() {
        let mut throttle = LastUseThrottle::default();
        let first = [issued("agt_1", "https://a", "cred_1", 100), issued("agt_1", "https://b", "cred_1", 90)];
        let uses = throttle.due(LastUse::of(&first));
        assert_eq!(uses.agents.get("agt_1"), Some(&(Timestamp(100), "https://a")));
        assert_eq!(uses.grants.len(), 2);
        assert_eq!(uses.credentials.get("cred_1"), Some(&Timestamp(100)));

        let soon = [issued("agt_1", "https://a", "cred_1", 100 + LAST_USE_RESOLUTION - 1)];
        assert_eq!(throttle.due(LastUse::of(&soon)), LastUse::default(), "within the resolution");

        let later = [issued("agt_1", "https://a", "cred_1", 100 + LAST_USE_RESOLUTION)];
        let uses = throttle.due(LastUse::of(&later));
        assert_eq!((uses.agents.len(), uses.grants.len(), uses.credentials.len()), (1, 1, 1));
        let other = [issued("agt_2", "https://a", "cred_2", 101)];
        assert_eq!(throttle.due(LastUse::of(&other)).agents.len(), 1, "another agent is written at once");
    }

    #[tokio::test]
    async fn flush_returns_once_every_queued_event_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(crate::SqliteStore::open(&dir.path().join("audit.db")).await.unwrap());
        let writer = AuditWriter::spawn(store.clone());
        let queued = 3 * MAX_BATCH as i64 + 7;
        for n in 0..queued {
            let event = NewAuditEvent {
                at: Timestamp(n),
                actor: "system".into(),
                action: "test.queued".into(),
                agent_id: None,
                resource: None,
                detail: serde_json::json!({ "n": n }),
            };
            writer.enqueue(event).await.unwrap();
        }
        writer.flush().await.unwrap();
        let (head, _) = store.audit_head().await.unwrap();
        assert_eq!(head, queued, "every event queued before the flush is committed");
        assert!(verify_store(&*store).await.unwrap().is_ok());
    }

    #[test]
    fn an_intact_chain_verifies_and_pages_continue() {
        let events = chain(5);
        let (seq, hash) = verify_chain(&events[..2], 0, GENESIS_HASH).unwrap();
        assert_eq!(verify_chain(&events[2..], seq, &hash).unwrap().0, 5);
    }

    #[test]
    fn an_edit_a_deletion_and_a_relinked_forgery_each_break_the_chain() {
        let mut edited = chain(4);
        edited[2].actor = "mallory".into();
        assert_eq!(verify_chain(&edited, 0, GENESIS_HASH).unwrap_err().seq, 3);

        let mut deleted = chain(4);
        deleted.remove(1);
        let err = verify_chain(&deleted, 0, GENESIS_HASH).unwrap_err();
        assert_eq!(err.seq, 2, "{err}");

        let mut forged = chain(4);
        forged[1].detail = "{}".into();
        forged[1].hash =
            chain_hash(&forged[1].prev_hash, 2, Timestamp(2), "op", "x.y", Some("agt"), None, "{}");
        assert_eq!(
            verify_chain(&forged, 0, GENESIS_HASH).unwrap_err().seq,
            3,
            "the next link no longer matches"
        );
    }
}
