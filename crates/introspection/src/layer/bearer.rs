//! Reading the bearer token of a request: the `Authorization` header with
//! the `Bearer` scheme (RFC 6750 §2.1). Tokens in a form body or the query
//! string (§2.2, §2.3) are not accepted. What a failure is answered is
//! decided in `rejection.rs`.

use http::header::AUTHORIZATION;
use http::HeaderMap;

/// Why the `Authorization` header cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// More than one `Authorization` header.
    #[error("the request has more than one Authorization header")]
    Repeated,
    /// The header's value is not visible ASCII text.
    #[error("the Authorization header is not visible ASCII text")]
    NotText,
    /// `Bearer` followed by something that is not a `b64token`.
    #[error("the bearer token is malformed")]
    MalformedToken,
}

/// The bearer token of a request: `Ok(None)` when the request carries no
/// `Authorization` header or one with another scheme (such as `Basic`),
/// which RFC 6750 §3.1 treats as a request without authentication.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(BearerError::Repeated);
    }
    let value = value.to_str().map_err(|_| BearerError::NotText)?;
    // RFC 7235 §2.1: the scheme is case-insensitive, then one or more spaces.
    let Some((scheme, rest)) = value.split_once(' ') else {
        return if value.eq_ignore_ascii_case("bearer") {
            Err(BearerError::MalformedToken)
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ').trim_end_matches(' ');
    if is_b64token(token) {
        Ok(Some(token))
    } else {
        Err(BearerError::MalformedToken)
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_case_of_the_scheme() {
        for value in ["Bearer abc.def-_~+/==", "bearer abc.def-_~+/==", "BEARER   abc.def-_~+/== "] {
            assert_eq!(bearer_token(&headers(&[value.as_bytes()])), Ok(Some("abc.def-_~+/==")), "{value}");
        }
    }

    #[test]
    fn no_header_or_another_scheme_means_no_token() {
        assert_eq!(bearer_token(&headers(&[])), Ok(None));
        assert_eq!(bearer_token(&headers(&[b"Basic YTpi"])), Ok(None));
        assert_eq!(bearer_token(&headers(&[b"Bearerabc"])), Ok(None));
    }

    #[test]
    fn each_malformed_header_is_refused_for_its_reason() {
        let cases: [(&[&[u8]], BearerError); 7] = [
            (&[b"Bearer a", b"Bearer b"], BearerError::Repeated),
            (&[b"Bearer caf\xc3\xa9"], BearerError::NotText),
            (&[b"Bearer"], BearerError::MalformedToken),
            (&[b"Bearer "], BearerError::MalformedToken),
            (&[b"Bearer a b"], BearerError::MalformedToken),
            (&[b"Bearer ==="], BearerError::MalformedToken),
            (&[b"Bearer a=b"], BearerError::MalformedToken),
        ];
        for (values, expected) in cases {
            assert_eq!(bearer_token(&headers(values)), Err(expected), "{values:?}");
        }
    }
}
