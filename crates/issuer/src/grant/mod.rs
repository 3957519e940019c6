//! The grant types the token endpoint serves, a file each.

pub mod client_credentials;
