//! The shared Redis, spoken to over a plain TCP socket (the tests need no
//! Redis client library): PING to fail early when it is unreachable, and a
//! cleanup that deletes one test's keys, and only those, when the test ends.
//! Never FLUSHALL; never stop the shared Redis.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use uuid::Uuid;

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Deletes every key under `ARGV[1]`, returning how many.
const DELETE_PREFIX: &str = r#"
local cursor, deleted = "0", 0
repeat
  local page = redis.call("SCAN", cursor, "MATCH", ARGV[1], "COUNT", 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    redis.call("DEL", key)
    deleted = deleted + 1
  end
until cursor == "0"
return deleted
"#;

/// The shared Redis: `REDIS_URL`, else `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A key prefix no other test uses (no glob characters).
pub fn unique_prefix() -> String {
    format!("test:{}:", Uuid::new_v4().simple())
}

/// Panics unless the Redis at `url` answers PING: the tests fail, never skip.
pub fn assert_reachable(url: &str) {
    match Resp::connect(url).and_then(|mut conn| conn.command(&["PING"])) {
        Ok(reply) if reply == "+PONG" => {}
        Ok(reply) => panic!("Redis at {url} answered PING with {reply:?}"),
        Err(e) => panic!("Redis at {url} cannot be reached: {e}"),
    }
}

/// Deletes one test's keys when dropped.
pub struct PrefixCleanup {
    pub url: String,
    pub prefix: String,
}

impl Drop for PrefixCleanup {
    fn drop(&mut self) {
        // Best effort: a leftover key under a unique prefix harms no one.
        let pattern = format!("{}*", self.prefix);
        if let Ok(mut conn) = Resp::connect(&self.url) {
            let _ = conn.command(&["EVAL", DELETE_PREFIX, "0", &pattern]);
        }
    }
}

/// One blocking RESP connection that reads the first line of each reply.
struct Resp {
    reader: BufReader<TcpStream>,
}

impl Resp {
    /// Connects to `redis://[[user]:password@]host:port[/db]`.
    fn connect(url: &str) -> std::io::Result<Resp> {
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| std::io::Error::other(format!("not a redis:// URL: {url}")))?;
        let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        let stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut conn = Resp { reader: BufReader::new(stream) };
        if let Some(userinfo) = userinfo {
            let reply = match userinfo.split_once(':') {
                Some(("", password)) => conn.command(&["AUTH", password])?,
                Some((user, password)) => conn.command(&["AUTH", user, password])?,
                None => conn.command(&["AUTH", userinfo])?,
            };
            if reply.starts_with('-') {
                return Err(std::io::Error::other(format!("AUTH answered {reply}")));
            }
        }
        if !db.is_empty() {
            conn.command(&["SELECT", db])?;
        }
        Ok(conn)
    }

    /// Sends a command and returns the first line of the reply.
    fn command(&mut self, args: &[&str]) -> std::io::Result<String> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        Ok(line.trim_end().to_owned())
    }
}
