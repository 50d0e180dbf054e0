//! `update_plan`: the model keeps a visible to-do list; front-ends render `plan_update` events.

use codex_protocol::plan_tool::StepStatus;
use codex_protocol::plan_tool::UpdatePlanArgs;
use codex_protocol::protocol::EventMsg;

use super::ToolInvocation;
use super::ToolOutput;
use super::parse_arguments;

pub(super) fn handle(inv: &ToolInvocation, arguments: &str) -> ToolOutput {
    let args = match parse_arguments::<UpdatePlanArgs>(arguments) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let in_progress = args
        .plan
        .iter()
        .filter(|item| item.status == StepStatus::InProgress)
        .count();
    if in_progress > 1 {
        return ToolOutput::failure(format!(
            "at most one step can be in_progress at a time; the plan has {in_progress}"
        ));
    }
    inv.sess.send_event(&inv.sub_id, EventMsg::PlanUpdate(args));
    ToolOutput::success("Plan updated")
}
