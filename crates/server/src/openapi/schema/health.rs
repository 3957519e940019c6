//! The answers of `/healthz` and `/readyz`.

use utoipa::ToSchema;

/// The process answers.
#[derive(ToSchema)]
pub struct Health {
    #[schema(inline)]
    pub status: Alive,
}

/// `ok`.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alive {
    Ok,
}

/// Whether the store and the denylist answer.
#[derive(ToSchema)]
pub struct Readiness {
    #[schema(inline)]
    pub status: Ready,
    #[schema(inline)]
    pub store: Reachable,
    #[schema(inline)]
    pub denylist: Reachable,
}

/// `ready` when both answer, else `unavailable`.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    Ready,
    Unavailable,
}

/// Whether a dependency answered.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reachable {
    Ok,
    Unreachable,
}
