//! Review findings as SARIF 2.1.0, the format code hosts and CI systems read static-analysis
//! results from (code-scanning alerts, pull-request annotations).
//!
//! One result per finding. The rule of a result is its priority (`P0`…`P3`), because that is
//! the only classification a review has and it maps directly onto SARIF's `level`.

use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::ReviewFinding;
use codex_protocol::protocol::ReviewOutputEvent;
use serde_json::Value;
use serde_json::json;

use super::MAX_PRIORITY;
use super::MIN_PRIORITY;
use super::finding_title;

/// `$schema` of the logs we write: the OASIS-published SARIF 2.1.0 schema.
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `tool.driver.informationUri`: where users of a SARIF viewer can read about the tool. This
/// project implements Codex CLI's interface, whose documentation lives there.
pub const SARIF_INFORMATION_URI: &str = "https://github.com/openai/codex";

/// The base id relative result paths are resolved against (`originalUriBaseIds`).
const SRCROOT: &str = "%SRCROOT%";

/// What each priority means, shown by SARIF viewers as the rule's description.
const PRIORITY_RULES: [(&str, &str); 4] = [
    (
        "Blocking: breaks the build, loses data or opens a security hole; fix immediately.",
        "error",
    ),
    (
        "Urgent: a real bug users will hit; fix before merging.",
        "error",
    ),
    (
        "Normal: a bug in a less common path or with a workaround; fix soon.",
        "warning",
    ),
    ("Low: a minor defect worth fixing when convenient.", "note"),
];

/// A SARIF 2.1.0 log with one run by `codex` (`tool_version`) holding one result per finding.
///
/// Paths inside `root` (usually the repository root or the working directory) become relative
/// URIs with `uriBaseId` `%SRCROOT%`, which `originalUriBaseIds` maps back to `root`; other
/// paths stay absolute `file://` URIs. The verdict goes into the run's `properties`.
pub fn to_sarif(output: &ReviewOutputEvent, tool_version: &str, root: &Path) -> Value {
    let rules: Vec<Value> = PRIORITY_RULES
        .iter()
        .enumerate()
        .map(|(priority, (description, level))| {
            json!({
                "id": rule_id(priority as i32),
                "name": format!("ReviewPriority{priority}"),
                "shortDescription": {"text": format!("P{priority} review finding")},
                "fullDescription": {"text": description},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    let results: Vec<Value> = output
        .findings
        .iter()
        .map(|finding| result(finding, root))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "codex",
                    "version": tool_version,
                    "informationUri": SARIF_INFORMATION_URI,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                SRCROOT: {"uri": directory_uri(root)}
            },
            "results": results,
            "properties": {
                "overall_correctness": output.overall_correctness,
                "overall_explanation": output.overall_explanation,
                "overall_confidence_score": round_score(output.overall_confidence_score),
            }
        }]
    })
}

fn result(finding: &ReviewFinding, root: &Path) -> Value {
    let priority = finding.priority.clamp(MIN_PRIORITY, MAX_PRIORITY);
    let title = finding_title(finding);
    let body = finding.body.trim();
    let text = if body.is_empty() {
        title.to_string()
    } else {
        format!("{title}\n\n{body}")
    };
    let path = &finding.code_location.absolute_file_path;
    let artifact = match relative_to(path, root) {
        Some(relative) => json!({"uri": encode_path(&relative), "uriBaseId": SRCROOT}),
        None => json!({"uri": file_uri(path)}),
    };
    let range = finding.code_location.line_range;
    let start = range.start.max(1);
    json!({
        "ruleId": rule_id(priority),
        "ruleIndex": priority,
        "level": PRIORITY_RULES[priority as usize].1,
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact,
                "region": {"startLine": start, "endLine": range.end.max(start)},
            }
        }],
        "properties": {
            "priority": finding.priority,
            "confidence_score": round_score(finding.confidence_score),
        }
    })
}

fn rule_id(priority: i32) -> String {
    format!("P{priority}")
}

/// An `f32` score as the short decimal it was written as (0.8, not 0.800000011920929).
fn round_score(score: f32) -> Value {
    score
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(|value| serde_json::Number::from_f64(value).map(Value::Number))
        .unwrap_or(Value::Null)
}

/// `path` relative to `root` when it lies inside it, also when one of them is reached through a
/// symlink.
fn relative_to(path: &Path, root: &Path) -> Option<PathBuf> {
    if let Ok(relative) = path.strip_prefix(root) {
        return Some(relative.to_path_buf());
    }
    let path = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    path.strip_prefix(root).ok().map(Path::to_path_buf)
}

fn file_uri(path: &Path) -> String {
    let encoded = encode_path(path);
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

/// `file://` URI of a directory, ending in `/` as `originalUriBaseIds` requires.
fn directory_uri(dir: &Path) -> String {
    let mut uri = file_uri(dir);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes a path for a URI: unreserved characters and `/` stay, everything else
/// (spaces, `%`, `#`, `?`, non-ASCII bytes) is escaped. Windows separators become `/`.
fn encode_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use codex_protocol::protocol::ReviewCodeLocation;
    use codex_protocol::protocol::ReviewLineRange;
    use pretty_assertions::assert_eq;

    use super::*;

    fn finding(title: &str, priority: i32, path: &str) -> ReviewFinding {
        ReviewFinding {
            title: title.into(),
            body: "Why it breaks.".into(),
            confidence_score: 0.8,
            priority,
            code_location: ReviewCodeLocation {
                absolute_file_path: PathBuf::from(path),
                line_range: ReviewLineRange { start: 3, end: 7 },
            },
        }
    }

    fn output(findings: Vec<ReviewFinding>) -> ReviewOutputEvent {
        ReviewOutputEvent {
            findings,
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "It breaks.".into(),
            overall_confidence_score: 0.7,
        }
    }

    #[test]
    fn one_result_per_finding_with_level_from_priority() {
        let log = to_sarif(
            &output(vec![
                finding("[P0] Zero", 0, "/repo/src/a.rs"),
                finding("[P1] One", 1, "/repo/src/a.rs"),
                finding("[P2] Two", 2, "/repo/my file#1.rs"),
                finding("[P3] Three", 3, "/elsewhere/c.rs"),
            ]),
            "1.2.3",
            Path::new("/repo"),
        );
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SARIF_SCHEMA_URI);
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "codex", "{run:#}");
        assert_eq!(run["tool"]["driver"]["version"], "1.2.3");
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 4);
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///repo/"
        );
        let levels: Vec<&str> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["error", "error", "warning", "note"]);
        let first = &run["results"][0];
        assert_eq!(
            first,
            &json!({
                "ruleId": "P0",
                "ruleIndex": 0,
                "level": "error",
                "message": {"text": "Zero\n\nWhy it breaks."},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "src/a.rs", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 3, "endLine": 7}
                }}],
                "properties": {"priority": 0, "confidence_score": 0.8}
            })
        );
        assert_eq!(
            run["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "my%20file%231.rs"
        );
        assert_eq!(
            run["results"][3]["locations"][0]["physicalLocation"]["artifactLocation"],
            json!({"uri": "file:///elsewhere/c.rs"})
        );
        assert_eq!(
            run["properties"],
            json!({"overall_correctness": "patch is incorrect",
                "overall_explanation": "It breaks.", "overall_confidence_score": 0.7})
        );
    }

    #[test]
    fn no_findings_is_an_empty_result_list() {
        let log = to_sarif(&output(Vec::new()), "0.1.0", Path::new("/repo"));
        assert_eq!(log["runs"][0]["results"], json!([]));
    }

    #[test]
    fn out_of_range_values_are_clamped_into_valid_sarif() {
        let mut odd = finding("Odd", 9, "/repo/x.rs");
        odd.code_location.line_range = ReviewLineRange { start: 0, end: 0 };
        let log = to_sarif(&output(vec![odd]), "0.1.0", Path::new("/repo/"));
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["level"], "note");
        assert_eq!(result["ruleId"], "P3");
        assert_eq!(result["properties"]["priority"], 9);
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 1, "endLine": 1})
        );
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_path(Path::new("a b/ü%.rs")), "a%20b/%C3%BC%25.rs");
        assert_eq!(file_uri(Path::new("/x y")), "file:///x%20y");
        assert_eq!(directory_uri(Path::new("/r")), "file:///r/");
    }
}
