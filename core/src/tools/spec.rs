//! The tool list offered to the model, in a fixed order so the prompt prefix stays cacheable:
//! shell → update_plan → apply_patch → web_search → view_image (MCP tools follow, added per
//! request by the turn loop), the order Codex CLI uses.

use codex_protocol::protocol::AskForApproval;
use serde_json::Value;
use serde_json::json;

use crate::apply_patch;
use crate::model_provider_info::WireApi;

pub(crate) const SHELL: &str = "shell";
pub(crate) const UPDATE_PLAN: &str = "update_plan";
pub(crate) const APPLY_PATCH: &str = "apply_patch";
pub(crate) const VIEW_IMAGE: &str = "view_image";

/// How `apply_patch` is offered: as a freeform (custom, grammar-constrained) tool where the model
/// family supports it, else as a function taking the patch text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApplyPatchToolType {
    Freeform,
    Function,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolsConfig {
    pub(crate) apply_patch: ApplyPatchToolType,
    /// Offer `with_escalated_permissions` / `justification` on the shell tool.
    pub(crate) shell_escalation: bool,
    pub(crate) view_image: bool,
    /// The Responses API's built-in `{"type": "web_search"}`; the model searches server-side and
    /// reports `web_search_call` items, so there is no handler here.
    pub(crate) web_search: bool,
}

impl ToolsConfig {
    pub(crate) fn new(
        model: &str,
        wire_api: WireApi,
        approval_policy: AskForApproval,
        web_search_requested: bool,
    ) -> Self {
        // Custom tools exist only in the Responses API, and only GPT-5-era models use them well.
        let freeform = wire_api == WireApi::Responses
            && (model.starts_with("gpt-5") || model.starts_with("codex-"));
        Self {
            apply_patch: if freeform {
                ApplyPatchToolType::Freeform
            } else {
                ApplyPatchToolType::Function
            },
            shell_escalation: approval_policy == AskForApproval::OnRequest,
            view_image: true,
            // Chat Completions has no built-in tools; the request would be rejected or ignored.
            web_search: web_search_requested && wire_api == WireApi::Responses,
        }
    }

    /// The tools as Responses API JSON, in their fixed order.
    pub(crate) fn specs(&self) -> Vec<Value> {
        let mut tools = vec![shell_spec(self.shell_escalation), update_plan_spec()];
        tools.push(match self.apply_patch {
            ApplyPatchToolType::Freeform => json!({
                "type": "custom",
                "name": APPLY_PATCH,
                "description": "Use the `apply_patch` tool to edit files. This is a FREEFORM tool: send the patch text itself, not JSON.",
                "format": {"type": "grammar", "syntax": "lark", "definition": apply_patch::lark_grammar()},
            }),
            ApplyPatchToolType::Function => json!({
                "type": "function",
                "name": APPLY_PATCH,
                "description": apply_patch::APPLY_PATCH_TOOL_INSTRUCTIONS,
                "strict": false,
                "parameters": {
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "The entire contents of the apply_patch command"}},
                    "required": ["input"],
                    "additionalProperties": false,
                },
            }),
        });
        if self.web_search {
            tools.push(json!({"type": "web_search"}));
        }
        if self.view_image {
            tools.push(json!({
                "type": "function",
                "name": VIEW_IMAGE,
                "description": "Attach a local image (by filesystem path) to the conversation context for this turn.",
                "strict": false,
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string", "description": "Local filesystem path to an image file"}},
                    "required": ["path"],
                    "additionalProperties": false,
                },
            }));
        }
        tools
    }
}

fn shell_spec(escalation: bool) -> Value {
    let mut properties = json!({
        "command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute, as argv (e.g. [\"bash\", \"-lc\", \"ls -la\"])"},
        "workdir": {"type": "string", "description": "The working directory to execute the command in (relative to the session's cwd)"},
        "timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds (default 10000)"},
    });
    if escalation {
        properties["with_escalated_permissions"] = json!({
            "type": "boolean",
            "description": "Whether to request escalated permissions. Set to true if the command needs to run without sandbox restrictions",
        });
        properties["justification"] = json!({
            "type": "string",
            "description": "Only set if with_escalated_permissions is true. 1-sentence explanation of why we want to run this command.",
        });
    }
    json!({
        "type": "function",
        "name": SHELL,
        "description": "Runs a shell command and returns its output.",
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": ["command"],
            "additionalProperties": false,
        },
    })
}

fn update_plan_spec() -> Value {
    json!({
        "type": "function",
        "name": UPDATE_PLAN,
        "description": "Updates the task plan.\nProvide an optional explanation and a list of plan items, each with a step and status.\nAt most one step can be in_progress at a time.",
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": {
                "explanation": {"type": "string"},
                "plan": {
                    "type": "array",
                    "description": "The list of steps",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string", "description": "One of: pending, in_progress, completed"},
                        },
                        "required": ["step", "status"],
                        "additionalProperties": false,
                    },
                },
            },
            "required": ["plan"],
            "additionalProperties": false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tools: &[Value]) -> Vec<&str> {
        tools
            .iter()
            .map(|t| t["name"].as_str().unwrap_or(""))
            .collect()
    }

    #[test]
    fn order_is_fixed_and_variant_follows_model_and_wire_api() {
        let freeform = ToolsConfig::new(
            "gpt-5-codex",
            WireApi::Responses,
            AskForApproval::Never,
            false,
        );
        let specs = freeform.specs();
        assert_eq!(
            names(&specs),
            vec![SHELL, UPDATE_PLAN, APPLY_PATCH, VIEW_IMAGE]
        );
        assert_eq!(specs[2]["type"], "custom");
        assert!(
            specs[0]["parameters"]["properties"]
                .get("justification")
                .is_none()
        );

        let chat = ToolsConfig::new(
            "gpt-5-codex",
            WireApi::Chat,
            AskForApproval::OnRequest,
            false,
        );
        let specs = chat.specs();
        assert_eq!(specs[2]["type"], "function");
        assert!(specs[0]["parameters"]["properties"]["justification"].is_object());
        // Same config → byte-identical JSON (prompt caching).
        assert_eq!(
            serde_json::to_string(&chat.specs()).unwrap_or_default(),
            serde_json::to_string(&specs).unwrap_or_default()
        );
    }

    #[test]
    fn web_search_sits_between_apply_patch_and_view_image_on_responses_only() {
        let specs = ToolsConfig::new(
            "gpt-5-codex",
            WireApi::Responses,
            AskForApproval::Never,
            true,
        )
        .specs();
        assert_eq!(
            names(&specs),
            vec![SHELL, UPDATE_PLAN, APPLY_PATCH, "", VIEW_IMAGE]
        );
        assert_eq!(specs[3], json!({"type": "web_search"}));

        let chat = ToolsConfig::new("gpt-5-codex", WireApi::Chat, AskForApproval::Never, true);
        assert!(!chat.web_search);
        assert!(!chat.specs().iter().any(|tool| tool["type"] == "web_search"));
    }
}
