//! Scopes (RFC 6749 §3.3): a `scope-token` is one or more of the printable
//! ASCII characters other than space, `"` and `\`; a scope is a set of them
//! written separated by single spaces.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ParseError;

/// Longest scope token accepted, to bound what a request can make us store.
pub const MAX_SCOPE_LEN: usize = 128;

/// One scope token, such as `tickets:read`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// Parses one scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
    pub fn parse(text: &str) -> Result<Scope, ParseError> {
        if text.is_empty() {
            return Err(ParseError::new("scope", "a scope token is empty"));
        }
        if text.len() > MAX_SCOPE_LEN {
            return Err(ParseError::new(
                "scope",
                format!("a scope token is longer than {MAX_SCOPE_LEN} characters"),
            ));
        }
        let allowed = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if !text.bytes().all(allowed) {
            return Err(ParseError::new("scope", format!("{text:?} is not a valid scope token")));
        }
        Ok(Scope(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A set of scopes, ordered so that its text form is canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses the space-delimited form used by the `scope` parameter and claim.
    /// An empty string, or two spaces in a row, is malformed.
    pub fn parse(text: &str) -> Result<ScopeSet, ParseError> {
        text.split(' ').map(Scope::parse).collect::<Result<BTreeSet<_>, _>>().map(ScopeSet)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both sets.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// The scopes of `self` missing from `other`.
    pub fn difference(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.difference(&other.0).cloned().collect())
    }

    /// Adds every scope of `other`.
    pub fn extend(&mut self, other: &ScopeSet) {
        self.0.extend(other.0.iter().cloned());
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().collect())
    }
}

/// The space-delimited form, in sorted order.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_string_parses_into_a_sorted_set() {
        let set = ScopeSet::parse("tickets:write tickets:read").unwrap();
        assert_eq!(set.to_string(), "tickets:read tickets:write");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn malformed_scope_strings_are_refused() {
        for bad in ["", " ", "a  b", "a ", " a", "quote\"d", "back\\slash", "tab\tx", "é"] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Scope::parse(&"x".repeat(MAX_SCOPE_LEN + 1)).is_err());
    }

    #[test]
    fn every_allowed_character_is_accepted() {
        let all: String = (0x21u8..=0x7E).filter(|b| *b != b'"' && *b != b'\\').map(char::from).collect();
        assert!(Scope::parse(&all).is_ok());
    }
}
