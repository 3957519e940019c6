//! Operator roles and what each may do (DESIGN.md, "Admin API v1").

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::string_enum;
use crate::error::ParseError;
use crate::scope::{Scope, ScopeSet};

string_enum!(
    /// An operator role. An operator may hold several.
    Role, "roles" {
        Viewer => "viewer",
        Requester => "requester",
        Approver => "approver",
        Responder => "responder",
        Admin => "admin",
    }
);

/// Something an admin API route does, checked against the caller's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the inventory, reports and audit trail.
    Read,
    /// Register and edit agents, rotate their credentials, request grants.
    ManageAgents,
    /// Approve or deny grants (never one's own request).
    DecideGrants,
    /// Revoke approved grants.
    RevokeGrants,
    /// Kill, restore, suspend, resume.
    Respond,
    /// Register resources and operators.
    Administer,
}

impl Role {
    /// Whether this role alone allows `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::Viewer => matches!(permission, P::Read),
            Role::Requester => matches!(permission, P::Read | P::ManageAgents),
            Role::Approver => matches!(permission, P::Read | P::DecideGrants | P::RevokeGrants),
            Role::Responder => matches!(permission, P::Read | P::RevokeGrants | P::Respond),
        }
    }
}

/// A non-empty set of roles. In an admin token they are its scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Role>", into = "Vec<Role>")]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Roles, ParseError> {
        let set: BTreeSet<Role> = roles.into_iter().collect();
        if set.is_empty() {
            return Err(ParseError::new("roles", "at least one role is required"));
        }
        Ok(Roles(set))
    }

    /// Parses the space-delimited form (the `scope` of an admin token).
    pub fn parse(text: &str) -> Result<Roles, ParseError> {
        Roles::new(text.split(' ').map(Role::parse).collect::<Result<Vec<_>, _>>()?)
    }

    /// Whether any held role allows `permission`.
    pub fn allow(&self, permission: Permission) -> bool {
        self.0.iter().any(|role| role.allows(permission))
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// The roles as scopes, for the admin token.
    pub fn to_scopes(&self) -> ScopeSet {
        self.0.iter().filter_map(|r| Scope::parse(r.as_str()).ok()).collect()
    }
}

impl TryFrom<Vec<Role>> for Roles {
    type Error = ParseError;
    fn try_from(roles: Vec<Role>) -> Result<Self, Self::Error> {
        Roles::new(roles)
    }
}

impl From<Roles> for Vec<Role> {
    fn from(roles: Roles) -> Self {
        roles.0.into_iter().collect()
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|r| r.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    #[test]
    fn the_role_table_of_the_design_holds() {
        let table: &[(Role, &[Permission])] = &[
            (Role::Viewer, &[P::Read]),
            (Role::Requester, &[P::Read, P::ManageAgents]),
            (Role::Approver, &[P::Read, P::DecideGrants, P::RevokeGrants]),
            (Role::Responder, &[P::Read, P::RevokeGrants, P::Respond]),
            (
                Role::Admin,
                &[P::Read, P::ManageAgents, P::DecideGrants, P::RevokeGrants, P::Respond, P::Administer],
            ),
        ];
        let all = [P::Read, P::ManageAgents, P::DecideGrants, P::RevokeGrants, P::Respond, P::Administer];
        for (role, allowed) in table {
            for permission in all {
                assert_eq!(role.allows(permission), allowed.contains(&permission), "{role} {permission:?}");
            }
        }
    }

    #[test]
    fn several_roles_add_up_and_none_is_refused() {
        let roles = Roles::parse("viewer requester").unwrap();
        assert!(roles.allow(P::ManageAgents));
        assert!(!roles.allow(P::DecideGrants));
        assert!(Roles::new([]).is_err());
        assert!(Roles::parse("root").is_err());
        assert_eq!(roles.to_string(), "viewer requester");
    }
}
