//! The records Warrant keeps: agents, protected resources with their scope
//! catalogue, operators, and client credentials. Plain data; the store
//! persists them and the admin API shows them.

use serde::Serialize;

use crate::clock::Timestamp;
use crate::id::{Audience, ClientId};
use crate::role::Roles;
use crate::scope::Scope;

/// Declares a closed set of string values with one parsing constructor, the
/// inverse `as_str`, and serde in that string form.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire form; anything else is an error naming the allowed values.
            pub fn parse(text: &str) -> Result<$name, $crate::error::ParseError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::ParseError::new(
                        $field,
                        format!("{text:?} is not one of {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where an agent runs.
    Platform, "platform" {
        Dynamics365 => "dynamics365",
        Agentforce => "agentforce",
        Sap => "sap",
        Ccaas => "ccaas",
        Internal => "internal",
        Other => "other",
    }
);

string_enum!(
    /// On whose behalf an agent acts.
    ActsOnBehalfOf, "acts_on_behalf_of" {
        Nobody => "none",
        Customer => "customer",
        Employee => "employee",
    }
);

string_enum!(
    /// Whether an agent may get tokens: only `active` ones may.
    AgentStatus, "status" {
        Active => "active",
        Suspended => "suspended",
        Killed => "killed",
    }
);

string_enum!(
    /// What kind of system a protected resource is.
    ResourceKind, "kind" {
        Crm => "crm",
        Cdp => "cdp",
        Ticketing => "ticketing",
        Telephony => "telephony",
        Knowledge => "knowledge",
        Payments => "payments",
        Other => "other",
    }
);

string_enum!(
    /// How sensitive the data behind a scope is.
    DataClass, "data_class" {
        Public => "public",
        Internal => "internal",
        Pii => "pii",
        Payment => "payment",
        Credentials => "credentials",
    }
);

string_enum!(
    /// Who a `client_id` belongs to.
    ClientKind, "client_kind" {
        Agent => "agent",
        Operator => "operator",
        Resource => "resource",
    }
);

string_enum!(
    /// How a client authenticates at the token endpoint.
    CredentialMethod, "method" {
        ClientSecret => "client_secret",
        PrivateKeyJwt => "private_key_jwt",
    }
);

/// A registered AI agent: the inventory record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub id: String,
    pub client_id: ClientId,
    pub name: String,
    pub platform: Platform,
    pub vendor: String,
    pub owner: String,
    pub purpose: String,
    pub environment: String,
    pub acts_on_behalf_of: ActsOnBehalfOf,
    pub tags: Vec<String>,
    pub status: AgentStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    /// The last token issued to the agent.
    pub last_token: Option<LastToken>,
}

/// When an agent last got a token, and for which resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastToken {
    pub at: Timestamp,
    pub resource: String,
}

/// One scope of a resource's catalogue and the class of data it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScopeDefinition {
    pub name: Scope,
    #[serde(default)]
    pub description: String,
    pub data_class: DataClass,
}

/// A protected system (CRM, ticketing, ...) that agents get tokens for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub id: String,
    pub client_id: ClientId,
    pub name: String,
    pub kind: ResourceKind,
    pub audience: Audience,
    pub scopes: Vec<ScopeDefinition>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A person (or their automation) using the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: String,
    pub client_id: ClientId,
    pub name: String,
    pub email: String,
    pub roles: Roles,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A credential a client authenticates with. The secret itself is never
/// kept: only its keyed hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub client_id: ClientId,
    pub client_kind: ClientKind,
    pub method: CredentialMethod,
    /// HMAC-SHA-256 of the secret under the server pepper (client_secret only).
    pub secret_hash: Option<Vec<u8>>,
    /// The client's public JWK Set as JSON (private_key_jwt only).
    pub jwks: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub retired_at: Option<Timestamp>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("client_kind", &self.client_kind)
            .field("method", &self.method)
            .field("secret_hash", &self.secret_hash.as_ref().map(|_| "<redacted>"))
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_enum_round_trips_its_wire_form() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()), Ok(*p));
        }
        for d in DataClass::ALL {
            assert_eq!(DataClass::parse(d.as_str()), Ok(*d));
        }
        assert_eq!(ActsOnBehalfOf::parse("none"), Ok(ActsOnBehalfOf::Nobody));
    }

    #[test]
    fn an_unknown_value_names_the_allowed_ones() {
        let err = Platform::parse("watson").unwrap_err();
        assert_eq!(err.field, "platform");
        assert!(err.reason.contains("agentforce"), "{}", err.reason);
    }
}
