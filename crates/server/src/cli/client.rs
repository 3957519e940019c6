//! The admin API over HTTP, as the operator commands use it: an admin token
//! by client credentials (RFC 6749 §4.4) for `urn:warrant:admin`, then JSON
//! requests under `/admin/v1` with that bearer token, and the API's error
//! body turned into [`CliError::Api`]. What to ask and how to show the
//! answer is `commands`' and `render`'s business.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::Value;
use warrant_issuer::SecretString;

use super::credentials::Credentials;
use super::error::CliError;

/// The audience of the admin API (contract: operators ask for it).
pub const ADMIN_RESOURCE: &str = "urn:warrant:admin";

/// A session with the admin API: the credentials, and the admin token once
/// fetched (fetched again once if the API answers 401 mid-way, e.g. when a
/// long export outlives it).
pub struct AdminClient {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    token: Option<SecretString>,
}

/// `{"error", "error_description"}`, the body of every OAuth and admin API error.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

impl AdminClient {
    /// A client for the server at `credentials.url`. Redirects are not
    /// followed: a bearer token is never sent anywhere but the configured server.
    pub fn new(credentials: Credentials) -> Result<AdminClient, CliError> {
        let base = Url::parse(&format!("{}/", credentials.url))
            .map_err(|e| CliError::Config(format!("the server URL {:?}: {e}", credentials.url)))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("warrant-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| CliError::Transport { url: credentials.url.clone(), source })?;
        Ok(AdminClient { http, base, credentials, token: None })
    }

    /// `GET /admin/v1/<segments>?<query>`.
    pub async fn get(&mut self, segments: &[&str], query: &[(&str, String)]) -> Result<Value, CliError> {
        self.admin(Method::GET, segments, query, None).await
    }

    /// `POST /admin/v1/<segments>` with a JSON body.
    pub async fn post(&mut self, segments: &[&str], body: &Value) -> Result<Value, CliError> {
        self.admin(Method::POST, segments, &[], Some(body)).await
    }

    /// `DELETE /admin/v1/<segments>`.
    pub async fn delete(&mut self, segments: &[&str]) -> Result<Value, CliError> {
        self.admin(Method::DELETE, segments, &[], None).await
    }

    /// Every page of a listing that answers `{"<key>": [...], "next": cursor|null}`,
    /// `limit` items at a time, following `next` (passed back as `cursor`)
    /// until it is null. `each` sees each page's items in order, so long
    /// listings stream.
    pub async fn each_page(
        &mut self,
        segments: &[&str],
        query: &[(&str, String)],
        key: &str,
        limit: u32,
        each: &mut dyn FnMut(Vec<Value>) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let mut cursor: Option<String> = None;
        loop {
            let mut paged: Vec<(&str, String)> = query.to_vec();
            paged.push(("limit", limit.to_string()));
            if let Some(cursor) = &cursor {
                paged.push(("cursor", cursor.clone()));
            }
            let mut page = self.get(segments, &paged).await?;
            let items = match page.get_mut(key).map(Value::take) {
                Some(Value::Array(items)) => items,
                _ => return Err(self.protocol(segments, &format!("no \"{key}\" list"))),
            };
            each(items)?;
            match page.get("next").and_then(Value::as_str) {
                Some(next) if cursor.as_deref() == Some(next) => {
                    return Err(self.protocol(segments, "the same cursor came back twice"));
                }
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(()),
            }
        }
    }

    /// Every item of a paged listing, in order.
    pub async fn all_pages(
        &mut self,
        segments: &[&str],
        query: &[(&str, String)],
        key: &str,
        limit: u32,
    ) -> Result<Vec<Value>, CliError> {
        let mut all = Vec::new();
        self.each_page(segments, query, key, limit, &mut |items| {
            all.extend(items);
            Ok(())
        })
        .await?;
        Ok(all)
    }

    async fn admin(
        &mut self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let url = self.url(&[&["admin", "v1"], segments].concat(), query)?;
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut request = self.http.request(method.clone(), url.clone()).bearer_auth(token.expose());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|source| self.transport(source))?;
            if response.status() == StatusCode::UNAUTHORIZED && !retried {
                // The token may have expired during a long command: one more try with a new one.
                self.token = None;
                retried = true;
                continue;
            }
            return self.answer(&method, &url, response).await;
        }
    }

    /// The admin token, fetched on first use: `POST /oauth2/token` with
    /// `grant_type=client_credentials&resource=urn:warrant:admin` (RFC 8707)
    /// and HTTP Basic authentication whose parts are form-urlencoded first
    /// (RFC 6749 §2.3.1). No scope: the token carries all the operator's roles.
    async fn token(&mut self) -> Result<SecretString, CliError> {
        if let Some(token) = &self.token {
            return Ok(SecretString::new(token.expose().to_owned()));
        }
        let url = self.url(&["oauth2", "token"], &[])?;
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("resource", ADMIN_RESOURCE)
            .finish();
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(url.clone())
            .basic_auth(
                encode(&self.credentials.client_id),
                Some(encode(self.credentials.client_secret.expose())),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|source| self.transport(source))?;
        let answer = self.answer(&Method::POST, &url, response).await?;
        let token: TokenResponse = serde_json::from_value(answer)
            .map_err(|_| self.protocol(&["oauth2", "token"], "no access_token in the answer"))?;
        let token = SecretString::new(token.access_token);
        self.token = Some(SecretString::new(token.expose().to_owned()));
        Ok(token)
    }

    /// The body of a 2xx answer as JSON (null when empty), else the API's
    /// error; an error without the API's error body is named by its status.
    async fn answer(
        &self,
        method: &Method,
        url: &Url,
        response: reqwest::Response,
    ) -> Result<Value, CliError> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(|source| self.transport(source))?;
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| CliError::Protocol {
                url: url.to_string(),
                reason: format!("the body is not JSON: {e}"),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => Err(CliError::Api {
                code: error.error,
                description: error.error_description.unwrap_or_default(),
            }),
            Err(_) => Err(CliError::Api {
                code: format!("http_{}", status.as_u16()),
                description: format!("{method} {} answered {status} without an error body", url.path()),
            }),
        }
    }

    /// `base` + the segments, each percent-encoded as one path segment.
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url, CliError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CliError::Config(format!("{} cannot be a base URL", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    fn transport(&self, source: reqwest::Error) -> CliError {
        CliError::Transport { url: self.credentials.url.clone(), source: source.without_url() }
    }

    fn protocol(&self, segments: &[&str], reason: &str) -> CliError {
        CliError::Protocol {
            url: format!("{}/{}", self.credentials.url, segments.join("/")),
            reason: reason.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> AdminClient {
        AdminClient::new(Credentials {
            url: url.to_owned(),
            client_id: "admin".into(),
            client_secret: SecretString::new("secret".into()),
            secret_file: None,
        })
        .unwrap()
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_each_segment() {
        let c = client("https://idp.example.com/warrant");
        let url = c.url(&["admin", "v1", "agents", "a/b c"], &[("owner", "x&y".into())]).unwrap();
        assert_eq!(url.as_str(), "https://idp.example.com/warrant/admin/v1/agents/a%2Fb%20c?owner=x%26y");
        let url = client("http://127.0.0.1:18181").url(&["oauth2", "token"], &[]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:18181/oauth2/token");
    }
}
