//! The forms the OAuth endpoints read and the JSON they answer with
//! (RFC 6749, 7662, 7009, 7517, 8414). The issuer parses the forms by hand
//! and the handlers write the answers with `serde_json`, so these types are
//! never built: they only describe the wire.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use warrant_issuer::ASSERTION_ALGORITHMS;
use warrant_policy::OAuthErrorCode;

use super::values::Audience;

/// The `error` codes the OAuth endpoints answer with, as the policy spells them.
const OAUTH_ERROR_CODES: [OAuthErrorCode; 8] = [
    OAuthErrorCode::InvalidRequest,
    OAuthErrorCode::InvalidClient,
    OAuthErrorCode::InvalidGrant,
    OAuthErrorCode::UnauthorizedClient,
    OAuthErrorCode::UnsupportedGrantType,
    OAuthErrorCode::InvalidScope,
    OAuthErrorCode::InvalidTarget,
    OAuthErrorCode::ServerError,
];

/// The `error` member of an OAuth error: RFC 6749 §5.2's codes,
/// `invalid_target` (RFC 8707 §2), `server_error`, and
/// `temporarily_unavailable` (introspection and revocation when the
/// denylist cannot answer).
pub struct OAuthErrorCodeSchema;

impl PartialSchema for OAuthErrorCodeSchema {
    fn schema() -> RefOr<Schema> {
        let codes = OAUTH_ERROR_CODES.iter().map(|c| c.as_str()).chain(["temporarily_unavailable"]);
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)).into()
    }
}

impl ToSchema for OAuthErrorCodeSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "OAuthErrorCode".into()
    }
}

/// An OAuth error (RFC 6749 §5.2), with `Cache-Control: no-store`.
#[derive(ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorBody {
    pub error: OAuthErrorCodeSchema,
    /// Human-readable; never holds a secret or a token.
    pub error_description: String,
}

/// Client authentication in the form body, for clients that do not use
/// HTTP Basic (`client_secret_basic`): `client_id` with `client_secret`
/// (`client_secret_post`), or a JWT client assertion (`private_key_jwt`,
/// RFC 7523 §2.2). Sending two methods at once is `invalid_request`.
#[derive(ToSchema)]
pub struct ClientAuthentication {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Sent together with `client_assertion`.
    #[serde(default)]
    #[schema(inline)]
    pub client_assertion_type: JwtBearer,
    /// A JWT signed with a key of the client's registered JWK Set:
    /// `iss` = `sub` = its client_id, `aud` = the token endpoint, `exp` at
    /// most an hour ahead, a `jti` never used before.
    #[serde(default)]
    pub client_assertion: String,
}

/// The only client assertion type accepted.
#[derive(ToSchema)]
pub enum JwtBearer {
    #[schema(rename = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    JwtBearer,
}

/// The only grant type served.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
}

/// A token request (RFC 6749 §4.4.2, RFC 8707 §2). Each parameter at most
/// once.
#[derive(ToSchema)]
pub struct TokenRequest {
    #[schema(inline)]
    pub grant_type: GrantType,
    /// Space-separated scopes; all must be approved and unexpired on the
    /// resource, or the answer is `invalid_scope`. Without it, every such
    /// scope.
    #[serde(default)]
    pub scope: String,
    /// The audience of the resource the token is for. It may be omitted
    /// only when the client's live grants are on one resource.
    #[serde(default)]
    #[schema(value_type = Audience)]
    pub resource: String,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// A successful token answer (RFC 6749 §5.1), with `Cache-Control: no-store`.
#[derive(ToSchema)]
pub struct TokenResponse {
    /// A JWT access token (RFC 9068, `typ: at+jwt`, ES256).
    pub access_token: String,
    #[schema(inline)]
    pub token_type: BearerType,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The scopes the token carries, space-separated.
    pub scope: String,
}

/// The token type.
#[derive(ToSchema)]
pub enum BearerType {
    Bearer,
}

/// An introspection request (RFC 7662 §2.1) from a registered resource
/// server, which authenticates as a client.
#[derive(ToSchema)]
pub struct IntrospectionRequest {
    /// The access token to check.
    pub token: String,
    /// Accepted and ignored: Warrant issues access tokens only.
    #[serde(default)]
    pub token_type_hint: String,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// An introspection answer (RFC 7662 §2.2). `{"active": false}` for any
/// token that is not active for the calling resource server (including a
/// token for another audience), with no other member.
#[derive(ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// Space-separated scopes (active tokens only; so are the members below).
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub client_id: String,
    /// The agent (or operator) id.
    #[serde(default)]
    pub sub: String,
    /// The calling resource server's audience.
    #[serde(default)]
    pub aud: String,
    #[serde(default)]
    pub iss: String,
    /// Expiry, seconds since the Unix epoch.
    #[serde(default)]
    pub exp: i64,
    /// Issue time, seconds since the Unix epoch.
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub jti: String,
    #[serde(default)]
    #[schema(inline)]
    pub token_type: BearerType,
}

/// A revocation request (RFC 7009 §2.1): a client revokes one of its own
/// access tokens.
#[derive(ToSchema)]
pub struct RevocationRequest {
    /// The access token to revoke.
    pub token: String,
    /// Accepted and ignored: Warrant issues access tokens only.
    #[serde(default)]
    pub token_type_hint: String,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// A public signing key (RFC 7517 §4): an EC P-256 key for ES256.
#[derive(ToSchema)]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    pub x: String,
    pub y: String,
    /// The key's RFC 7638 thumbprint; the `kid` of the tokens it signs.
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

/// The public signing keys (RFC 7517 §5).
#[derive(ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The client authentication methods an endpoint accepts.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

/// The algorithms accepted for `private_key_jwt` client assertions.
pub struct AssertionAlgorithm;

impl PartialSchema for AssertionAlgorithm {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ASSERTION_ALGORITHMS.iter().copied()))
            .into()
    }
}

impl ToSchema for AssertionAlgorithm {}

/// Authorization-server metadata (RFC 8414 §2); the URLs are built from the
/// issuer (`WARRANT_ISSUER`).
#[derive(ToSchema)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    /// `["client_credentials"]`.
    pub grant_types_supported: Vec<GrantType>,
    /// `[]`: there is no authorization endpoint.
    pub response_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<AuthMethod>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<AssertionAlgorithm>,
    pub introspection_endpoint_auth_methods_supported: Vec<AuthMethod>,
    pub revocation_endpoint_auth_methods_supported: Vec<AuthMethod>,
    /// `true` (RFC 8707).
    pub resource_indicators_supported: bool,
}
