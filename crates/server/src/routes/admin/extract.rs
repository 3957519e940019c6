//! Extractors of the admin API: the authorized caller, and a JSON body whose
//! rejections come out in the admin error shape.

use std::marker::PhantomData;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;
use warrant_policy::{Permission, Roles, Timestamp, ADMIN_AUDIENCE};
use warrant_store::denylist::TokenFacts;

use crate::error::AdminError;
use crate::state::AppState;

/// A permission a route requires, as a type.
pub trait Requirement: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! requirement {
    ($($name:ident),+) => {$(
        #[doc = concat!("Requires `Permission::", stringify!($name), "`.")]
        pub struct $name;
        impl Requirement for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )+};
}
requirement!(Read, ManageAgents, DecideGrants, RevokeGrants, Respond, Administer);

/// An operator whose admin token verified and whose roles allow `P`.
pub struct Authorized<P> {
    /// The operator's id (the token's `sub`), recorded as the actor.
    pub operator_id: String,
    _requirement: PhantomData<P>,
}

impl<P: Requirement> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| AdminError::Unauthorized("a bearer admin token is required".into()))?;
        let now = state.tokens.clock.now();
        let claims = state
            .verifier
            .verify(token, ADMIN_AUDIENCE, now)
            .map_err(|e| AdminError::Unauthorized(e.to_string()))?;
        // An admin token revoked by its operator (RFC 7009) is dead here too.
        let facts = TokenFacts {
            jti: &claims.jti,
            agent_id: &claims.sub,
            audience: &claims.aud,
            issued_at: Timestamp(claims.iat),
        };
        if let Some(reason) = state.denylist.check(&facts).await.map_err(AdminError::Unavailable)? {
            return Err(AdminError::Unauthorized(format!(
                "the token is no longer valid ({})",
                reason.as_str()
            )));
        }
        let roles = Roles::parse(&claims.scope.to_string())
            .map_err(|_| AdminError::Unauthorized("the token carries no operator role".into()))?;
        if !roles.allow(P::PERMISSION) {
            return Err(AdminError::Forbidden(format!("the roles {roles} do not allow {:?}", P::PERMISSION)));
        }
        Ok(Authorized { operator_id: claims.sub, _requirement: PhantomData })
    }
}

/// A JSON body; bad JSON, a wrong content type or an oversized body answer
/// in the admin error shape.
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(AdminJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    AdminError::UnsupportedMediaType("the body must be application/json".into())
                }
                JsonRejection::JsonDataError(e) => AdminError::InvalidRequest(e.body_text()),
                JsonRejection::JsonSyntaxError(e) => AdminError::InvalidRequest(e.body_text()),
                JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    AdminError::PayloadTooLarge(format!(
                        "the body is larger than {} bytes",
                        super::ADMIN_BODY_LIMIT
                    ))
                }
                other => AdminError::InvalidRequest(other.body_text()),
            }),
        }
    }
}
