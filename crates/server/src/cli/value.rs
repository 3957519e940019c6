//! Reading the admin API's JSON for display. The renderers work on
//! `serde_json::Value` rather than typed structs so that a field the server
//! adds later is passed through by `--json` and a field it leaves out shows
//! as `-` instead of failing the command.

use serde_json::Value;
use warrant_policy::Timestamp;

/// What a missing or null field shows as.
pub const NONE: &str = "-";

/// `value[key]` as display text: strings as they are, numbers and booleans
/// printed, arrays of strings joined with `, `, null or missing as `-`, and
/// anything else as compact JSON.
pub fn text(value: &Value, key: &str) -> String {
    show(value.get(key).unwrap_or(&Value::Null))
}

/// One JSON value as display text (see [`text`]).
pub fn show(value: &Value) -> String {
    match value {
        Value::Null => NONE.to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let joined = items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ");
            if joined.is_empty() {
                NONE.to_owned()
            } else {
                joined
            }
        }
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// `value[key]` as a string slice, if it is one.
pub fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The items of the array `value[key]` (none when missing or not an array).
pub fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// A timestamp field with how far it is from `now`, e.g.
/// `2026-03-01T00:00:00Z (in 29d)` or `2026-01-01T00:00:00Z (3h ago)`.
pub fn when(value: &Value, key: &str, now: Timestamp) -> String {
    match str_of(value, key) {
        Some(at) => match Timestamp::parse_rfc3339(at) {
            Ok(parsed) => format!("{at} ({})", relative(now.seconds_until(parsed))),
            Err(_) => at.to_owned(),
        },
        None => text(value, key),
    }
}

/// `in 3d`, `5h ago`, `now`: the largest whole unit of a signed duration.
pub fn relative(seconds: i64) -> String {
    let magnitude = seconds.unsigned_abs();
    if magnitude == 0 {
        return "now".to_owned();
    }
    let amount = match magnitude {
        m if m >= 86_400 => format!("{}d", m / 86_400),
        m if m >= 3_600 => format!("{}h", m / 3_600),
        m if m >= 60 => format!("{}m", m / 60),
        m => format!("{m}s"),
    };
    if seconds > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// `by` and `at` fields joined as `alice at 2026-01-01T00:00:00Z`, or `-`.
pub fn by_at(value: &Value, by: &str, at: &str) -> String {
    match (str_of(value, by), str_of(value, at)) {
        (Some(who), Some(when)) => format!("{who} at {when}"),
        (Some(who), None) => who.to_owned(),
        (None, Some(when)) => when.to_owned(),
        (None, None) => NONE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_shows_each_kind_of_json_value() {
        let v = json!({"s": "x", "n": 3, "b": true, "null": null, "tags": ["a", "b"], "empty": [],
            "obj": {"k": 1}});
        assert_eq!(text(&v, "s"), "x");
        assert_eq!(text(&v, "n"), "3");
        assert_eq!(text(&v, "b"), "true");
        assert_eq!(text(&v, "null"), "-");
        assert_eq!(text(&v, "missing"), "-");
        assert_eq!(text(&v, "tags"), "a, b");
        assert_eq!(text(&v, "empty"), "-");
        assert_eq!(text(&v, "obj"), r#"{"k":1}"#);
    }

    #[test]
    fn relative_picks_the_largest_whole_unit() {
        assert_eq!(relative(0), "now");
        assert_eq!(relative(59), "in 59s");
        assert_eq!(relative(-120), "2m ago");
        assert_eq!(relative(7_200), "in 2h");
        assert_eq!(relative(29 * 86_400 + 5), "in 29d");
    }

    #[test]
    fn when_adds_the_distance_from_now() {
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let v = json!({"expires_at": "2026-01-31T00:00:00Z", "bad": "soon", "none": null});
        assert_eq!(when(&v, "expires_at", now), "2026-01-31T00:00:00Z (in 30d)");
        assert_eq!(when(&v, "bad", now), "soon");
        assert_eq!(when(&v, "none", now), "-");
    }
}
