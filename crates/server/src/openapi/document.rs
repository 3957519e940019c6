//! The document itself, its committed form, and the tests that keep the
//! committed `openapi.json` and the router in step with it.

use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi as _;

use crate::routes::openapi::ApiDoc;

/// The command that rewrites the committed `openapi.json`, run from the
/// top of the workspace.
pub const REGENERATE: &str = "cargo run -p warrant-server --bin warrant -- openapi > openapi.json";

/// The OpenAPI 3.1 document of every route the server serves.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The document as committed in `openapi.json`: pretty-printed JSON and a
/// final newline.
pub fn to_pretty_json() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&document())?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests;
