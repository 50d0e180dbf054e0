//! Turns the reviewer's reply into a [`ReviewOutputEvent`].
//!
//! Models asked for "only JSON" still wrap it in a code fence or a sentence now and then, so the
//! JSON object is looked for in those places too. Its fields are then checked one by one: a
//! finding with a missing priority or a relative path is reported as exactly that, because a
//! guessed value would end up in CI annotations and exit codes.

use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::ReviewCodeLocation;
use codex_protocol::protocol::ReviewFinding;
use codex_protocol::protocol::ReviewLineRange;
use codex_protocol::protocol::ReviewOutputEvent;
use serde_json::Map;
use serde_json::Value;

use super::MAX_PRIORITY;
use super::MIN_PRIORITY;

/// At most this many problems are listed in one error; the rest are counted.
const MAX_PROBLEMS_LISTED: usize = 8;
/// How many `{` positions the prose scan tries before giving up (keeps hostile input linear-ish).
const MAX_OBJECT_CANDIDATES: usize = 64;

/// Why the reviewer's reply is not a usable review. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewParseError {
    #[error("the reviewer's reply is empty")]
    Empty,

    #[error("the reviewer's reply contains no JSON object (it starts with {preview:?})")]
    NoJsonObject { preview: String },

    #[error("the reviewer's JSON is malformed: {message}")]
    MalformedJson { message: String },

    #[error("the reviewer's output is invalid: {}", summarize(.problems))]
    InvalidFields { problems: Vec<String> },
}

fn summarize(problems: &[String]) -> String {
    let mut text = problems
        .iter()
        .take(MAX_PROBLEMS_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > MAX_PROBLEMS_LISTED {
        text.push_str(&format!(
            "; and {} more",
            problems.len() - MAX_PROBLEMS_LISTED
        ));
    }
    text
}

/// Parses the reviewer's final message: the whole text as JSON, else the first ```json (or
/// plain ```) fenced block holding an object, else the first balanced `{...}` in the prose that
/// looks like a review. Every required field is checked; nothing missing is filled in.
pub fn parse_review_output(text: &str) -> Result<ReviewOutputEvent, ReviewParseError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReviewParseError::Empty);
    }
    let mut malformed: Option<String> = None;
    let mut other_object: Option<Value> = None;
    for candidate in candidates(text) {
        match serde_json::from_str::<Value>(candidate) {
            Ok(value) if looks_like_review(&value) => {
                return validate(&value)
                    .map_err(|problems| ReviewParseError::InvalidFields { problems });
            }
            Ok(value) => {
                other_object.get_or_insert(value);
            }
            Err(err) => {
                malformed.get_or_insert_with(|| err.to_string());
            }
        }
    }
    // Nothing looked like a review. A malformed candidate is the likelier story than an
    // unrelated object (whose inner objects parse fine on their own).
    if let Some(message) = malformed {
        return Err(ReviewParseError::MalformedJson { message });
    }
    if let Some(value) = other_object {
        return validate(&value).map_err(|problems| ReviewParseError::InvalidFields { problems });
    }
    Err(ReviewParseError::NoJsonObject {
        preview: text.chars().take(60).collect(),
    })
}

/// Where a JSON object may be, in order of preference.
fn candidates(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    if text.starts_with('{') || text.starts_with('[') {
        found.push(text);
    }
    found.extend(
        fenced_blocks(text)
            .into_iter()
            .filter(|b| b.starts_with('{')),
    );
    let mut start = 0;
    let mut tries = 0;
    while let Some(offset) = text[start..].find('{') {
        let open = start + offset;
        tries += 1;
        if tries > MAX_OBJECT_CANDIDATES {
            break;
        }
        match balanced_object_end(&text[open..]) {
            Some(len) => {
                let object = &text[open..open + len];
                if serde_json::from_str::<Value>(object).is_ok() {
                    found.push(object);
                    start = open + len;
                } else {
                    // Keep it for the error message, then look inside it.
                    found.push(object);
                    start = open + 1;
                }
            }
            None => {
                found.push(&text[open..]);
                break;
            }
        }
    }
    found
}

/// The trimmed contents of each ``` fenced block (any info string).
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after_fence = &rest[open + 3..];
        // The info string (`json`, `JSON`, nothing) runs to the end of the line.
        let Some(newline) = after_fence.find('\n') else {
            break;
        };
        let body = &after_fence[newline + 1..];
        let Some(close) = body.find("```") else {
            blocks.push(body.trim());
            break;
        };
        blocks.push(body[..close].trim());
        rest = &body[close + 3..];
    }
    blocks
}

/// The length of the `{...}` object at the start of `text`, matching braces outside strings, or
/// `None` when it never closes.
fn balanced_object_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn looks_like_review(value: &Value) -> bool {
    value.as_object().is_some_and(|object| {
        ["findings", "overall_correctness", "overall_explanation"]
            .iter()
            .any(|key| object.contains_key(*key))
    })
}

/// Checks every field and builds the event, or lists every problem found.
fn validate(value: &Value) -> Result<ReviewOutputEvent, Vec<String>> {
    let Some(object) = value.as_object() else {
        return Err(vec![format!(
            "expected a JSON object at the top level, got {}",
            describe(value)
        )]);
    };
    let mut problems = Vec::new();
    let mut fields = Fields {
        object,
        prefix: String::new(),
        problems: &mut problems,
    };
    let overall_correctness = fields.non_empty_string("overall_correctness");
    let overall_explanation = fields.string("overall_explanation");
    let overall_confidence_score = fields.score("overall_confidence_score");
    let findings = match object.get("findings") {
        None => {
            problems.push("findings is missing (use [] when there are none)".to_string());
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| validate_finding(index + 1, item, &mut problems))
            .collect(),
        Some(other) => {
            problems.push(format!(
                "findings must be an array, got {}",
                describe(other)
            ));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ReviewOutputEvent {
        findings,
        overall_correctness: overall_correctness.unwrap_or_default(),
        overall_explanation: overall_explanation.unwrap_or_default(),
        overall_confidence_score: overall_confidence_score.unwrap_or_default(),
    })
}

fn validate_finding(
    number: usize,
    item: &Value,
    problems: &mut Vec<String>,
) -> Option<ReviewFinding> {
    let Some(object) = item.as_object() else {
        problems.push(format!(
            "finding {number} must be an object, got {}",
            describe(item)
        ));
        return None;
    };
    let before = problems.len();
    let mut fields = Fields {
        object,
        prefix: format!("finding {number}: "),
        problems,
    };
    let title = fields.non_empty_string("title");
    let body = fields.string("body");
    let confidence_score = fields.score("confidence_score");
    let priority = fields.priority("priority");
    let code_location = fields.code_location("code_location");
    if problems.len() > before {
        return None;
    }
    Some(ReviewFinding {
        title: title?,
        body: body?,
        confidence_score: confidence_score?,
        priority: priority?,
        code_location: code_location?,
    })
}

/// Reads fields of one JSON object, recording a problem (prefixed with where it is) for each
/// missing or invalid one.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
    problems: &'a mut Vec<String>,
}

impl<'a> Fields<'a> {
    fn problem(&mut self, message: String) {
        self.problems.push(format!("{}{message}", self.prefix));
    }

    fn get(&mut self, key: &str) -> Option<&'a Value> {
        let object: &'a Map<String, Value> = self.object;
        let value = object.get(key);
        if value.is_none() {
            self.problems
                .push(format!("{}{key} is missing", self.prefix));
        }
        value
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            other => {
                let got = describe(other);
                self.problem(format!("{key} must be a string, got {got}"));
                None
            }
        }
    }

    fn non_empty_string(&mut self, key: &str) -> Option<String> {
        let text = self.string(key)?;
        if text.trim().is_empty() {
            self.problem(format!("{key} must not be empty"));
            return None;
        }
        Some(text)
    }

    /// A confidence score: a number from 0 to 1.
    fn score(&mut self, key: &str) -> Option<f32> {
        let value = self.get(key)?;
        let Some(number) = value.as_f64() else {
            let got = describe(value);
            self.problem(format!("{key} must be a number between 0 and 1, got {got}"));
            return None;
        };
        if !(0.0..=1.0).contains(&number) {
            self.problem(format!("{key} must be between 0 and 1, got {number}"));
            return None;
        }
        Some(number as f32)
    }

    fn priority(&mut self, key: &str) -> Option<i32> {
        let value = self.get(key)?;
        let Some(number) = whole_number(value) else {
            let got = describe(value);
            self.problem(format!(
                "{key} must be an integer {MIN_PRIORITY}–{MAX_PRIORITY}, got {got}"
            ));
            return None;
        };
        match i32::try_from(number) {
            Ok(priority) if (MIN_PRIORITY..=MAX_PRIORITY).contains(&priority) => Some(priority),
            _ => {
                self.problem(format!(
                    "{key} must be {MIN_PRIORITY}–{MAX_PRIORITY}, got {number}"
                ));
                None
            }
        }
    }

    fn code_location(&mut self, key: &str) -> Option<ReviewCodeLocation> {
        let value = self.get(key)?;
        let Some(object) = value.as_object() else {
            let got = describe(value);
            self.problem(format!("{key} must be an object, got {got}"));
            return None;
        };
        let mut inner = Fields {
            object,
            prefix: format!("{}{key}.", self.prefix),
            problems: &mut *self.problems,
        };
        let path = inner.non_empty_string("absolute_file_path");
        let path = path.and_then(|path| {
            if Path::new(&path).is_absolute() {
                Some(PathBuf::from(path))
            } else {
                inner.problem(format!(
                    "absolute_file_path must be an absolute path, got {path:?}"
                ));
                None
            }
        });
        let line_range = inner.line_range("line_range");
        Some(ReviewCodeLocation {
            absolute_file_path: path?,
            line_range: line_range?,
        })
    }

    fn line_range(&mut self, key: &str) -> Option<ReviewLineRange> {
        let value = self.get(key)?;
        let Some(object) = value.as_object() else {
            let got = describe(value);
            self.problem(format!(
                "{key} must be an object with start and end, got {got}"
            ));
            return None;
        };
        let mut inner = Fields {
            object,
            prefix: format!("{}{key}.", self.prefix),
            problems: &mut *self.problems,
        };
        let start = inner.line_number("start");
        let end = inner.line_number("end");
        let (start, end) = (start?, end?);
        if end < start {
            self.problem(format!("{key} ends before it starts ({start}-{end})"));
            return None;
        }
        Some(ReviewLineRange { start, end })
    }

    /// A 1-based line number.
    fn line_number(&mut self, key: &str) -> Option<u32> {
        let value = self.get(key)?;
        match whole_number(value).map(u32::try_from) {
            Some(Ok(line)) if line >= 1 => Some(line),
            _ => {
                let got = describe(value);
                self.problem(format!(
                    "{key} must be a line number (1 or more), got {got}"
                ));
                None
            }
        }
    }
}

/// An integer, also when written as `2.0`.
fn whole_number(value: &Value) -> Option<i64> {
    if let Some(number) = value.as_i64() {
        return Some(number);
    }
    let number = value.as_f64()?;
    (number.fract() == 0.0 && number.abs() < 1e15).then_some(number as i64)
}

/// A short description of a JSON value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                format!("{:?}", format!("{short}…"))
            } else {
                format!("{s:?}")
            }
        }
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "findings": [
                {
                    "title": "[P1] Check the length before indexing",
                    "body": "`args[1]` panics when no argument is given.",
                    "confidence_score": 0.9,
                    "priority": 1,
                    "code_location": {
                        "absolute_file_path": "/repo/src/main.rs",
                        "line_range": {"start": 10, "end": 12}
                    }
                },
                {
                    "title": "[P3] Typo in the error message",
                    "body": "\"recieve\"",
                    "confidence_score": 0.5,
                    "priority": 3,
                    "code_location": {
                        "absolute_file_path": "/repo/src/lib.rs",
                        "line_range": {"start": 4, "end": 4}
                    }
                }
            ],
            "overall_correctness": "patch is incorrect",
            "overall_explanation": "Crashes without arguments.",
            "overall_confidence_score": 0.8
        })
    }

    fn expected() -> ReviewOutputEvent {
        serde_json::from_value(valid()).unwrap()
    }

    fn problems(value: Value) -> String {
        match parse_review_output(&value.to_string()) {
            Err(ReviewParseError::InvalidFields { problems }) => problems.join("; "),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn plain_json_parses() {
        assert_eq!(
            parse_review_output(&valid().to_string()).unwrap(),
            expected()
        );
        let pretty = serde_json::to_string_pretty(&valid()).unwrap();
        assert_eq!(
            parse_review_output(&format!("\n{pretty}\n")).unwrap(),
            expected()
        );
    }

    #[test]
    fn json_in_a_fence_parses() {
        let text = format!(
            "Here is my review:\n\n```json\n{}\n```\n\nLet me know.",
            serde_json::to_string_pretty(&valid()).unwrap()
        );
        assert_eq!(parse_review_output(&text).unwrap(), expected());
        let text = format!("```\n{}\n```", valid());
        assert_eq!(parse_review_output(&text).unwrap(), expected());
    }

    #[test]
    fn the_first_review_object_in_prose_parses() {
        // Braces inside strings and an unrelated object before the review must not confuse it.
        let mut review = valid();
        review["overall_explanation"] = json!("Uses {braces} and \"quotes\" {");
        let text = format!("I considered {{\"note\": 1}} first. Final answer: {review} Thanks!");
        let parsed = parse_review_output(&text).unwrap();
        assert_eq!(parsed.overall_explanation, "Uses {braces} and \"quotes\" {");
        assert_eq!(parsed.findings.len(), 2);
    }

    #[test]
    fn no_findings_is_a_valid_review() {
        let text = r#"{"findings": [], "overall_correctness": "patch is correct",
            "overall_explanation": "Fine.", "overall_confidence_score": 1}"#;
        let parsed = parse_review_output(text).unwrap();
        assert!(parsed.findings.is_empty());
        assert_eq!(parsed.overall_confidence_score, 1.0);
    }

    #[test]
    fn out_of_range_values_are_rejected_precisely() {
        let mut value = valid();
        value["findings"][1]["priority"] = json!(7);
        assert_eq!(problems(value), "finding 2: priority must be 0–3, got 7");

        let mut value = valid();
        value["findings"][0]["confidence_score"] = json!(1.5);
        value["overall_confidence_score"] = json!(-0.1);
        assert_eq!(
            problems(value),
            "overall_confidence_score must be between 0 and 1, got -0.1; \
             finding 1: confidence_score must be between 0 and 1, got 1.5"
        );

        let mut value = valid();
        value["findings"][0]["code_location"]["line_range"] = json!({"start": 12, "end": 10});
        assert_eq!(
            problems(value),
            "finding 1: code_location.line_range ends before it starts (12-10)"
        );

        let mut value = valid();
        value["findings"][0]["code_location"]["line_range"]["start"] = json!(0);
        assert_eq!(
            problems(value),
            "finding 1: code_location.line_range.start must be a line number (1 or more), got 0"
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_reported_not_guessed() {
        let mut value = valid();
        value["findings"][1]
            .as_object_mut()
            .unwrap()
            .remove("priority");
        value["findings"][0]["code_location"]["absolute_file_path"] = json!("src/main.rs");
        value.as_object_mut().unwrap().remove("overall_correctness");
        assert_eq!(
            problems(value),
            "overall_correctness is missing; \
             finding 1: code_location.absolute_file_path must be an absolute path, got \"src/main.rs\"; \
             finding 2: priority is missing"
        );

        let mut value = valid();
        value["findings"][0]["priority"] = json!("P1");
        value["findings"][1]["title"] = json!("  ");
        assert_eq!(
            problems(value),
            "finding 1: priority must be an integer 0–3, got \"P1\"; \
             finding 2: title must not be empty"
        );

        let value = json!({"overall_correctness": "patch is correct",
            "overall_explanation": "x", "overall_confidence_score": 0.5});
        assert_eq!(
            problems(value),
            "findings is missing (use [] when there are none)"
        );

        let value = json!({"findings": {"a": 1}, "overall_correctness": 3,
            "overall_explanation": "x", "overall_confidence_score": "high"});
        assert_eq!(
            problems(value),
            "overall_correctness must be a string, got 3; \
             overall_confidence_score must be a number between 0 and 1, got \"high\"; \
             findings must be an array, got an object"
        );
    }

    #[test]
    fn whole_floats_are_integers() {
        let mut value = valid();
        value["findings"][0]["priority"] = json!(2.0);
        value["findings"][0]["code_location"]["line_range"] = json!({"start": 3.0, "end": 4});
        let parsed = parse_review_output(&value.to_string()).unwrap();
        assert_eq!(parsed.findings[0].priority, 2);
        assert_eq!(parsed.findings[0].code_location.line_range.start, 3);
        let mut value = valid();
        value["findings"][0]["priority"] = json!(1.5);
        assert_eq!(
            problems(value),
            "finding 1: priority must be an integer 0–3, got 1.5"
        );
    }

    #[test]
    fn unusable_replies_say_why() {
        assert_eq!(parse_review_output("  \n"), Err(ReviewParseError::Empty));
        assert_eq!(
            parse_review_output("The patch looks fine to me."),
            Err(ReviewParseError::NoJsonObject {
                preview: "The patch looks fine to me.".into()
            })
        );
        let err = parse_review_output("```json\n{\"findings\": [,]}\n```").unwrap_err();
        assert!(
            matches!(err, ReviewParseError::MalformedJson { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("the reviewer's JSON is malformed: ")
        );
        let err = parse_review_output("[1, 2]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reviewer's output is invalid: expected a JSON object at the top level, got an array"
        );
        let err = parse_review_output("{\"result\": \"ok\"}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reviewer's output is invalid: overall_correctness is missing; \
             overall_explanation is missing; overall_confidence_score is missing; \
             findings is missing (use [] when there are none)"
        );
        let err = parse_review_output("Answer: {\"findings\": [}").unwrap_err();
        assert!(
            matches!(err, ReviewParseError::MalformedJson { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_long_problem_list_is_capped() {
        let findings: Vec<Value> = (0..10).map(|_| json!({})).collect();
        let value = json!({"findings": findings, "overall_correctness": "patch is correct",
            "overall_explanation": "x", "overall_confidence_score": 0.5});
        let err = parse_review_output(&value.to_string()).unwrap_err();
        let text = err.to_string();
        assert!(text.ends_with("; and 42 more"), "{text}");
        assert!(!text.contains('\n'));
    }
}
