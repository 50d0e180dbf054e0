//! `apply_patch`: verify a patch against disk, get it approved, apply it wholly or not at all.

use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::PatchApplyBeginEvent;
use codex_protocol::protocol::PatchApplyEndEvent;
use codex_protocol::protocol::ReviewDecision;

use super::ToolInvocation;
use super::ToolOutput;
use crate::apply_patch::apply_action;
use crate::apply_patch::verify_patch;
use crate::safety::SafetyCheck;
use crate::safety::assess_patch_safety;
use crate::safety::normalize;
use crate::tools::spec::APPLY_PATCH;
use codex_otel::ToolDecisionSource;

pub(super) async fn handle(inv: &ToolInvocation, call_id: &str, patch: &str) -> ToolOutput {
    let action = match verify_patch(patch, &inv.ctx.cwd) {
        Ok(action) => action,
        Err(err) => return ToolOutput::failure(format!("apply_patch verification failed: {err}")),
    };
    let paths: Vec<_> = action.paths().iter().map(|p| normalize(p)).collect();
    let check = assess_patch_safety(
        &paths,
        inv.ctx.approval_policy,
        &inv.ctx.sandbox_policy,
        &inv.ctx.cwd,
        &inv.sess.approved_patch_paths(),
    );
    let changes = action.file_changes();
    let otel = inv.ctx.client.otel();
    let mut sandboxed = false;
    let auto_approved = match check {
        SafetyCheck::AutoApprove {
            sandboxed: in_sandbox,
        } => {
            sandboxed = in_sandbox && crate::safety::PLATFORM_HAS_SANDBOX;
            otel.tool_decision(
                APPLY_PATCH,
                call_id,
                ReviewDecision::Approved,
                ToolDecisionSource::Config,
            );
            true
        }
        SafetyCheck::AskUser { reason } => {
            let decision = inv
                .sess
                .request_patch_approval(&inv.sub_id, call_id, changes.clone(), reason)
                .await;
            otel.tool_decision(APPLY_PATCH, call_id, decision, ToolDecisionSource::User);
            match decision {
                ReviewDecision::Approved => false,
                ReviewDecision::ApprovedForSession => {
                    inv.sess.approve_patch_paths_for_session(paths.clone());
                    false
                }
                ReviewDecision::Denied => {
                    return ToolOutput::failure("patch rejected by user");
                }
                ReviewDecision::Abort => return super::abort_turn(inv).await,
            }
        }
        SafetyCheck::Reject { reason } => {
            otel.tool_decision(
                APPLY_PATCH,
                call_id,
                ReviewDecision::Denied,
                ToolDecisionSource::Config,
            );
            return ToolOutput::failure(format!("patch rejected: {reason}"));
        }
    };

    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::PatchApplyBegin(PatchApplyBeginEvent {
            call_id: call_id.to_string(),
            auto_approved,
            changes,
        }),
    );
    if let Ok(mut tracker) = inv.turn_diff.lock() {
        tracker.on_patch_begin(&action);
    }
    // Auto-approved patches are written from inside the sandbox, like commands; a patch the
    // user approved explicitly is written as approved.
    let result = if sandboxed {
        apply_in_sandbox(inv, patch).await
    } else {
        match tokio::task::spawn_blocking(move || apply_action(&action).map_err(|e| e.to_string()))
            .await
        {
            Ok(result) => result,
            Err(join) => Err(format!("apply_patch stopped unexpectedly: {join}")),
        }
    };
    let (stdout, stderr, output) = match result {
        Ok(stdout) => (stdout.clone(), String::new(), ToolOutput::success(stdout)),
        Err(message) => (String::new(), message.clone(), ToolOutput::failure(message)),
    };
    inv.sess.send_event(
        &inv.sub_id,
        EventMsg::PatchApplyEnd(PatchApplyEndEvent {
            call_id: call_id.to_string(),
            stdout,
            stderr,
            success: output.success,
        }),
    );
    output
}

/// Applies `patch` by running this binary's apply-patch entry under the sandbox launcher.
async fn apply_in_sandbox(inv: &ToolInvocation, patch: &str) -> Result<String, String> {
    let exe = crate::sandbox::current_exe_for_sandbox().map_err(|e| {
        format!("cannot start the sandbox (the codex executable was not found: {e})")
    })?;
    let command = vec![
        exe.display().to_string(),
        crate::apply_patch::APPLY_PATCH_ARG.to_string(),
        patch.to_string(),
    ];
    let argv =
        crate::sandbox::sandboxed_argv(&exe, &inv.ctx.sandbox_policy, &inv.ctx.cwd, &command);
    let params = crate::exec::ExecParams {
        command: argv,
        cwd: inv.ctx.cwd.clone(),
        timeout: std::time::Duration::from_secs(60),
        env: crate::exec::create_env(&inv.sess.config.shell_environment_policy),
        network_disabled: true,
    };
    match crate::exec::run_command(params, inv.cancel.child_token(), None).await {
        Ok(output) if output.exit_code == 0 => Ok(output.stdout),
        Ok(output) => Err(format!("apply_patch failed: {}", output.stderr.trim())),
        Err(err) => Err(format!("apply_patch could not run: {err}")),
    }
}
