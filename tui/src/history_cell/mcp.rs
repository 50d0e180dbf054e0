//! A tool call to an MCP server: what was called, its progress while running, then whether it
//! succeeded and the first lines of what it returned.

use std::time::Duration;

use codex_protocol::protocol::McpInvocation;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use serde_json::Value;

use super::HistoryCell;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

/// Result lines shown under a finished call; tool output can be long and the transcript is not
/// the place to read it in full.
const RESULT_LINES: usize = 5;
/// Arguments longer than this are cut: the call line should stay readable.
const MAX_ARGS_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq)]
pub enum McpCallStatus {
    Running {
        progress: Option<(f64, Option<f64>)>,
        message: Option<String>,
    },
    Succeeded {
        duration: Duration,
        output: String,
    },
    Failed {
        duration: Duration,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct McpCallCell {
    pub call_id: String,
    pub invocation: McpInvocation,
    pub status: McpCallStatus,
}

impl McpCallCell {
    pub fn new(call_id: String, invocation: McpInvocation) -> Self {
        Self {
            call_id,
            invocation,
            status: McpCallStatus::Running {
                progress: None,
                message: None,
            },
        }
    }

    pub fn set_progress(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        self.status = McpCallStatus::Running {
            progress: Some((progress, total)),
            message,
        };
    }

    pub fn finish(&mut self, duration: Duration, result: &Result<Value, String>, success: bool) {
        self.status = match result {
            Ok(value) if success => McpCallStatus::Succeeded {
                duration,
                output: result_text(value),
            },
            Ok(value) => McpCallStatus::Failed {
                duration,
                message: result_text(value),
            },
            Err(message) => McpCallStatus::Failed {
                duration,
                message: message.clone(),
            },
        };
    }

    fn call_text(&self) -> String {
        let args = match &self.invocation.arguments {
            None | Some(Value::Null) => String::new(),
            Some(value) => crate::wrapping::elide_end(&value.to_string(), MAX_ARGS_CHARS),
        };
        format!(
            "{}.{}({args})",
            self.invocation.server, self.invocation.tool
        )
    }
}

/// The text parts of a `CallToolResult`, else its structured content, else the raw JSON.
fn result_text(value: &Value) -> String {
    if let Some(content) = value.get("content").and_then(Value::as_array) {
        let texts: Vec<String> = content
            .iter()
            .map(|item| match item.get("text").and_then(Value::as_str) {
                Some(text) => text.to_string(),
                None => match item.get("type").and_then(Value::as_str) {
                    Some(kind) => format!("<{kind} content>"),
                    None => item.to_string(),
                },
            })
            .collect();
        if !texts.is_empty() {
            return texts.join("\n");
        }
    }
    if let Some(structured) = value
        .get("structuredContent")
        .or_else(|| value.get("structured_content"))
        .filter(|v| !v.is_null())
    {
        return structured.to_string();
    }
    value.to_string()
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.1}")
    }
}

fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

impl HistoryCell for McpCallCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let (bullet, verb, status, detail): (Span<'static>, &str, Vec<Span<'static>>, String) =
            match &self.status {
                McpCallStatus::Running { progress, message } => {
                    let mut status = Vec::new();
                    if let Some((done, total)) = progress {
                        let text = match total {
                            Some(total) => {
                                format!(" {}/{}", format_number(*done), format_number(*total))
                            }
                            None => format!(" {}", format_number(*done)),
                        };
                        status.push(text.dim());
                    }
                    (
                        "•".dim(),
                        "Calling",
                        status,
                        message.clone().unwrap_or_default(),
                    )
                }
                McpCallStatus::Succeeded { duration, output } => (
                    "•".green().bold(),
                    "Called",
                    vec![format!(" succeeded in {}", format_duration(*duration)).dim()],
                    output.clone(),
                ),
                McpCallStatus::Failed { duration, message } => (
                    "•".red().bold(),
                    "Called",
                    vec![format!(" failed in {}", format_duration(*duration)).red()],
                    message.clone(),
                ),
            };
        let mut spans = vec![format!("{verb} ").bold(), Span::raw(self.call_text())];
        spans.extend(status);
        let mut out = wrap_with_prefix(
            &[PrefixedLine::plain(Line::from(spans))],
            width,
            &Line::from(vec![bullet, " ".into()]),
            &Line::from("    "),
        );
        let detail_style = if matches!(self.status, McpCallStatus::Failed { .. }) {
            Style::new().red()
        } else {
            Style::new().dim()
        };
        let all: Vec<&str> = detail.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut lines: Vec<PrefixedLine> = all
            .iter()
            .take(RESULT_LINES)
            .map(|l| PrefixedLine::plain(Line::from(Span::styled(l.to_string(), detail_style))))
            .collect();
        if all.len() > RESULT_LINES {
            lines.push(PrefixedLine::plain(Line::from(
                format!("… +{} lines", all.len() - RESULT_LINES).dim(),
            )));
        }
        out.extend(wrap_with_prefix(
            &lines,
            width,
            &Line::from("  └ ".dim()),
            &Line::from("    "),
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_cell::tests::render;
    use serde_json::json;

    fn cell() -> McpCallCell {
        McpCallCell::new(
            "call-1".into(),
            McpInvocation {
                server: "docs".into(),
                tool: "search".into(),
                arguments: Some(json!({"query": "ratatui"})),
            },
        )
    }

    #[test]
    fn mcp_call_running_with_progress() {
        let mut c = cell();
        insta::assert_snapshot!("mcp_running", render(&c, 60));
        c.set_progress(2.0, Some(4.0), Some("fetching pages".into()));
        insta::assert_snapshot!("mcp_progress", render(&c, 60));
    }

    #[test]
    fn mcp_call_succeeded() {
        let mut c = cell();
        let result = Ok(json!({
            "content": [{"type": "text", "text": "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7"}],
            "isError": false
        }));
        c.finish(Duration::from_millis(42), &result, true);
        insta::assert_snapshot!(render(&c, 60));
    }

    #[test]
    fn mcp_call_failed() {
        let mut c = cell();
        c.finish(
            Duration::from_millis(1500),
            &Err("tool call timed out".to_string()),
            false,
        );
        insta::assert_snapshot!("mcp_failed_err", render(&c, 60));
        let mut c = cell();
        let result =
            Ok(json!({"content": [{"type": "text", "text": "no such index"}], "isError": true}));
        c.finish(Duration::from_millis(7), &result, false);
        insta::assert_snapshot!("mcp_failed_is_error", render(&c, 60));
    }
}
