//! Configuration: a bad value stops the start with a message naming the variable.

use std::collections::HashMap;

use warrant_server::Config;

/// The error message for this configuration, which must be refused.
fn refusal(vars: &[(&str, &str)]) -> String {
    let vars: HashMap<String, String> =
        vars.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    let shown = format!("{vars:?}");
    match Config::from_lookup(move |name| vars.get(name).cloned()) {
        Ok(_) => panic!("the configuration {shown} is refused"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_bad_listen_address_is_refused_naming_the_variable() {
    let message = refusal(&[("WARRANT_LISTEN", "not-an-address")]);
    assert!(message.contains("WARRANT_LISTEN"), "{message}");
}

#[test]
fn a_bad_token_ttl_is_refused_naming_the_variable() {
    for ttl in ["abc", "-5"] {
        let message = refusal(&[("WARRANT_LISTEN", "127.0.0.1:0"), ("WARRANT_TOKEN_TTL", ttl)]);
        assert!(message.contains("WARRANT_TOKEN_TTL"), "{message}");
    }
}

#[test]
fn a_short_bootstrap_secret_is_refused_naming_the_variable() {
    let message = refusal(&[
        ("WARRANT_LISTEN", "127.0.0.1:0"),
        ("WARRANT_BOOTSTRAP_ADMIN_ID", "bootstrap-admin"),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET", "too-short"),
    ]);
    assert!(message.contains("WARRANT_BOOTSTRAP_ADMIN_SECRET"), "{message}");
}

#[test]
fn a_bad_issuer_is_refused_naming_the_variable() {
    let message = refusal(&[("WARRANT_LISTEN", "127.0.0.1:0"), ("WARRANT_ISSUER", "not a url")]);
    assert!(message.contains("WARRANT_ISSUER"), "{message}");
}
