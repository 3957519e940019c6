//! The committed `openapi.json` and the router, checked against the
//! generated document.
