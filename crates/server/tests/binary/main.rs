//! Tests of the `warrant` binary itself, run as a child process (only the
//! package that defines a binary gets `CARGO_BIN_EXE_warrant`, built before
//! its tests): the local commands, and the secrecy of its logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod logs;
