//! `shell`: run a command under the approval policy, streaming its output as events.

use std::path::Path;
use std::time::Duration;

use codex_protocol::protocol::AskForApproval;
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
use crate::sandbox;
use crate::tools::spec::SHELL;
use codex_otel::ToolDecisionSource;

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
    let otel = inv.ctx.client.otel();
    let sandboxed = match check {
        SafetyCheck::AutoApprove { sandboxed } => {
            otel.tool_decision(
                SHELL,
                call_id,
                ReviewDecision::Approved,
                ToolDecisionSource::Config,
            );
            sandboxed
        }
        SafetyCheck::AskUser { reason } => {
            let decision = inv
                .sess
                .request_command_approval(&inv.sub_id, call_id, &params.command, &cwd, reason)
                .await;
            otel.tool_decision(SHELL, call_id, decision, ToolDecisionSource::User);
            match decision {
                ReviewDecision::Approved => {}
                ReviewDecision::ApprovedForSession => {
                    inv.sess.approve_command_for_session(params.command.clone());
                }
                ReviewDecision::Denied => {
                    return ToolOutput::failure("exec command rejected by user");
                }
                ReviewDecision::Abort => return super::abort_turn(inv).await,
            }
            // The user looked at this exact command and let it run as it is.
            false
        }
        SafetyCheck::Reject { reason } => {
            otel.tool_decision(
                SHELL,
                call_id,
                ReviewDecision::Denied,
                ToolDecisionSource::Config,
            );
            return ToolOutput::failure(format!("exec command rejected: {reason}"));
        }
    };

    let timeout = Duration::from_millis(params.timeout_ms.unwrap_or(DEFAULT_EXEC_TIMEOUT_MS));
    let mut result = run_once(inv, call_id, &params.command, &cwd, timeout, sandboxed).await;
    if let Ok(output) = &result
        && sandboxed
        && output.exit_code != 0
        && sandbox::is_likely_sandbox_denial(output.exit_code, &output.stderr)
        && matches!(
            inv.ctx.approval_policy,
            AskForApproval::OnFailure | AskForApproval::UnlessTrusted
        )
    {
        let decision = inv
            .sess
            .request_command_approval(
                &inv.sub_id,
                call_id,
                &params.command,
                &cwd,
                Some("command failed in the sandbox; retry without it?".to_string()),
            )
            .await;
        otel.tool_decision(SHELL, call_id, decision, ToolDecisionSource::User);
        match decision {
            ReviewDecision::Approved | ReviewDecision::ApprovedForSession => {
                if decision == ReviewDecision::ApprovedForSession {
                    inv.sess.approve_command_for_session(params.command.clone());
                }
                result = run_once(inv, call_id, &params.command, &cwd, timeout, false).await;
            }
            ReviewDecision::Denied => {}
            ReviewDecision::Abort => return super::abort_turn(inv).await,
        }
    }

    match result {
        Ok(output) => {
            let content = json!({
                "output": output.formatted,
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
        Err(output) => output,
    }
}

/// What one run of a command left, as far as the handler needs it.
struct RunOutcome {
    exit_code: i32,
    stderr: String,
    duration: Duration,
    /// What the model sees (head and tail of long output).
    formatted: String,
}

/// Runs the command once (inside the sandbox when `sandboxed`), bracketed by exec begin/end events
/// with its output streamed in between. `Err` is the tool output for a run that never finished.
async fn run_once(
    inv: &ToolInvocation,
    call_id: &str,
    command: &[String],
    cwd: &Path,
    timeout: Duration,
    sandboxed: bool,
) -> std::result::Result<RunOutcome, ToolOutput> {
    let argv = if sandboxed {
        match sandbox::current_exe_for_sandbox() {
            Ok(exe) => sandbox::sandboxed_argv(&exe, &inv.ctx.sandbox_policy, cwd, command),
            Err(err) => {
                return Err(ToolOutput::failure(format!(
                    "cannot start the sandbox (the codex executable was not found: {err})"
                )));
            }
        }
    } else {
        command.to_vec()
    };
    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
            call_id: call_id.to_string(),
            command: command.to_vec(),
            cwd: cwd.to_path_buf(),
            parsed_cmd: exec::parse_command(command),
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
        command: argv,
        cwd: cwd.to_path_buf(),
        timeout,
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
            Ok(RunOutcome {
                exit_code: output.exit_code,
                stderr: output.stderr,
                duration: output.duration,
                formatted,
            })
        }
        // Interrupted: the task is being torn down and its events already say so.
        Err(err) if err.kind() == std::io::ErrorKind::Interrupted && inv.cancel.is_cancelled() => {
            Err(ToolOutput::failure(super::ABORTED_OUTPUT))
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
            Err(ToolOutput::failure(message))
        }
    }
}
