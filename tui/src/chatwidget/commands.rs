//! Slash commands: what each one does to the chat.

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::SandboxPolicy;
use codex_protocol::protocol::format_with_separators;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::ChatWidget;
use super::effort_label;
use crate::app_event::AppEvent;
use crate::bottom_pane::ListSelectionView;
use crate::bottom_pane::SelectionItem;
use crate::history_cell::ErrorCell;
use crate::history_cell::InfoCell;
use crate::history_cell::diff_lines;
use crate::history_cell::display_path;
use crate::slash_command::SlashCommand;

/// Models offered by `/model`, each with the reasoning efforts worth choosing.
const MODEL_PRESETS: [(&str, ReasoningEffort, &str); 7] = [
    (
        "gpt-5-codex",
        ReasoningEffort::Low,
        "fastest responses, limited reasoning",
    ),
    (
        "gpt-5-codex",
        ReasoningEffort::Medium,
        "balanced speed and depth",
    ),
    (
        "gpt-5-codex",
        ReasoningEffort::High,
        "most thorough, slowest",
    ),
    (
        "gpt-5",
        ReasoningEffort::Minimal,
        "fastest, for simple edits",
    ),
    ("gpt-5", ReasoningEffort::Low, "light reasoning"),
    ("gpt-5", ReasoningEffort::Medium, "balanced"),
    (
        "gpt-5",
        ReasoningEffort::High,
        "deep reasoning for hard problems",
    ),
];

struct ApprovalPreset {
    name: &'static str,
    description: &'static str,
    approval: AskForApproval,
    sandbox: fn() -> SandboxPolicy,
}

const APPROVAL_PRESETS: [ApprovalPreset; 3] = [
    ApprovalPreset {
        name: "Read Only",
        description: "Codex can read files; edits, commands and network need approval",
        approval: AskForApproval::OnRequest,
        sandbox: SandboxPolicy::new_read_only,
    },
    ApprovalPreset {
        name: "Auto",
        description: "Codex can edit and run commands in the workspace; more needs approval",
        approval: AskForApproval::OnRequest,
        sandbox: SandboxPolicy::new_workspace_write,
    },
    ApprovalPreset {
        name: "Full Access",
        description: "Codex can edit anything and use the network without asking",
        approval: AskForApproval::Never,
        sandbox: || SandboxPolicy::DangerFullAccess,
    },
];

impl ChatWidget {
    pub(super) fn dispatch_command(&mut self, cmd: SlashCommand) {
        if self.task_started.is_some() && !cmd.available_during_task() {
            self.add_history(ErrorCell {
                message: format!(
                    "'/{}' is disabled while a task is in progress.",
                    cmd.command()
                ),
            });
            return;
        }
        match cmd {
            SlashCommand::Model => self.open_model_popup(),
            SlashCommand::Approvals => self.open_approvals_popup(),
            SlashCommand::New => self.tx.send(AppEvent::NewSession),
            SlashCommand::Compact => self.submit_op(Op::Compact),
            SlashCommand::Review => self.open_review_popup(),
            SlashCommand::Init => self.submit_init(),
            SlashCommand::Diff => self.show_diff(),
            SlashCommand::Mention => self.bottom_pane.start_mention(),
            SlashCommand::Status => self.add_history(self.status_card()),
            SlashCommand::Resume => self.tx.send(AppEvent::OpenResumePicker),
            SlashCommand::Mcp => self.submit_op(Op::ListMcpTools),
            SlashCommand::Quit | SlashCommand::Exit => self.tx.send(AppEvent::ExitRequest),
        }
    }

    fn open_model_popup(&mut self) {
        let current = (self.settings.model.clone(), self.settings.effort);
        let mut items: Vec<SelectionItem> = MODEL_PRESETS
            .iter()
            .map(|(model, effort, description)| {
                let model = model.to_string();
                let effort = *effort;
                SelectionItem {
                    name: format!("{model} {}", effort_label(Some(effort))),
                    description: Some(description.to_string()),
                    is_current: current.0 == model && current.1.unwrap_or_default() == effort,
                    action: Box::new(move |tx| {
                        tx.send(AppEvent::UpdateModel {
                            model: model.clone(),
                            effort: Some(effort),
                        })
                    }),
                }
            })
            .collect();
        if !items.iter().any(|i| i.is_current) {
            let (model, effort) = current;
            items.insert(
                0,
                SelectionItem {
                    name: format!("{model} {}", effort_label(effort)),
                    description: Some("from your configuration".to_string()),
                    is_current: true,
                    action: Box::new(move |tx| {
                        tx.send(AppEvent::UpdateModel {
                            model: model.clone(),
                            effort,
                        })
                    }),
                },
            );
        }
        self.bottom_pane.push_view(Box::new(ListSelectionView::new(
            "Select model and reasoning effort",
            Some("Applies to the next turns of this session"),
            items,
        )));
    }

    fn open_approvals_popup(&mut self) {
        let items = APPROVAL_PRESETS
            .iter()
            .map(|preset| {
                let approval = preset.approval;
                let sandbox = (preset.sandbox)();
                SelectionItem {
                    name: preset.name.to_string(),
                    description: Some(preset.description.to_string()),
                    is_current: self.settings.approval_policy == approval
                        && self.settings.sandbox_policy.mode() == sandbox.mode(),
                    action: Box::new(move |tx| {
                        tx.send(AppEvent::UpdateApprovals {
                            approval_policy: approval,
                            sandbox_policy: sandbox.clone(),
                        })
                    }),
                }
            })
            .collect();
        self.bottom_pane.push_view(Box::new(ListSelectionView::new(
            "Select approval mode",
            None,
            items,
        )));
    }

    pub fn set_model(&mut self, model: String, effort: Option<ReasoningEffort>) {
        self.submit_op(Op::OverrideTurnContext {
            cwd: None,
            approval_policy: None,
            sandbox_policy: None,
            model: Some(model.clone()),
            effort: Some(effort),
            summary: None,
        });
        self.add_history(InfoCell::note(format!(
            "Model changed to {model} {}",
            effort_label(effort)
        )));
        self.settings.model = model;
        self.settings.effort = effort;
        self.frame.schedule_frame();
    }

    pub fn set_approvals(&mut self, approval_policy: AskForApproval, sandbox: SandboxPolicy) {
        self.submit_op(Op::OverrideTurnContext {
            cwd: None,
            approval_policy: Some(approval_policy),
            sandbox_policy: Some(sandbox.clone()),
            model: None,
            effort: None,
            summary: None,
        });
        self.add_history(InfoCell::note(format!(
            "Approval policy set to {approval_policy}, sandbox to {sandbox}"
        )));
        self.settings.approval_policy = approval_policy;
        self.settings.sandbox_policy = sandbox;
        self.frame.schedule_frame();
    }

    fn status_card(&self) -> InfoCell {
        let field = |name: &str, value: String| -> Line<'static> {
            Line::from(vec![format!("  {name}: ").dim(), Span::raw(value)])
        };
        let mut lines = vec![Line::from("/status".magenta())];
        lines.push(Line::from("Workspace".bold()));
        lines.push(field("Path", display_path(&self.settings.cwd)));
        lines.push(field(
            "Approval Mode",
            self.settings.approval_policy.to_string(),
        ));
        lines.push(field("Sandbox", self.settings.sandbox_policy.to_string()));
        lines.push(Line::from("Model".bold()));
        lines.push(field("Name", self.settings.model.clone()));
        lines.push(field(
            "Reasoning Effort",
            effort_label(self.settings.effort).to_string(),
        ));
        if let Some(session) = &self.session {
            lines.push(Line::from("Session".bold()));
            lines.push(field("ID", session.session_id.to_string()));
            if !session.rollout_path.as_os_str().is_empty() {
                lines.push(field("Rollout", session.rollout_path.display().to_string()));
            }
        }
        let usage = self.token_usage();
        lines.push(Line::from("Token Usage".bold()));
        let mut input = format_with_separators(usage.non_cached_input());
        if usage.cached_input_tokens > 0 {
            input.push_str(&format!(
                " (+ {} cached)",
                format_with_separators(usage.cached_input_tokens)
            ));
        }
        lines.push(field("Input", input));
        lines.push(field("Output", format_with_separators(usage.output_tokens)));
        lines.push(field(
            "Total",
            format_with_separators(usage.blended_total()),
        ));
        if let Some(left) = self.context_left() {
            lines.push(field("Context", format!("{left}% left")));
        }
        InfoCell::lines(lines)
    }

    /// Runs `git diff` (plus untracked files) in the background and adds the result.
    fn show_diff(&self) {
        let tx = self.tx.clone();
        let cwd = self.settings.cwd.clone();
        tokio::spawn(async move {
            let cell = match git_diff(&cwd).await {
                Ok(None) => InfoCell::note("`/diff` — not inside a git repository"),
                Ok(Some(diff)) if diff.trim().is_empty() => InfoCell::note("`/diff` — no changes"),
                Ok(Some(diff)) => {
                    let mut lines = vec![Line::from("/diff".magenta())];
                    lines.extend(diff_lines(&diff));
                    InfoCell::lines(lines)
                }
                Err(err) => InfoCell::note(format!("`/diff` failed: {err}")),
            };
            tx.insert_history(cell);
        });
    }
}

/// The working tree's diff against HEAD including untracked files; `None` outside a repo.
async fn git_diff(cwd: &std::path::Path) -> std::io::Result<Option<String>> {
    let git = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(args).current_dir(cwd).kill_on_drop(true);
        cmd
    };
    let inside = git(&["rev-parse", "--is-inside-work-tree"])
        .output()
        .await?;
    if !inside.status.success() {
        return Ok(None);
    }
    let tracked = git(&["diff", "--no-color"]).output().await?;
    let mut diff = String::from_utf8_lossy(&tracked.stdout).into_owned();
    let untracked = git(&["ls-files", "--others", "--exclude-standard"])
        .output()
        .await?;
    for file in String::from_utf8_lossy(&untracked.stdout).lines() {
        // `git diff --no-index` exits 1 when the files differ, which is the point here.
        let out = git(&["diff", "--no-color", "--no-index", "--", "/dev/null", file])
            .output()
            .await?;
        diff.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    Ok(Some(diff))
}
