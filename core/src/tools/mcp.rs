//! Calls to tools of MCP servers (`<server>__<tool>`): approval, begin/end events, the result as
//! the function output.

use std::time::Instant;

use codex_mcp_client::McpApproval;
use codex_mcp_client::McpToolInfo;
use codex_otel::ToolDecisionSource;
use codex_protocol::models::InputItem;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::McpInvocation;
use codex_protocol::protocol::McpToolCallBeginEvent;
use codex_protocol::protocol::McpToolCallEndEvent;
use codex_protocol::protocol::McpToolCallProgressEvent;
use codex_protocol::protocol::ReviewDecision;
use serde_json::Value;

use super::ToolInvocation;
use super::ToolOutput;

pub(super) async fn handle(
    inv: &ToolInvocation,
    call_id: &str,
    tool: &McpToolInfo,
    arguments: &str,
) -> ToolOutput {
    let arguments: Option<Value> = if arguments.trim().is_empty() {
        None
    } else {
        match serde_json::from_str(arguments) {
            Ok(value) => Some(value),
            Err(err) => {
                return ToolOutput::failure(format!("failed to parse function arguments: {err}"));
            }
        }
    };
    let otel = inv.ctx.client.otel();
    // `approval` per server; by default servers are not trusted on their read-only hint beyond
    // skipping the question under `untrusted`, and every other policy lets MCP tools run, as
    // Codex CLI does. "Approved for the session" covers the exact call shown.
    let approval = inv
        .sess
        .config
        .mcp_servers
        .get(&tool.server)
        .map(|server| server.approval)
        .unwrap_or_default();
    let ask = match approval {
        McpApproval::Always => true,
        McpApproval::Never => false,
        McpApproval::Auto => {
            inv.ctx.approval_policy == AskForApproval::UnlessTrusted && !tool.read_only_hint
        }
    };
    let mut command = vec!["mcp".to_string(), format!("{}.{}", tool.server, tool.tool)];
    if let Some(args) = &arguments {
        command.push(args.to_string());
    }
    if ask && !inv.sess.approved_commands().contains(&command) {
        let decision = inv
            .sess
            .request_command_approval(
                &inv.sub_id,
                call_id,
                &command,
                &inv.ctx.cwd,
                Some(format!(
                    "MCP tool `{}` of server `{}`",
                    tool.tool, tool.server
                )),
            )
            .await;
        otel.tool_decision(
            &tool.qualified_name,
            call_id,
            decision,
            ToolDecisionSource::User,
        );
        match decision {
            ReviewDecision::Approved => {}
            ReviewDecision::ApprovedForSession => inv.sess.approve_command_for_session(command),
            ReviewDecision::Denied => return ToolOutput::failure("MCP tool call rejected by user"),
            ReviewDecision::Abort => return super::abort_turn(inv).await,
        }
    } else {
        otel.tool_decision(
            &tool.qualified_name,
            call_id,
            ReviewDecision::Approved,
            ToolDecisionSource::Config,
        );
    }

    let invocation = McpInvocation {
        server: tool.server.clone(),
        tool: tool.tool.clone(),
        arguments: arguments.clone(),
    };
    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::McpToolCallBegin(McpToolCallBeginEvent {
            call_id: call_id.to_string(),
            invocation: invocation.clone(),
        }),
    );
    let started = Instant::now();
    let (tx_progress, mut rx_progress) = tokio::sync::mpsc::unbounded_channel();
    let call = inv.sess.mcp.call_tool_with_progress(
        &tool.server,
        &tool.tool,
        arguments,
        None,
        Some(tx_progress),
    );
    tokio::pin!(call);
    let result = loop {
        tokio::select! {
            biased;
            () = inv.cancel.cancelled() => return ToolOutput::failure(super::ABORTED_OUTPUT),
            Some(progress) = rx_progress.recv() => inv.sess.send_event(
                &inv.sub_id,
                EventMsg::McpToolCallProgress(McpToolCallProgressEvent {
                    call_id: call_id.to_string(),
                    progress: progress.progress,
                    total: progress.total,
                    message: progress.message,
                }),
            ),
            result = &mut call => break result,
        }
    };
    inv.sess.end_elicitations_of(&inv.sub_id, &tool.server);
    let output = match &result {
        Ok(result) => {
            let (content, success) = codex_mcp_client::to_function_output(result);
            // Images the tool returned reach the model as image input on its next request.
            let images = result.image_data_urls();
            if !images.is_empty() {
                let items = images
                    .into_iter()
                    .map(|image_url| InputItem::Image { image_url })
                    .collect();
                inv.sess
                    .queue_pending_input(crate::turn::response_item_from_input(items));
            }
            ToolOutput { content, success }
        }
        Err(err) => ToolOutput::failure(err.to_string()),
    };
    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::McpToolCallEnd(McpToolCallEndEvent {
            call_id: call_id.to_string(),
            invocation,
            duration: started.elapsed(),
            result: result
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                .map_err(|e| e.to_string()),
        }),
    );
    output
}
