//! Redis for the tests: instances backed by the shared Redis (`REDIS_URL`),
//! each test under its own key prefix, and a private `redis-server` child
//! process a test may kill and restart. A few RESP commands are spoken over a
//! plain TCP socket (PING, SCAN, DEL): the tests need no Redis client library.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{spawn_app_on_postgres_with, TestApp};

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The shared Redis named by `REDIS_URL`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test:{}:", Uuid::new_v4().simple())
}

/// The shared Redis's URL, after checking that it answers: a test that needs
/// Redis fails (never skips) without it.
pub fn shared_redis() -> String {
    let url = redis_url();
    if let Err(e) = ping(&url) {
        panic!("Redis at {url} cannot be reached: {e}");
    }
    url
}

/// An instance over a fresh PostgreSQL database and the shared Redis under a
/// fresh prefix, ready (`/readyz` 200).
pub async fn spawn_app_on_redis() -> TestApp {
    spawn_app_on_redis_at(&shared_redis(), &unique_prefix(), &[]).await
}

/// An instance over a fresh PostgreSQL database and the Redis at `url` under
/// `prefix`, plus `extra` variables; waits until it is ready. The prefix's
/// keys are deleted once the last instance sharing it is dropped.
pub async fn spawn_app_on_redis_at(url: &str, prefix: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("WARRANT_REDIS_URL", url), ("WARRANT_REDIS_PREFIX", prefix)];
    vars.extend_from_slice(extra);
    let mut app = spawn_app_on_postgres_with(&vars).await;
    app._redis_keys = Some(Arc::new(PrefixCleanup { url: url.to_owned(), prefix: prefix.to_owned() }));
    wait_until_ready(&app, Duration::from_secs(15)).await;
    app
}

/// Polls `/readyz` until 200, panicking after `bound`.
pub async fn wait_until_ready(app: &TestApp, bound: Duration) {
    let started = Instant::now();
    loop {
        let response = app.get("/readyz").await;
        let status = response.status();
        if status == StatusCode::OK {
            return;
        }
        let body = response.text().await.unwrap_or_default();
        assert!(started.elapsed() < bound, "/readyz still {status} after {bound:?}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Deletes every key under a prefix when dropped.
pub struct PrefixCleanup {
    url: String,
    prefix: String,
}

impl Drop for PrefixCleanup {
    fn drop(&mut self) {
        // Best effort: a leftover key under a unique prefix harms no one.
        if let Ok(mut conn) = Resp::connect(&self.url) {
            let _ = conn.delete_prefix(&self.prefix);
        }
    }
}

/// Sends PING to the Redis at `url` and expects PONG.
pub fn ping(url: &str) -> std::io::Result<()> {
    let mut conn = Resp::connect(url)?;
    match conn.command(&["PING"])? {
        Reply::Simple(pong) if pong == "PONG" => Ok(()),
        other => Err(std::io::Error::other(format!("PING answered {other:?}"))),
    }
}

/// How many keys the Redis at `url` holds under `prefix`.
pub fn count_keys(url: &str, prefix: &str) -> std::io::Result<usize> {
    Ok(Resp::connect(url)?.scan_prefix(prefix)?.len())
}

/// What a failover to a replica that missed the last writes looks like to
/// Warrant: `key` is gone (other keys, `loaded` among them, are kept) and
/// every subscription is dropped. For a private Redis only.
pub fn lose_key_and_subscriptions(url: &str, key: &str) -> std::io::Result<()> {
    let mut conn = Resp::connect(url)?;
    match conn.command(&["DEL", key])? {
        Reply::Integer(1) => {}
        other => return Err(std::io::Error::other(format!("DEL {key} answered {other:?}"))),
    }
    conn.command(&["CLIENT", "KILL", "TYPE", "pubsub"])?;
    Ok(())
}

/// Whether the Redis at `url` holds `key`.
pub fn key_exists(url: &str, key: &str) -> std::io::Result<bool> {
    match Resp::connect(url)?.command(&["EXISTS", key])? {
        Reply::Integer(n) => Ok(n == 1),
        other => Err(std::io::Error::other(format!("EXISTS answered {other:?}"))),
    }
}

/// A RESP2 reply.
#[derive(Debug)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

/// One blocking connection speaking RESP2.
struct Resp {
    reader: BufReader<TcpStream>,
}

impl Resp {
    /// Connects to `redis://[[user]:password@]host:port[/db]`.
    fn connect(url: &str) -> std::io::Result<Resp> {
        let invalid = || std::io::Error::other(format!("not a redis:// URL: {url}"));
        let rest = url.strip_prefix("redis://").ok_or_else(invalid)?;
        let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        let stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.set_write_timeout(Some(Duration::from_secs(2)))?;
        let mut conn = Resp { reader: BufReader::new(stream) };
        if let Some(userinfo) = userinfo {
            let reply = match userinfo.split_once(':') {
                Some(("", password)) => conn.command(&["AUTH", password])?,
                Some((user, password)) => conn.command(&["AUTH", user, password])?,
                None => conn.command(&["AUTH", userinfo])?,
            };
            conn.expect_ok(reply)?;
        }
        if !db.is_empty() {
            let reply = conn.command(&["SELECT", db])?;
            conn.expect_ok(reply)?;
        }
        Ok(conn)
    }

    fn expect_ok(&self, reply: Reply) -> std::io::Result<()> {
        match reply {
            Reply::Simple(_) => Ok(()),
            other => Err(std::io::Error::other(format!("Redis answered {other:?}"))),
        }
    }

    fn command(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&request)?;
        match self.read_reply()? {
            Reply::Error(e) => Err(std::io::Error::other(format!("{}: {e}", args[0]))),
            reply => Ok(reply),
        }
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(line.len().min(1));
        let number = || rest.parse::<i64>().map_err(|e| std::io::Error::other(format!("{line}: {e}")));
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Ok(Reply::Error(rest.to_owned())),
            ":" => Ok(Reply::Integer(number()?)),
            "$" => match usize::try_from(number()?) {
                Ok(len) => {
                    let mut data = vec![0; len + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(len);
                    Ok(Reply::Bulk(Some(data)))
                }
                Err(_) => Ok(Reply::Bulk(None)),
            },
            "*" => {
                let len = usize::try_from(number()?).unwrap_or(0);
                (0..len).map(|_| self.read_reply()).collect::<std::io::Result<_>>().map(Reply::Array)
            }
            _ => Err(std::io::Error::other(format!("not a RESP reply: {line:?}"))),
        }
    }

    /// Every key under `prefix` (SCAN with MATCH; the prefix holds no glob).
    fn scan_prefix(&mut self, prefix: &str) -> std::io::Result<Vec<String>> {
        let pattern = format!("{prefix}*");
        let (mut cursor, mut keys) = ("0".to_owned(), Vec::new());
        loop {
            let reply = self.command(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])?;
            let Reply::Array(mut parts) = reply else {
                return Err(std::io::Error::other(format!("SCAN answered {reply:?}")));
            };
            if let (Some(Reply::Array(batch)), Some(Reply::Bulk(Some(next)))) = (parts.pop(), parts.pop()) {
                for key in batch {
                    if let Reply::Bulk(Some(key)) = key {
                        keys.push(String::from_utf8_lossy(&key).into_owned());
                    }
                }
                cursor = String::from_utf8_lossy(&next).into_owned();
            } else {
                return Err(std::io::Error::other("SCAN answered an unexpected shape"));
            }
            if cursor == "0" {
                return Ok(keys);
            }
        }
    }

    /// Deletes every key under `prefix`; returns how many went.
    fn delete_prefix(&mut self, prefix: &str) -> std::io::Result<i64> {
        let mut deleted = 0;
        for chunk in self.scan_prefix(prefix)?.chunks(500) {
            let mut args = vec!["DEL"];
            args.extend(chunk.iter().map(String::as_str));
            match self.command(&args)? {
                Reply::Integer(count) => deleted += count,
                other => return Err(std::io::Error::other(format!("DEL answered {other:?}"))),
            }
        }
        Ok(deleted)
    }
}

/// A private `redis-server` child process that keeps nothing on disk. It is
/// killed when dropped.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it answers PING.
    pub async fn start() -> RedisServer {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("the probe's address").port()
        };
        let dir = tempfile::tempdir().expect("a directory for redis-server");
        let mut server = RedisServer { port, dir, child: None };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL, as a crash) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same port: it comes back empty.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is on PATH");
        self.child = Some(child);
        let started = Instant::now();
        while let Err(e) = ping(&self.url()) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on {} does not answer: {e}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
