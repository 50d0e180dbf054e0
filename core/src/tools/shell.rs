//! `shell`: run a command under the approval policy, streaming its output as events.

use std::time::Duration;

use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::ExecCommandBeginEvent;
use codex_protocol::protocol::ExecCommandEndEvent;
use codex_protocol::protocol::ExecCommandOutputDeltaEvent;
use codex_protocol::protocol::ReviewDecision;
use serde_json::json;

use super::ShellParams;
use super::ToolInvocation;
use super::ToolOutput;
use crate::exec;
use crate::exec::DEFAULT_EXEC_TIMEOUT_MS;
use crate::exec::ExecParams;
use crate::safety::SafetyCheck;
use crate::safety::assess_command_safety;

pub(super) async fn handle(inv: &ToolInvocation, call_id: &str, params: ShellParams) -> ToolOutput {
    if params.command.is_empty() {
        return ToolOutput::failure("command must not be empty");
    }
    if let Some(patch) = crate::apply_patch::maybe_extract_patch_from_shell(&params.command) {
        return super::apply_patch::handle(inv, call_id, &patch).await;
    }
    let cwd = inv.resolve_path(params.workdir.as_deref());
    let escalation = params.with_escalated_permissions.unwrap_or(false).then(|| {
        params
            .justification
            .clone()
            .unwrap_or_else(|| "the model asked to run without the sandbox".to_string())
    });
    let check = assess_command_safety(
        &params.command,
        inv.ctx.approval_policy,
        &inv.ctx.sandbox_policy,
        &inv.sess.approved_commands(),
        escalation.as_deref(),
    );
    match check {
        SafetyCheck::AutoApprove => {}
        SafetyCheck::AskUser { reason } => {
            let decision = inv
                .sess
                .request_command_approval(&inv.sub_id, call_id, &params.command, &cwd, reason)
                .await;
            match decision {
                ReviewDecision::Approved => {}
                ReviewDecision::ApprovedForSession => {
                    inv.sess.approve_command_for_session(params.command.clone());
                }
                ReviewDecision::Denied | ReviewDecision::Abort => {
                    return ToolOutput::failure("exec command rejected by user");
                }
            }
        }
        SafetyCheck::Reject { reason } => {
            return ToolOutput::failure(format!("exec command rejected: {reason}"));
        }
    }

    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
            call_id: call_id.to_string(),
            command: params.command.clone(),
            cwd: cwd.clone(),
            parsed_cmd: exec::parse_command(&params.command),
        }),
    );

    let (tx_chunk, mut rx_chunk) = tokio::sync::mpsc::unbounded_channel();
    let forwarder = {
        let sess = std::sync::Arc::clone(&inv.sess);
        let sub_id = inv.sub_id.clone();
        let call_id = call_id.to_string();
        tokio::spawn(async move {
            while let Some((stream, chunk)) = rx_chunk.recv().await {
                sess.send_event(
                    &sub_id,
                    EventMsg::ExecCommandOutputDelta(ExecCommandOutputDeltaEvent {
                        call_id: call_id.clone(),
                        stream,
                        chunk,
                    }),
                );
            }
        })
    };
    let exec_params = ExecParams {
        command: params.command.clone(),
        cwd,
        timeout: Duration::from_millis(params.timeout_ms.unwrap_or(DEFAULT_EXEC_TIMEOUT_MS)),
        env: exec::create_env(&inv.sess.config.shell_environment_policy),
        network_disabled: !inv.ctx.sandbox_policy.has_full_network_access(),
    };
    let result = exec::run_command(exec_params, inv.cancel.child_token(), Some(tx_chunk)).await;
    // The sender went away with run_command, so the forwarder drains what is left and stops.
    let _ = forwarder.await;

    match result {
        Ok(output) => {
            let formatted = exec::format_output_for_model(&output);
            inv.sess.send_event(
                &inv.sub_id,
                EventMsg::ExecCommandEnd(ExecCommandEndEvent {
                    call_id: call_id.to_string(),
                    stdout: output.stdout.clone(),
                    stderr: output.stderr.clone(),
                    aggregated_output: output.aggregated_output.clone(),
                    exit_code: output.exit_code,
                    duration: output.duration,
                    formatted_output: formatted.clone(),
                }),
            );
            let content = json!({
                "output": formatted,
                "metadata": {
                    "exit_code": output.exit_code,
                    "duration_seconds": (output.duration.as_secs_f64() * 10.0).round() / 10.0,
                },
            });
            ToolOutput {
                content: content.to_string(),
                success: output.exit_code == 0,
            }
        }
        Err(err) => {
            let message = format!("failed to run command: {err}");
            inv.sess.send_event(
                &inv.sub_id,
                EventMsg::ExecCommandEnd(ExecCommandEndEvent {
                    call_id: call_id.to_string(),
                    stdout: String::new(),
                    stderr: message.clone(),
                    aggregated_output: message.clone(),
                    exit_code: -1,
                    duration: Duration::ZERO,
                    formatted_output: message.clone(),
                }),
            );
            ToolOutput::failure(message)
        }
    }
}
