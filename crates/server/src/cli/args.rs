//! The command line of the `warrant` binary, parsed by hand (no argument
//! parser dependency). This module only turns words into a [`Command`];
//! reading files, credentials and talking HTTP happen in `commands` and `run`.
//! Secrets are never accepted here: credentials come from the environment or
//! the CLI configuration file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use warrant_policy::Timestamp;

use super::error::CliError;

/// Printed by `warrant help` and after a usage error.
pub const USAGE: &str = "\
usage: warrant <command> [--json]

server:
  serve                  run the identity provider (configuration from WARRANT_* variables)
  migrate                run the database migrations on the configured store, then exit
  audit verify           check the audit chain in the local store (WARRANT_DATA_DIR / WARRANT_DATABASE_URL)
  openapi                print the OpenAPI 3.1 document of the HTTP API (as served at /openapi.json)
  keys list              the signing keys in WARRANT_KEYS_DIR and their states
  keys rotate            the next key signs from now on; the active one stays published until its tokens expire

operator commands (admin API at WARRANT_URL, default http://127.0.0.1:8080):
  agents list [--platform P] [--vendor V] [--status S] [--owner O] [--tag T] [--resource AUD]
  agents show ID
  agents register --name N --platform P [--vendor V] [--owner O] [--purpose P] [--environment E]
                  [--acts-on-behalf-of X] [--tag T]... [--jwks FILE]
  agents suspend ID | agents resume ID
  credentials list AGENT_ID | credentials add AGENT_ID [--jwks FILE] | credentials retire AGENT_ID CRED_ID
  resources list
  resources register --name N --kind K --audience A --scope NAME:DATA_CLASS[:DESCRIPTION]...
  resources access ID [--data-class C]
  grants request AGENT_ID --resource AUD --scope S... --justification TEXT --expires-at RFC3339
                 [--max-token-ttl SECS]
  grants approve|deny|revoke GRANT_ID
  kill AGENT_ID --reason TEXT | kill [--platform P] [--vendor V] [--tag T] --reason TEXT
  restore AGENT_ID --reason TEXT
  audit tail [--agent ID] [--action A] [--limit N]    the last N events (default 20)
  audit export [--since RFC3339]                       every event, one JSON object per line
  report

  --json prints the API's JSON instead of a table.

credentials: WARRANT_ADMIN_CLIENT_ID and WARRANT_ADMIN_CLIENT_SECRET, else the TOML file named by
WARRANT_CLI_CONFIG (default ~/.config/warrant/cli.toml; keys url, client_id, client_secret).
exit status: 0 success, 1 error from the server or the network, 2 bad usage or configuration.";

/// Events `audit tail` shows when `--limit` is not given.
pub const DEFAULT_TAIL: usize = 20;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `warrant help`, `--help`, `-h` anywhere.
    Help,
    /// `warrant serve`.
    Serve,
    /// `warrant audit verify` (the local store, no HTTP).
    AuditVerify,
    /// `warrant openapi`: print the OpenAPI document.
    OpenApi,
    /// `warrant migrate`: run the migrations on the configured store.
    Migrate,
    /// `warrant keys list` (the local keys directory).
    KeysList,
    /// `warrant keys rotate` (the local keys directory).
    KeysRotate,
    /// An operator command spoken to the admin API.
    Admin(Box<Invocation>),
}

/// An operator command and its output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub action: Action,
    /// `--json`: print the API's JSON instead of a table.
    pub json: bool,
}

/// One operator command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AgentsList(AgentFilter),
    AgentsShow { id: String },
    AgentsRegister(NewAgent),
    AgentsSuspend { id: String },
    AgentsResume { id: String },
    CredentialsList { agent_id: String },
    CredentialsAdd { agent_id: String, jwks: Option<PathBuf> },
    CredentialsRetire { agent_id: String, credential_id: String },
    ResourcesList,
    ResourcesRegister(NewResource),
    ResourcesAccess { id: String, data_class: Option<String> },
    GrantsRequest(NewGrant),
    GrantsDecide { id: String, decision: Decision },
    Kill { target: KillTarget, reason: String },
    Restore { id: String, reason: String },
    AuditTail { agent: Option<String>, action: Option<String>, limit: usize },
    AuditExport { since: Option<Timestamp> },
    Report,
}

/// Filters of `agents list` (the query of `GET /admin/v1/agents`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    pub platform: Option<String>,
    pub vendor: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub tag: Option<String>,
    /// An audience: agents holding an approved, unexpired grant on it.
    pub resource: Option<String>,
}

/// `agents register`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAgent {
    pub name: String,
    pub platform: String,
    pub vendor: Option<String>,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub environment: Option<String>,
    pub acts_on_behalf_of: Option<String>,
    pub tags: Vec<String>,
    /// A file holding the agent's public JWK Set (then no secret is issued).
    pub jwks: Option<PathBuf>,
}

/// `resources register`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResource {
    pub name: String,
    pub kind: String,
    pub audience: String,
    pub scopes: Vec<ScopeArg>,
}

/// One `--scope name:data_class[:description]` of `resources register`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeArg {
    pub name: String,
    pub data_class: String,
    pub description: String,
}

/// `grants request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub agent_id: String,
    pub resource: String,
    pub scopes: Vec<String>,
    pub justification: String,
    pub expires_at: Timestamp,
    pub max_token_ttl: Option<i64>,
}

/// What `grants approve|deny|revoke` does to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
    Revoke,
}

impl Decision {
    /// The last segment of `POST /admin/v1/grants/{id}/<segment>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Revoke => "revoke",
        }
    }
}

/// Whom `kill` kills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillTarget {
    /// One agent, by id.
    Agent(String),
    /// Every agent matching all the given selectors (at least one given).
    Matching { platform: Option<String>, vendor: Option<String>, tag: Option<String> },
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    if words.iter().any(|w| matches!(*w, "--help" | "-h")) || words.first() == Some(&"help") {
        return Ok(Command::Help);
    }
    let (action, rest) = match words.as_slice() {
        [] => return Err(usage("no command given")),
        ["serve"] => return Ok(Command::Serve),
        ["audit", "verify"] => return Ok(Command::AuditVerify),
        ["openapi"] => return Ok(Command::OpenApi),
        ["migrate"] => return Ok(Command::Migrate),
        ["keys", "list"] => return Ok(Command::KeysList),
        ["keys", "rotate"] => return Ok(Command::KeysRotate),
        ["serve", ..] => return Err(usage("serve takes no argument")),
        ["audit", "verify", ..] => return Err(usage("audit verify takes no argument")),
        ["openapi", ..] => return Err(usage("openapi takes no argument")),
        ["migrate", ..] => return Err(usage("migrate takes no argument")),
        ["keys", "list" | "rotate", ..] => return Err(usage("keys list and keys rotate take no argument")),
        ["keys", ..] => return Err(usage("keys needs a subcommand: list or rotate")),
        ["report" | "kill" | "restore", ..] => (&words[..1], &args[1..]),
        ["agents" | "credentials" | "resources" | "grants" | "audit", _, ..] => (&words[..2], &args[2..]),
        [noun @ ("agents" | "credentials" | "resources" | "grants" | "audit")] => {
            return Err(usage(&format!("{noun} needs a subcommand")))
        }
        [other, ..] => return Err(usage(&format!("unknown command: {other}"))),
    };
    let named = action.join(" ");
    let action = match action {
        ["agents", "list"] => agents_list(rest)?,
        ["agents", "show"] => {
            Opts::parse(rest, &[], &[])?.one_id(&named, "ID", |id| Action::AgentsShow { id })?
        }
        ["agents", "register"] => agents_register(rest)?,
        ["agents", "suspend"] => {
            Opts::parse(rest, &[], &[])?.one_id(&named, "ID", |id| Action::AgentsSuspend { id })?
        }
        ["agents", "resume"] => {
            Opts::parse(rest, &[], &[])?.one_id(&named, "ID", |id| Action::AgentsResume { id })?
        }
        ["credentials", "list"] => Opts::parse(rest, &[], &[])?
            .one_id(&named, "AGENT_ID", |agent_id| Action::CredentialsList { agent_id })?,
        ["credentials", "add"] => {
            let opts = Opts::parse(rest, &["jwks"], &[])?;
            let jwks = opts.one("jwks").map(PathBuf::from);
            opts.one_id(&named, "AGENT_ID", |agent_id| Action::CredentialsAdd { agent_id, jwks })?
        }
        ["credentials", "retire"] => {
            let opts = Opts::parse(rest, &[], &[])?;
            let [agent_id, credential_id] = opts.positional(&named, ["AGENT_ID", "CRED_ID"])?;
            Invocation::new(Action::CredentialsRetire { agent_id, credential_id }, &opts)
        }
        ["resources", "list"] => Opts::parse(rest, &[], &[])?.none(&named, Action::ResourcesList)?,
        ["resources", "register"] => resources_register(rest)?,
        ["resources", "access"] => {
            let opts = Opts::parse(rest, &["data-class"], &[])?;
            let data_class = opts.one("data-class");
            opts.one_id(&named, "ID", |id| Action::ResourcesAccess { id, data_class })?
        }
        ["grants", "request"] => grants_request(rest)?,
        ["grants", decision @ ("approve" | "deny" | "revoke")] => {
            let decision = match *decision {
                "approve" => Decision::Approve,
                "deny" => Decision::Deny,
                _ => Decision::Revoke,
            };
            Opts::parse(rest, &[], &[])?
                .one_id(&named, "GRANT_ID", |id| Action::GrantsDecide { id, decision })?
        }
        ["kill"] => kill(rest)?,
        ["restore"] => {
            let opts = Opts::parse(rest, &["reason"], &[])?;
            let reason = opts.required("reason")?;
            opts.one_id(&named, "AGENT_ID", |id| Action::Restore { id, reason })?
        }
        ["audit", "tail"] => audit_tail(rest)?,
        ["audit", "export"] => {
            let opts = Opts::parse(rest, &["since"], &[])?;
            let since = opts.one("since").map(|s| timestamp("--since", &s)).transpose()?;
            opts.none(&named, Action::AuditExport { since })?
        }
        ["report"] => Opts::parse(rest, &[], &[])?.none(&named, Action::Report)?,
        _ => return Err(usage(&format!("unknown command: {named}"))),
    };
    Ok(Command::Admin(Box::new(action)))
}

impl Invocation {
    fn new(action: Action, opts: &Opts) -> Invocation {
        Invocation { action, json: opts.json }
    }
}

fn agents_list(rest: &[String]) -> Result<Invocation, CliError> {
    let opts = Opts::parse(rest, &["platform", "vendor", "status", "owner", "tag", "resource"], &[])?;
    let filter = AgentFilter {
        platform: opts.one("platform"),
        vendor: opts.one("vendor"),
        status: opts.one("status"),
        owner: opts.one("owner"),
        tag: opts.one("tag"),
        resource: opts.one("resource"),
    };
    opts.none("agents list", Action::AgentsList(filter))
}

fn agents_register(rest: &[String]) -> Result<Invocation, CliError> {
    let values =
        ["name", "platform", "vendor", "owner", "purpose", "environment", "acts-on-behalf-of", "tag", "jwks"];
    let opts = Opts::parse(rest, &values, &["tag"])?;
    let agent = NewAgent {
        name: opts.required("name")?,
        platform: opts.required("platform")?,
        vendor: opts.one("vendor"),
        owner: opts.one("owner"),
        purpose: opts.one("purpose"),
        environment: opts.one("environment"),
        acts_on_behalf_of: opts.one("acts-on-behalf-of"),
        tags: opts.all("tag"),
        jwks: opts.one("jwks").map(PathBuf::from),
    };
    opts.none("agents register", Action::AgentsRegister(agent))
}

fn resources_register(rest: &[String]) -> Result<Invocation, CliError> {
    let opts = Opts::parse(rest, &["name", "kind", "audience", "scope"], &["scope"])?;
    let scopes = opts.all("scope").iter().map(|s| scope_arg(s)).collect::<Result<Vec<_>, _>>()?;
    if scopes.is_empty() {
        return Err(usage("resources register needs at least one --scope NAME:DATA_CLASS[:DESCRIPTION]"));
    }
    let resource = NewResource {
        name: opts.required("name")?,
        kind: opts.required("kind")?,
        audience: opts.required("audience")?,
        scopes,
    };
    opts.none("resources register", Action::ResourcesRegister(resource))
}

/// `name:data_class[:description]`; the description may itself hold colons.
fn scope_arg(text: &str) -> Result<ScopeArg, CliError> {
    let mut parts = text.splitn(3, ':');
    let name = parts.next().unwrap_or_default().trim();
    let data_class = parts.next().unwrap_or_default().trim();
    let description = parts.next().unwrap_or_default().trim();
    if name.is_empty() || data_class.is_empty() {
        return Err(usage(&format!("--scope {text}: expected NAME:DATA_CLASS[:DESCRIPTION]")));
    }
    Ok(ScopeArg {
        name: name.to_owned(),
        data_class: data_class.to_owned(),
        description: description.to_owned(),
    })
}

fn grants_request(rest: &[String]) -> Result<Invocation, CliError> {
    let opts = Opts::parse(
        rest,
        &["resource", "scope", "justification", "expires-at", "max-token-ttl"],
        &["scope"],
    )?;
    let scopes: Vec<String> =
        opts.all("scope").iter().flat_map(|s| s.split_whitespace()).map(String::from).collect();
    if scopes.is_empty() {
        return Err(usage("grants request needs at least one --scope"));
    }
    let max_token_ttl = opts
        .one("max-token-ttl")
        .map(|t| {
            t.parse::<i64>().map_err(|_| usage(&format!("--max-token-ttl {t}: not a number of seconds")))
        })
        .transpose()?;
    let resource = opts.required("resource")?;
    let justification = opts.required("justification")?;
    let expires_at = timestamp("--expires-at", &opts.required("expires-at")?)?;
    opts.one_id("grants request", "AGENT_ID", |agent_id| {
        Action::GrantsRequest(NewGrant {
            agent_id,
            resource,
            scopes,
            justification,
            expires_at,
            max_token_ttl,
        })
    })
}

fn kill(rest: &[String]) -> Result<Invocation, CliError> {
    let opts = Opts::parse(rest, &["platform", "vendor", "tag", "reason"], &[])?;
    let reason = opts.required("reason")?;
    let (platform, vendor, tag) = (opts.one("platform"), opts.one("vendor"), opts.one("tag"));
    let selected = platform.is_some() || vendor.is_some() || tag.is_some();
    let target = match (opts.positional.as_slice(), selected) {
        ([id], false) => KillTarget::Agent(id_arg("AGENT_ID", id)?),
        ([], true) => KillTarget::Matching { platform, vendor, tag },
        ([], false) => {
            return Err(usage("kill needs an AGENT_ID or at least one of --platform, --vendor, --tag"))
        }
        ([_], true) => return Err(usage("kill takes an AGENT_ID or selectors, not both")),
        _ => return Err(usage("kill takes one AGENT_ID")),
    };
    Ok(Invocation::new(Action::Kill { target, reason }, &opts))
}

fn audit_tail(rest: &[String]) -> Result<Invocation, CliError> {
    let opts = Opts::parse(rest, &["agent", "action", "limit"], &[])?;
    let limit = match opts.one("limit") {
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return Err(usage(&format!("--limit {n}: not a positive number"))),
        },
        None => DEFAULT_TAIL,
    };
    let action = Action::AuditTail { agent: opts.one("agent"), action: opts.one("action"), limit };
    opts.none("audit tail", action)
}

fn usage(reason: &str) -> CliError {
    CliError::Usage(reason.to_owned())
}

fn timestamp(option: &str, text: &str) -> Result<Timestamp, CliError> {
    Timestamp::parse_rfc3339(text).map_err(|_| {
        usage(&format!("{option} {text}: not an RFC 3339 date-time such as 2026-12-31T00:00:00Z"))
    })
}

/// An identifier that becomes a path segment: Warrant's ids are `prefix_hex`,
/// so anything outside letters, digits and `-_.~:` (or `.`/`..`) is refused
/// before it can change the URL's path.
fn id_arg(what: &str, text: &str) -> Result<String, CliError> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':');
    if text.is_empty() || text == "." || text == ".." || !text.chars().all(fine) {
        return Err(usage(&format!("{what} {text:?} is not an id")));
    }
    Ok(text.to_owned())
}

/// Options and positional words after the command name.
struct Opts {
    positional: Vec<String>,
    values: BTreeMap<&'static str, Vec<String>>,
    json: bool,
}

impl Opts {
    /// Splits `--name value`, `--name=value`, `--json` and positional words.
    /// Only names in `known` are accepted, and only names in `repeatable`
    /// may be given twice. `--` ends the options.
    fn parse(args: &[String], known: &[&'static str], repeatable: &[&str]) -> Result<Opts, CliError> {
        let mut opts = Opts { positional: Vec::new(), values: BTreeMap::new(), json: false };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--" {
                opts.positional.extend(args.by_ref().cloned());
                break;
            }
            if arg == "--json" {
                opts.json = true;
                continue;
            }
            let Some(option) = arg.strip_prefix("--") else {
                if arg.starts_with('-') && arg.len() > 1 {
                    return Err(usage(&format!("unknown option {arg}")));
                }
                opts.positional.push(arg.clone());
                continue;
            };
            let (name, inline) = match option.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (option, None),
            };
            let Some(name) = known.iter().copied().find(|k| *k == name) else {
                return Err(usage(&format!("unknown option --{name}")));
            };
            let value = match inline {
                Some(value) => value,
                None => args.next().cloned().ok_or_else(|| usage(&format!("--{name} needs a value")))?,
            };
            let slot = opts.values.entry(name).or_default();
            if !slot.is_empty() && !repeatable.contains(&name) {
                return Err(usage(&format!("--{name} given twice")));
            }
            slot.push(value);
        }
        Ok(opts)
    }

    /// The value of a single-valued option; an empty value counts as absent.
    fn one(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.first()).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Every non-empty value of a repeatable option, in order.
    fn all(&self, name: &str) -> Vec<String> {
        self.values
            .get(name)
            .map(|v| v.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    fn required(&self, name: &str) -> Result<String, CliError> {
        self.one(name).ok_or_else(|| usage(&format!("--{name} is required")))
    }

    /// Exactly the positional words named in `what`.
    fn positional<const N: usize>(&self, command: &str, what: [&str; N]) -> Result<[String; N], CliError> {
        if self.positional.len() != N {
            return Err(usage(&format!(
                "{command} takes {}",
                if N == 0 { "no argument".into() } else { what.join(" ") }
            )));
        }
        let mut ids: [String; N] = std::array::from_fn(|_| String::new());
        for (slot, (word, name)) in ids.iter_mut().zip(self.positional.iter().zip(what)) {
            *slot = id_arg(name, word)?;
        }
        Ok(ids)
    }

    /// The command takes one id.
    fn one_id(
        &self,
        command: &str,
        what: &str,
        action: impl FnOnce(String) -> Action,
    ) -> Result<Invocation, CliError> {
        let [id] = self.positional(command, [what])?;
        Ok(Invocation::new(action(id), self))
    }

    /// The command takes no positional word.
    fn none(&self, command: &str, action: Action) -> Result<Invocation, CliError> {
        let [] = self.positional(command, [])?;
        Ok(Invocation::new(action, self))
    }
}

#[cfg(test)]
mod tests;
