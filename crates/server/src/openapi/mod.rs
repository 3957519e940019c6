//! The OpenAPI 3.1 document of Warrant's HTTP surface, generated from the
//! code: the operations are the `#[utoipa::path]` annotations on the
//! handlers (gathered by `routes::openapi`), the schemas and the shared
//! error answers are here. The document is served at `/openapi.json`,
//! printed by `warrant openapi`, and committed as `openapi.json` at the top
//! of the workspace, where a test keeps it equal to what the code generates.

mod document;
pub(crate) mod responses;
pub(crate) mod schema;

pub use document::{document, to_pretty_json, REGENERATE};
