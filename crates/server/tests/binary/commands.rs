//! The local commands of the `warrant` binary: `migrate` and `keys list|rotate`.

use std::path::Path;
use std::process::{Command, Output};

fn warrant(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warrant"))
        .args(args)
        .env_clear()
        .env("WARRANT_DATA_DIR", dir.join("data"))
        .env("WARRANT_KEYS_DIR", dir.join("keys"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn migrate_creates_and_migrates_the_store_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&warrant(dir.path(), &["migrate"]));
    assert!(out.contains("migrations applied (SQLite)"), "{out}");
    assert!(dir.path().join("data/warrant.db").exists());
    assert!(
        stdout(&warrant(dir.path(), &["migrate"])).contains("migrations applied"),
        "a second run is a no-op"
    );
}

#[test]
fn migrate_against_an_unreachable_database_fails() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("migrate")
        .env_clear()
        .env("WARRANT_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("WARRANT_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("migrations failed"));
}

#[test]
fn keys_rotate_promotes_the_next_key_and_keys_list_shows_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let missing = warrant(dir.path(), &["keys", "rotate"]);
    assert_eq!(missing.status.code(), Some(1), "no key to rotate before the first start");

    // What a first start creates.
    warrant_issuer::SigningKeys::open(&dir.path().join("keys")).unwrap();
    let before = stdout(&warrant(dir.path(), &["keys", "list"]));
    let kid_of = |listing: &str, state: &str| {
        listing.lines().find(|l| l.contains(state)).map(|l| l.split_whitespace().next().unwrap().to_owned())
    };
    let (active, next) = (kid_of(&before, "active").unwrap(), kid_of(&before, "next").unwrap());

    let rotated = stdout(&warrant(dir.path(), &["keys", "rotate"]));
    assert!(rotated.contains(&format!("active (signs now):  {next}")), "{rotated}");
    assert!(rotated.contains(&format!("retired:             {active}")), "{rotated}");
    assert!(!rotated.contains("note:"), "the new key was published in advance: {rotated}");

    let after = stdout(&warrant(dir.path(), &["keys", "list"]));
    assert_eq!(kid_of(&after, "active").as_deref(), Some(next.as_str()));
    assert_eq!(kid_of(&after, "published until").as_deref(), Some(active.as_str()));
    assert!(!after.contains("PRIVATE"), "{after}");
}
