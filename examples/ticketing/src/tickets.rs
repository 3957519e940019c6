//! The ticketing API itself: tickets kept in memory, listed, read and
//! opened. Handlers never look at a token: the Warrant layer in front of
//! them has checked it and hands over the verified claims, from which a
//! ticket records which agent opened it.

use std::sync::{Arc, Mutex};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use warrant_introspection::AccessClaims;

/// One ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: &'static str,
    /// The `sub` of the token it was opened with: the agent's id.
    pub opened_by: String,
    /// The `client_id` of that token.
    pub opened_via: String,
}

/// The body of `POST /tickets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// The tickets, shared by every request.
#[derive(Debug, Clone, Default)]
pub struct TicketStore {
    tickets: Arc<Mutex<Vec<Ticket>>>,
}

impl TicketStore {
    /// Every ticket, oldest first.
    pub fn all(&self) -> Vec<Ticket> {
        self.tickets.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// One ticket by id.
    pub fn get(&self, id: &str) -> Option<Ticket> {
        self.tickets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|t| t.id == id)
            .cloned()
    }

    /// Opens a ticket on behalf of the token's agent.
    pub fn open(&self, new: NewTicket, claims: &AccessClaims) -> Ticket {
        let mut tickets = self.tickets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let ticket = Ticket {
            id: format!("tkt_{}", tickets.len() + 1),
            title: new.title,
            description: new.description,
            status: "open",
            opened_by: claims.sub.clone(),
            opened_via: claims.client_id.clone(),
        };
        tickets.push(ticket.clone());
        ticket
    }
}

/// An error of the ticketing API, as `{"error", "error_description"}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not a valid ticket: {0}")]
    BadBody(#[from] JsonRejection),
    #[error("a ticket needs a non-empty title")]
    EmptyTitle,
    #[error("no ticket {0}")]
    NotFound(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = match &self {
            ApiError::BadBody(_) | ApiError::EmptyTitle => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        };
        (status, Json(json!({ "error": error, "error_description": self.to_string() }))).into_response()
    }
}

/// `GET /tickets` (scope `tickets:read`).
pub async fn list(State(store): State<TicketStore>) -> Json<serde_json::Value> {
    Json(json!({ "tickets": store.all() }))
}

/// `GET /tickets/{id}` (scope `tickets:read`).
pub async fn show(
    State(store): State<TicketStore>,
    Path(id): Path<String>,
) -> Result<Json<Ticket>, ApiError> {
    store.get(&id).map(Json).ok_or(ApiError::NotFound(id))
}

/// `POST /tickets` (scope `tickets:write`): 201 with the ticket.
pub async fn open(
    State(store): State<TicketStore>,
    Extension(claims): Extension<AccessClaims>,
    body: Result<Json<NewTicket>, JsonRejection>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let Json(new) = body?;
    if new.title.trim().is_empty() {
        return Err(ApiError::EmptyTitle);
    }
    Ok((StatusCode::CREATED, Json(store.open(new, &claims))))
}
