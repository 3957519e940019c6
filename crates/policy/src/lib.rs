//! Warrant's pure decisions: the domain types, which scopes a token may carry,
//! how long it may live, how a grant moves between states, and which operator
//! role may do what.
//!
//! Nothing here performs IO, awaits, or knows about HTTP: the store persists
//! these types, the issuer and the admin API call these functions, and the
//! tests exercise every rule directly.

pub mod clock;
pub mod decision;
pub mod domain;
pub mod error;
pub mod grant;
pub mod id;
pub mod role;
pub mod scope;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use decision::{decide_token, HeldGrant, TokenDecision, ADMIN_AUDIENCE};
pub use domain::{
    ActsOnBehalfOf, Agent, AgentStatus, ClientKind, Credential, CredentialMethod, DataClass, LastToken,
    Operator, Platform, Resource, ResourceKind, ScopeDefinition,
};
pub use error::{OAuthError, OAuthErrorCode, ParseError};
pub use grant::{approvals_required, Approval, Grant, GrantAction, GrantStatus, TransitionError};
pub use id::{Audience, ClientId};
pub use role::{Permission, Role, Roles};
pub use scope::{Scope, ScopeSet};
