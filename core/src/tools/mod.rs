//! Tools the model can call: their specs ([`spec`]), the parsing of calls out of model output, and
//! the dispatch of each call to its handler. Every call gets exactly one output item, whatever
//! happens: malformed arguments, unknown tools and failed runs all come back to the model as
//! tool errors, never as session failures.

mod apply_patch;
mod mcp;
mod plan;
mod shell;
pub(crate) mod spec;
mod view_image;

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

use codex_protocol::models::FunctionCallOutputPayload;
use codex_protocol::models::LocalShellAction;
use codex_protocol::models::ResponseItem;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::apply_patch::TurnDiffTracker;
use crate::codex::Session;
use crate::codex::TurnContext;

/// The output of a call that never ran, or whose approval ended the turn: the same text whether
/// the handler or the next request's clean-up answers it, so the model sees one story.
pub(crate) const ABORTED_OUTPUT: &str = "aborted";

/// A tool call taken out of a model output item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall {
    pub(crate) call_id: String,
    pub(crate) name: String,
    pub(crate) payload: ToolPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolPayload {
    /// A function tool: JSON arguments as the model wrote them (possibly malformed).
    Function { arguments: String },
    /// A freeform (custom) tool: raw text input.
    Custom { input: String },
    /// The Responses API's built-in `local_shell` tool.
    LocalShell { params: ShellParams },
}

/// Arguments of the `shell` tool (and of `local_shell` calls).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ShellParams {
    pub(crate) command: Vec<String>,
    #[serde(default)]
    pub(crate) workdir: Option<String>,
    #[serde(default)]
    pub(crate) timeout_ms: Option<u64>,
    #[serde(default)]
    pub(crate) with_escalated_permissions: Option<bool>,
    #[serde(default)]
    pub(crate) justification: Option<String>,
}

impl ToolCall {
    pub(crate) fn from_item(item: &ResponseItem) -> Option<ToolCall> {
        match item {
            ResponseItem::FunctionCall {
                name,
                arguments,
                call_id,
                ..
            } => Some(ToolCall {
                call_id: call_id.clone(),
                name: name.clone(),
                payload: ToolPayload::Function {
                    arguments: arguments.clone(),
                },
            }),
            ResponseItem::CustomToolCall {
                call_id,
                name,
                input,
                ..
            } => Some(ToolCall {
                call_id: call_id.clone(),
                name: name.clone(),
                payload: ToolPayload::Custom {
                    input: input.clone(),
                },
            }),
            ResponseItem::LocalShellCall { action, .. } => {
                let LocalShellAction::Exec(exec) = action;
                Some(ToolCall {
                    call_id: item.tool_call_id().unwrap_or_default().to_string(),
                    name: spec::SHELL.to_string(),
                    payload: ToolPayload::LocalShell {
                        params: ShellParams {
                            command: exec.command.clone(),
                            workdir: exec.working_directory.clone(),
                            timeout_ms: exec.timeout_ms,
                            with_escalated_permissions: None,
                            justification: None,
                        },
                    },
                })
            }
            _ => None,
        }
    }

    /// Whether this call may run alongside others (read-only, no approval prompts).
    pub(crate) fn is_parallel_safe(&self) -> bool {
        matches!(self.name.as_str(), spec::UPDATE_PLAN | spec::VIEW_IMAGE)
    }

    /// The output item answering this call, shaped like the call (function vs custom).
    pub(crate) fn output_item(&self, output: ToolOutput) -> ResponseItem {
        match self.payload {
            ToolPayload::Custom { .. } => ResponseItem::CustomToolCallOutput {
                call_id: self.call_id.clone(),
                output: output.content,
            },
            ToolPayload::Function { .. } | ToolPayload::LocalShell { .. } => {
                ResponseItem::FunctionCallOutput {
                    call_id: self.call_id.clone(),
                    output: FunctionCallOutputPayload {
                        content: output.content,
                        success: Some(output.success),
                    },
                }
            }
        }
    }

    /// The output given to a call that never ran because its turn was interrupted.
    pub(crate) fn aborted_output(item: &ResponseItem) -> Option<ResponseItem> {
        let call = ToolCall::from_item(item)?;
        Some(call.output_item(ToolOutput::failure(ABORTED_OUTPUT)))
    }
}

/// What a handler hands back to the model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolOutput {
    pub(crate) content: String,
    pub(crate) success: bool,
}

impl ToolOutput {
    pub(crate) fn success(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            success: true,
        }
    }

    pub(crate) fn failure(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            success: false,
        }
    }
}

/// Everything a handler may use: the session, the turn's settings and the task's shared state.
#[derive(Clone)]
pub(crate) struct ToolInvocation {
    pub(crate) sess: Arc<Session>,
    pub(crate) ctx: Arc<TurnContext>,
    pub(crate) sub_id: String,
    pub(crate) cancel: CancellationToken,
    pub(crate) turn_diff: Arc<Mutex<TurnDiffTracker>>,
}

impl ToolInvocation {
    /// Resolves a path the model gave against the turn's cwd (never the process cwd).
    pub(crate) fn resolve_path(&self, path: Option<&str>) -> PathBuf {
        match path {
            Some(p) if !p.is_empty() => {
                let p = Path::new(p);
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.ctx.cwd.join(p)
                }
            }
            _ => self.ctx.cwd.clone(),
        }
    }
}

/// The answer to an approval the user aborted. The session interrupts the turn right after
/// delivering `Abort`; waiting for that keeps this call from finishing, and the turn from sampling
/// the model again, before the interrupt lands ([`dispatch`] then withholds the output).
async fn abort_turn(inv: &ToolInvocation) -> ToolOutput {
    inv.cancel.cancelled().await;
    ToolOutput::failure(ABORTED_OUTPUT)
}

/// Runs one call and returns its output item.
///
/// Once the turn is cancelled the output is withheld and this never returns: the task is being
/// torn down (which drops this future), and an output appearing now could only race that teardown
/// into one more model request. The next request's clean-up answers the call with "aborted".
/// Handlers still see the cancellation themselves, so they stop and clean up first.
pub(crate) async fn dispatch(inv: ToolInvocation, call: ToolCall) -> ResponseItem {
    let cancel = inv.cancel.clone();
    let item = run_call(inv, call).await;
    if cancel.is_cancelled() {
        std::future::pending::<()>().await;
    }
    item
}

async fn run_call(inv: ToolInvocation, call: ToolCall) -> ResponseItem {
    let started = std::time::Instant::now();
    let output = handle_call(&inv, &call).await;
    let arguments = match &call.payload {
        ToolPayload::Function { arguments } => arguments.clone(),
        ToolPayload::Custom { input } => input.clone(),
        ToolPayload::LocalShell { params } => serde_json::json!({
            "command": params.command,
            "workdir": params.workdir,
            "timeout_ms": params.timeout_ms,
        })
        .to_string(),
    };
    inv.ctx.client.otel().tool_result(
        &call.name,
        &call.call_id,
        &arguments,
        started.elapsed(),
        output.success,
        &output.content,
    );
    call.output_item(output)
}

async fn handle_call(inv: &ToolInvocation, call: &ToolCall) -> ToolOutput {
    let inv = inv.clone();
    match (&call.name[..], &call.payload) {
        (spec::SHELL, ToolPayload::LocalShell { params }) => {
            shell::handle(&inv, &call.call_id, params.clone()).await
        }
        (spec::SHELL, ToolPayload::Function { arguments }) => {
            match parse_arguments::<ShellParams>(arguments) {
                Ok(params) => shell::handle(&inv, &call.call_id, params).await,
                Err(err) => err,
            }
        }
        (spec::APPLY_PATCH, ToolPayload::Custom { input }) => {
            apply_patch::handle(&inv, &call.call_id, input).await
        }
        (spec::APPLY_PATCH, ToolPayload::Function { arguments }) => {
            #[derive(Deserialize)]
            struct Args {
                input: String,
            }
            match parse_arguments::<Args>(arguments) {
                Ok(args) => apply_patch::handle(&inv, &call.call_id, &args.input).await,
                Err(err) => err,
            }
        }
        (spec::UPDATE_PLAN, ToolPayload::Function { arguments }) => plan::handle(&inv, arguments),
        (spec::VIEW_IMAGE, ToolPayload::Function { arguments }) => {
            view_image::handle(&inv, arguments)
        }
        (name, ToolPayload::Function { arguments }) => {
            let tools = inv.sess.mcp_tools().await;
            match tools.iter().find(|tool| tool.qualified_name == name) {
                Some(tool) => mcp::handle(&inv, &call.call_id, tool, arguments).await,
                None => ToolOutput::failure(format!("unsupported call: {name}")),
            }
        }
        (name, _) => ToolOutput::failure(format!("unsupported call: {name}")),
    }
}

/// The function spec the model sees for an MCP tool.
pub(crate) fn mcp_tool_spec(tool: &codex_mcp_client::McpToolInfo) -> serde_json::Value {
    serde_json::json!({
        "type": "function",
        "name": tool.qualified_name,
        "description": tool.description,
        "strict": false,
        "parameters": tool.input_schema,
    })
}

fn parse_arguments<T: serde::de::DeserializeOwned>(arguments: &str) -> Result<T, ToolOutput> {
    serde_json::from_str(arguments)
        .map_err(|err| ToolOutput::failure(format!("failed to parse function arguments: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::models::LocalShellExecAction;
    use codex_protocol::models::LocalShellStatus;

    #[test]
    fn calls_are_parsed_from_every_call_item_kind() {
        let function = ResponseItem::FunctionCall {
            id: None,
            name: "shell".into(),
            arguments: "{}".into(),
            call_id: "c1".into(),
        };
        let call = ToolCall::from_item(&function).unwrap();
        assert_eq!(call.call_id, "c1");
        assert!(matches!(
            call.output_item(ToolOutput::success("x")),
            ResponseItem::FunctionCallOutput { .. }
        ));

        let custom = ResponseItem::CustomToolCall {
            id: None,
            status: None,
            call_id: "c2".into(),
            name: "apply_patch".into(),
            input: "patch".into(),
        };
        assert!(matches!(
            ToolCall::aborted_output(&custom),
            Some(ResponseItem::CustomToolCallOutput { output, .. }) if output == "aborted"
        ));

        let local = ResponseItem::LocalShellCall {
            id: Some("ls1".into()),
            call_id: None,
            status: LocalShellStatus::Completed,
            action: LocalShellAction::Exec(LocalShellExecAction {
                command: vec!["ls".into()],
                timeout_ms: None,
                working_directory: None,
                env: None,
                user: None,
            }),
        };
        let call = ToolCall::from_item(&local).unwrap();
        assert_eq!(call.call_id, "ls1");
        assert_eq!(call.name, "shell");
        assert!(ToolCall::from_item(&ResponseItem::assistant_text("hi")).is_none());
    }

    #[test]
    fn malformed_arguments_become_a_tool_error() {
        let err = parse_arguments::<ShellParams>("{not json").unwrap_err();
        assert!(!err.success);
        assert!(
            err.content
                .starts_with("failed to parse function arguments")
        );
        let err = parse_arguments::<ShellParams>("{\"command\": \"ls\"}").unwrap_err();
        assert!(err.content.contains("invalid type"), "{}", err.content);
    }
}
