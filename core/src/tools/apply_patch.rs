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
    let auto_approved = match check {
        SafetyCheck::AutoApprove { .. } => {
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
    let result =
        match tokio::task::spawn_blocking(move || apply_action(&action).map_err(|e| e.to_string()))
            .await
        {
            Ok(result) => result,
            Err(join) => Err(format!("apply_patch stopped unexpectedly: {join}")),
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
