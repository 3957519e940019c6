//! A grant is an agent's approved access to some scopes of one resource.
//! Its life is a small state machine:
//!
//! ```text
//! requested ──approve──▶ approved ──revoke──▶ revoked
//!     │   │                  │
//!     │   └──deny──▶ denied  └──(expires_at passes)──▶ expired
//!     └──(expires_at passes)──▶ expired
//! ```
//!
//! Separation of duties: whoever requested a grant can neither approve nor
//! deny it.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::domain::{string_enum, DataClass};
use crate::id::Audience;
use crate::scope::ScopeSet;

string_enum!(
    /// Where a grant stands. `expired` is never stored: it is a requested
    /// or approved grant whose `expires_at` has passed (see
    /// [`Grant::status_at`]); it is final.
    GrantStatus, "status" {
        Requested => "requested",
        Approved => "approved",
        Denied => "denied",
        Revoked => "revoked",
        Expired => "expired",
    }
);

/// What an operator does to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantAction {
    Approve,
    Deny,
    Revoke,
}

impl GrantAction {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantAction::Approve => "approve",
            GrantAction::Deny => "deny",
            GrantAction::Revoke => "revoke",
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            GrantAction::Approve => "approved",
            GrantAction::Deny => "denied",
            GrantAction::Revoke => "revoked",
        }
    }
}

/// One approval of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
}

/// How many distinct approvers a grant needs: two when any of its scopes
/// reaches `payment` or `credentials` data, one otherwise.
pub fn approvals_required(classes: impl IntoIterator<Item = DataClass>) -> u8 {
    if classes.into_iter().any(|c| matches!(c, DataClass::Payment | DataClass::Credentials)) {
        2
    } else {
        1
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a grant that is {from} cannot be {}", .action.past_tense())]
    WrongState { from: GrantStatus, action: GrantAction },
    #[error("an operator cannot approve or deny its own request")]
    OwnRequest,
    #[error("this operator has already approved the grant; another approver is needed")]
    AlreadyApproved,
}

/// A request for, or an approval of, scopes on one resource for one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub id: String,
    pub agent_id: String,
    pub resource_id: String,
    /// The resource's audience, shown as `resource` on the wire.
    #[serde(rename = "resource")]
    pub audience: Audience,
    pub scopes: ScopeSet,
    pub justification: String,
    pub status: GrantStatus,
    pub requested_by: String,
    pub requested_at: Timestamp,
    /// Approvals recorded so far (two-person approval collects two).
    pub approvals: Vec<Approval>,
    pub approvals_required: u8,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub denied_by: Option<String>,
    pub denied_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// Upper bound on the lifetime of a token this grant contributes to.
    pub max_token_ttl: Option<i64>,
    /// When a token drawing on this grant was last issued.
    pub last_used_at: Option<Timestamp>,
}

impl Grant {
    /// The status as of `now`: a requested or approved grant past its
    /// expiry is `expired`.
    pub fn status_at(&self, now: Timestamp) -> GrantStatus {
        match self.status {
            GrantStatus::Requested | GrantStatus::Approved if self.expires_at <= now => GrantStatus::Expired,
            other => other,
        }
    }

    /// The grant after `actor` performs `action` at `now`, or why not.
    /// The stored status must still be the one read when the result is
    /// written (compare-and-set), so that two racing decisions cannot both win.
    pub fn apply(&self, action: GrantAction, actor: &str, now: Timestamp) -> Result<Grant, TransitionError> {
        let from = self.status_at(now);
        let mut next = self.clone();
        match (action, from) {
            (GrantAction::Approve | GrantAction::Deny, GrantStatus::Requested) => {
                if actor == self.requested_by {
                    return Err(TransitionError::OwnRequest);
                }
                if action == GrantAction::Approve {
                    if self.approvals.iter().any(|a| a.by == actor) {
                        return Err(TransitionError::AlreadyApproved);
                    }
                    next.approvals.push(Approval { by: actor.to_owned(), at: now });
                    if next.approvals.len() >= usize::from(self.approvals_required.max(1)) {
                        next.status = GrantStatus::Approved;
                        next.approved_by = Some(actor.to_owned());
                        next.approved_at = Some(now);
                    }
                } else {
                    next.status = GrantStatus::Denied;
                    next.denied_by = Some(actor.to_owned());
                    next.denied_at = Some(now);
                }
            }
            (GrantAction::Revoke, GrantStatus::Approved) => {
                next.status = GrantStatus::Revoked;
                next.revoked_by = Some(actor.to_owned());
                next.revoked_at = Some(now);
            }
            (GrantAction::Approve | GrantAction::Deny | GrantAction::Revoke, _) => {
                return Err(TransitionError::WrongState { from, action });
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn requested(now: Timestamp) -> Grant {
        Grant {
            id: "grt_1".into(),
            agent_id: "agt_1".into(),
            resource_id: "res_1".into(),
            audience: Audience::parse("https://crm.example.com").unwrap(),
            scopes: ScopeSet::parse("contacts:read").unwrap(),
            justification: "answer billing questions".into(),
            status: GrantStatus::Requested,
            requested_by: "alice".into(),
            requested_at: now,
            approvals: vec![],
            approvals_required: 1,
            approved_by: None,
            approved_at: None,
            denied_by: None,
            denied_at: None,
            revoked_by: None,
            revoked_at: None,
            expires_at: now.plus(86_400),
            max_token_ttl: None,
            last_used_at: None,
        }
    }

    #[test]
    fn payment_or_credentials_data_needs_two_approvers() {
        use DataClass as D;
        assert_eq!(approvals_required([D::Public, D::Pii, D::Internal]), 1);
        assert_eq!(approvals_required([D::Pii, D::Payment]), 2);
        assert_eq!(approvals_required([D::Credentials]), 2);
        assert_eq!(approvals_required([]), 1);
    }

    #[test]
    fn a_two_person_grant_is_approved_by_the_second_distinct_approver() {
        let now = Timestamp(1_000);
        let g = Grant { approvals_required: 2, ..requested(now) };
        let once = g.apply(GrantAction::Approve, "bob", now).unwrap();
        assert_eq!(
            (once.status, once.approvals.len(), once.approved_by.as_deref()),
            (GrantStatus::Requested, 1, None)
        );
        assert_eq!(once.apply(GrantAction::Approve, "bob", now), Err(TransitionError::AlreadyApproved));
        assert_eq!(once.apply(GrantAction::Approve, "alice", now), Err(TransitionError::OwnRequest));
        let twice = once.apply(GrantAction::Approve, "carol", now.plus(1)).unwrap();
        assert_eq!(twice.status, GrantStatus::Approved);
        assert_eq!(twice.approved_by.as_deref(), Some("carol"));
        assert_eq!(twice.approvals.iter().map(|a| a.by.as_str()).collect::<Vec<_>>(), ["bob", "carol"]);
        assert_eq!(once.apply(GrantAction::Deny, "dave", now).unwrap().status, GrantStatus::Denied);
    }

    #[test]
    fn another_operator_approves_and_is_recorded() {
        let now = Timestamp(1_000);
        let approved = requested(now).apply(GrantAction::Approve, "bob", now.plus(5)).unwrap();
        assert_eq!(approved.status, GrantStatus::Approved);
        assert_eq!(approved.approved_by.as_deref(), Some("bob"));
        assert_eq!(approved.approved_at, Some(now.plus(5)));
    }

    #[test]
    fn the_requester_can_neither_approve_nor_deny() {
        let now = Timestamp(1_000);
        for action in [GrantAction::Approve, GrantAction::Deny] {
            assert_eq!(requested(now).apply(action, "alice", now), Err(TransitionError::OwnRequest));
        }
    }

    #[test]
    fn only_the_allowed_edges_exist() {
        let now = Timestamp(1_000);
        let g = requested(now);
        let approved = g.apply(GrantAction::Approve, "bob", now).unwrap();
        let denied = g.apply(GrantAction::Deny, "bob", now).unwrap();
        let revoked = approved.apply(GrantAction::Revoke, "carol", now).unwrap();
        assert_eq!(denied.status, GrantStatus::Denied);
        assert_eq!(revoked.status, GrantStatus::Revoked);
        assert_eq!(revoked.revoked_by.as_deref(), Some("carol"));
        let refused = [
            (&g, GrantAction::Revoke),
            (&approved, GrantAction::Approve),
            (&approved, GrantAction::Deny),
            (&denied, GrantAction::Approve),
            (&denied, GrantAction::Revoke),
            (&revoked, GrantAction::Approve),
            (&revoked, GrantAction::Revoke),
        ];
        for (grant, action) in refused {
            assert!(
                matches!(grant.apply(action, "dave", now), Err(TransitionError::WrongState { .. })),
                "{:?} {action:?}",
                grant.status
            );
        }
    }

    #[test]
    fn a_grant_past_its_expiry_is_expired_and_final() {
        let now = Timestamp(1_000);
        let pending = requested(now);
        let approved = pending.apply(GrantAction::Approve, "bob", now).unwrap();
        let later = approved.expires_at;
        assert_eq!(approved.status_at(later), GrantStatus::Expired);
        assert_eq!(approved.status_at(later.plus(-1)), GrantStatus::Approved);
        assert_eq!(pending.status_at(later), GrantStatus::Expired);
        for (grant, action) in [
            (&approved, GrantAction::Revoke),
            (&pending, GrantAction::Approve),
            (&pending, GrantAction::Deny),
        ] {
            let refused = grant.apply(action, "carol", later);
            assert_eq!(
                refused,
                Err(TransitionError::WrongState { from: GrantStatus::Expired, action }),
                "{action:?}"
            );
        }
    }

    #[test]
    fn a_refusal_says_what_was_tried() {
        let now = Timestamp(1_000);
        let denied = requested(now).apply(GrantAction::Deny, "bob", now).unwrap();
        let err = denied.apply(GrantAction::Approve, "bob", now).unwrap_err();
        assert_eq!(err.to_string(), "a grant that is denied cannot be approved");
    }

    proptest! {
        /// Whatever sequence of actions and actors, a grant only ever moves
        /// along the diagram, and an approved grant's approver is never its
        /// requester.
        #[test]
        fn random_action_sequences_respect_the_state_machine(
            steps in proptest::collection::vec((0..3u8, 0..4u8), 0..12),
            required in 1..=2u8,
        ) {
            let actors = ["alice", "bob", "carol", "dave"];
            let now = Timestamp(1_000);
            let mut grant = Grant { approvals_required: required, ..requested(now) };
            for (a, who) in steps {
                let action = [GrantAction::Approve, GrantAction::Deny, GrantAction::Revoke][a as usize];
                let before = grant.status;
                if let Ok(next) = grant.apply(action, actors[who as usize], now) {
                    let edge = (before, next.status);
                    prop_assert!(matches!(edge,
                        (GrantStatus::Requested, GrantStatus::Requested)
                        | (GrantStatus::Requested, GrantStatus::Approved)
                        | (GrantStatus::Requested, GrantStatus::Denied)
                        | (GrantStatus::Approved, GrantStatus::Revoked)), "{edge:?}");
                    grant = next;
                }
                prop_assert!(grant.approvals.iter().all(|a| a.by != "alice"), "the requester never approves");
                let mut approvers: Vec<&str> = grant.approvals.iter().map(|a| a.by.as_str()).collect();
                approvers.dedup();
                prop_assert_eq!(approvers.len(), grant.approvals.len(), "approvers are distinct");
                if grant.status == GrantStatus::Approved {
                    prop_assert!(grant.approvals.len() >= usize::from(grant.approvals_required));
                }
            }
        }
    }
}
