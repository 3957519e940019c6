//! Identifier newtypes that cross the wire: the OAuth `client_id` and the
//! resource audience (RFC 8707 `resource`, the `aud` claim).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ParseError;

/// Longest identifier or audience accepted.
pub const MAX_ID_LEN: usize = 255;

/// An OAuth `client_id`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(text: &str) -> Result<ClientId, ParseError> {
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(ParseError::new("client_id", format!("must be 1 to {MAX_ID_LEN} characters")));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ParseError::new("client_id", "must be visible ASCII characters"));
        }
        Ok(ClientId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ClientId::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A protected resource's audience: an absolute URI (RFC 8707 §2), such as
/// `https://crm.example.com` or `urn:example:ticketing`, without a fragment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Audience(String);

impl Audience {
    pub fn parse(text: &str) -> Result<Audience, ParseError> {
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(ParseError::new("audience", format!("must be 1 to {MAX_ID_LEN} characters")));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ParseError::new("audience", "must be an absolute URI without spaces"));
        }
        let scheme_ok = text.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !scheme_ok {
            return Err(ParseError::new("audience", "must be an absolute URI (with a scheme)"));
        }
        if text.contains('#') {
            return Err(ParseError::new("audience", "must not contain a fragment"));
        }
        Ok(Audience(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Audience::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_must_be_absolute_uris() {
        for good in ["https://crm.example.com", "urn:example:ticketing", "https://x.example/api?v=1"] {
            assert!(Audience::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "crm", "/relative", "https://x.example/#frag", "has space:x", "1http://x", "https:"] {
            assert!(Audience::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_are_visible_ascii() {
        assert!(ClientId::parse("agt_123").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"a".repeat(MAX_ID_LEN + 1)).is_err());
    }
}
