//! ChatWidget fed with recorded event sequences: the transcript it produces and the viewport.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use codex_core::ConfigOverrides;
use codex_protocol::plan_tool::PlanItemArg;
use codex_protocol::plan_tool::StepStatus;
use codex_protocol::plan_tool::UpdatePlanArgs;
use codex_protocol::protocol::*;
use pretty_assertions::assert_eq;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::*;
use crate::history_cell::transcript_rows;
use crate::slash_command::SlashCommand;
use crate::wrapping::line_text;

struct Harness {
    chat: ChatWidget,
    app_rx: mpsc::UnboundedReceiver<AppEvent>,
    op_rx: mpsc::UnboundedReceiver<Op>,
    transcript: Vec<String>,
    ops: Vec<Op>,
    /// `add_to_history`, `get_history_entry_request` and `list_custom_prompts`.
    history_ops: Vec<Op>,
    exit_requested: bool,
    backtracks: Vec<(usize, String)>,
    /// Texts of the desktop notifications the widget asked the app for.
    notifications: Vec<String>,
    _home: tempfile::TempDir,
}

const WIDTH: u16 = 60;

/// A chat widget for `/repo` with model `gpt-5-codex` and `-c` style `overrides`, the receivers
/// of what it sends the app and the engine, and its temporary `CODEX_HOME`.
pub(super) fn test_chat(
    overrides: &[&str],
) -> (
    ChatWidget,
    mpsc::UnboundedReceiver<AppEvent>,
    mpsc::UnboundedReceiver<Op>,
    tempfile::TempDir,
) {
    let home = tempfile::tempdir().unwrap();
    let cli = overrides
        .iter()
        .map(|raw| codex_core::config::parse_cli_override(raw).unwrap())
        .collect();
    let config = codex_core::Config::load_with_home(
        home.path().to_path_buf(),
        cli,
        ConfigOverrides {
            cwd: Some(PathBuf::from("/repo")),
            model: Some("gpt-5-codex".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (app_tx, app_rx) = mpsc::unbounded_channel();
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let chat = ChatWidget::new(
        &config,
        AppEventSender::new(app_tx),
        op_tx,
        FrameRequester::test_dummy(),
        None,
    );
    (chat, app_rx, op_rx, home)
}

fn harness_with(overrides: &[&str]) -> Harness {
    let (chat, app_rx, op_rx, home) = test_chat(overrides);
    Harness {
        chat,
        app_rx,
        op_rx,
        transcript: Vec::new(),
        ops: Vec::new(),
        history_ops: Vec::new(),
        exit_requested: false,
        backtracks: Vec::new(),
        notifications: Vec::new(),
        _home: home,
    }
}

fn harness() -> Harness {
    harness_with(&[])
}

impl Harness {
    /// Moves what the widget sent into `transcript` / `ops`, as the app would.
    fn pump(&mut self) {
        while let Ok(event) = self.app_rx.try_recv() {
            match event {
                AppEvent::InsertHistoryCell(cell) => {
                    let first = self.transcript.is_empty();
                    for row in transcript_rows(cell.as_ref(), WIDTH, first) {
                        self.transcript.push(line_text(&row).trim_end().to_string());
                    }
                }
                AppEvent::CodexOp(op) => self.push_op(op),
                AppEvent::ExitRequest => self.exit_requested = true,
                AppEvent::Backtrack { nth_from_end, text } => {
                    self.backtracks.push((nth_from_end, text))
                }
                AppEvent::UpdateModel { model, effort } => self.chat.set_model(model, effort),
                AppEvent::Review(step) => self.chat.review_step(step),
                AppEvent::Notify(notification) => self.notifications.push(notification.text()),
                _ => {}
            }
        }
        while let Ok(op) = self.op_rx.try_recv() {
            self.push_op(op);
        }
    }

    /// Message-history and prompt-listing ops go aside, so `ops` holds what drives turns.
    fn push_op(&mut self, op: Op) {
        match op {
            Op::AddToHistory { .. } | Op::GetHistoryEntryRequest { .. } | Op::ListCustomPrompts => {
                self.history_ops.push(op)
            }
            op => self.ops.push(op),
        }
    }

    fn send(&mut self, msg: EventMsg) {
        self.chat.handle_codex_event(Event {
            id: "1".into(),
            msg,
        });
        self.pump();
    }

    fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        self.chat.handle_key_event(KeyEvent::new(code, modifiers));
        self.pump();
    }

    fn type_str(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    fn transcript(&self) -> String {
        self.transcript.join("\n")
    }

    fn viewport(&self) -> String {
        let height = self.chat.desired_height(WIDTH);
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, height)).unwrap();
        let now = self.chat.task_started.unwrap_or_else(Instant::now);
        terminal
            .draw(|f| {
                self.chat.render(f.area(), f.buffer_mut(), now);
            })
            .unwrap();
        terminal.backend().to_string()
    }
}

fn configured() -> EventMsg {
    EventMsg::SessionConfigured(SessionConfiguredEvent {
        session_id: "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap(),
        model: "gpt-5-codex".into(),
        reasoning_effort: None,
        history_log_id: 0,
        history_entry_count: 0,
        initial_messages: None,
        rollout_path: PathBuf::from("/home/u/.codex/sessions/rollout.jsonl"),
    })
}

fn user(text: &str) -> EventMsg {
    EventMsg::UserMessage(UserMessageEvent {
        message: text.into(),
        kind: Some(InputMessageKind::Plain),
        images: None,
    })
}

fn delta(text: &str) -> EventMsg {
    EventMsg::AgentMessageDelta(AgentMessageDeltaEvent { delta: text.into() })
}

fn started() -> EventMsg {
    EventMsg::TaskStarted(TaskStartedEvent {
        model_context_window: Some(272_000),
    })
}

fn complete() -> EventMsg {
    EventMsg::TaskComplete(TaskCompleteEvent {
        last_agent_message: None,
    })
}

fn token_count(total: u64) -> EventMsg {
    let usage = TokenUsage {
        input_tokens: total - 100,
        cached_input_tokens: 0,
        output_tokens: 100,
        reasoning_output_tokens: 0,
        total_tokens: total,
    };
    EventMsg::TokenCount(TokenCountEvent {
        info: Some(TokenUsageInfo {
            total_token_usage: usage,
            last_token_usage: usage,
            model_context_window: Some(272_000),
        }),
        rate_limits: None,
    })
}

#[test]
fn streamed_answer_with_reasoning() {
    let mut h = harness();
    h.send(configured());
    h.type_str("explain the parser");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        h.ops,
        vec![Op::UserInput {
            items: vec![InputItem::Text {
                text: "explain the parser".into()
            }]
        }]
    );
    h.send(started());
    h.send(user("explain the parser"));
    h.send(EventMsg::AgentReasoningDelta(AgentReasoningDeltaEvent {
        delta: "**Reading the parser**\n\nIt is a recursive".into(),
    }));
    assert!(
        h.viewport().contains("Reading the parser"),
        "{}",
        h.viewport()
    );
    h.send(EventMsg::AgentReasoning(AgentReasoningEvent {
        text: "**Reading the parser**\n\nIt is a recursive descent parser.".into(),
    }));
    let before = h.transcript.len();
    h.send(delta("The parser has **two"));
    assert_eq!(h.transcript.len(), before, "no complete line yet");
    assert!(h.viewport().contains("The parser has **two"));
    h.send(delta(" stages**:\n\n1. lexing\n2. pars"));
    h.send(delta("ing\n"));
    h.send(EventMsg::AgentMessage(AgentMessageEvent {
        message: "The parser has **two stages**:\n\n1. lexing\n2. parsing\n".into(),
    }));
    h.send(token_count(30_000));
    h.send(complete());
    insta::assert_snapshot!("streamed_transcript", h.transcript());
    insta::assert_snapshot!("streamed_viewport_after", h.viewport());
}

#[test]
fn hidden_reasoning_is_not_shown() {
    let mut h = harness_with(&["hide_agent_reasoning=true"]);
    h.send(started());
    h.send(EventMsg::AgentReasoning(AgentReasoningEvent {
        text: "secret thoughts".into(),
    }));
    h.send(EventMsg::AgentMessage(AgentMessageEvent {
        message: "visible answer".into(),
    }));
    assert_eq!(h.transcript(), "• visible answer");
}

#[test]
fn command_approval_then_run() {
    let mut h = harness();
    h.send(started());
    h.type_str("half-typed");
    h.send(EventMsg::ExecApprovalRequest(ExecApprovalRequestEvent {
        call_id: "call_7".into(),
        command: vec!["bash".into(), "-lc".into(), "cargo test".into()],
        cwd: PathBuf::from("/repo"),
        reason: Some("Run the tests to check the fix".into()),
        parsed_cmd: Vec::new(),
    }));
    insta::assert_snapshot!("approval_viewport", h.viewport());
    h.key(KeyCode::Char('y'), KeyModifiers::NONE);
    assert_eq!(
        h.ops.last(),
        Some(&Op::ExecApproval {
            id: "call_7".into(),
            decision: ReviewDecision::Approved
        })
    );
    h.send(EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
        call_id: "call_7".into(),
        command: vec!["bash".into(), "-lc".into(), "cargo test".into()],
        cwd: PathBuf::from("/repo"),
        parsed_cmd: Vec::new(),
    }));
    h.send(EventMsg::ExecCommandOutputDelta(
        ExecCommandOutputDeltaEvent {
            call_id: "call_7".into(),
            stream: ExecOutputStream::Stdout,
            chunk: b"running 3 tests\ntest a ... ok\n".to_vec(),
        },
    ));
    insta::assert_snapshot!("exec_running_viewport", h.viewport());
    h.send(EventMsg::ExecCommandEnd(ExecCommandEndEvent {
        call_id: "call_7".into(),
        stdout: String::new(),
        stderr: String::new(),
        aggregated_output:
            "running 3 tests\ntest a ... ok\ntest b ... ok\ntest c ... FAILED\n\nfailures: c\n"
                .into(),
        exit_code: 101,
        duration: Duration::from_millis(1500),
        formatted_output: String::new(),
    }));
    h.send(complete());
    insta::assert_snapshot!("approval_transcript", h.transcript());
    assert_eq!(h.chat.composer_text(), "half-typed");
}

#[test]
fn patch_plan_and_errors() {
    let mut h = harness();
    h.send(started());
    let changes = HashMap::from([(
        PathBuf::from("/repo/src/main.rs"),
        FileChange::Update {
            unified_diff:
                "@@ -1,2 +1,2 @@\n fn main() {\n-    println!(\"hi\");\n+    println!(\"hello\");\n"
                    .into(),
            move_path: None,
        },
    )]);
    h.send(EventMsg::PlanUpdate(UpdatePlanArgs {
        explanation: None,
        plan: vec![
            PlanItemArg {
                step: "Change the greeting".into(),
                status: StepStatus::InProgress,
            },
            PlanItemArg {
                step: "Run it".into(),
                status: StepStatus::Pending,
            },
        ],
    }));
    h.send(EventMsg::ApplyPatchApprovalRequest(
        ApplyPatchApprovalRequestEvent {
            call_id: "call_p".into(),
            changes: changes.clone(),
            reason: None,
            grant_root: None,
        },
    ));
    h.key(KeyCode::Char('a'), KeyModifiers::NONE);
    assert_eq!(
        h.ops.last(),
        Some(&Op::PatchApproval {
            id: "call_p".into(),
            decision: ReviewDecision::ApprovedForSession
        })
    );
    h.send(EventMsg::PatchApplyBegin(PatchApplyBeginEvent {
        call_id: "call_p".into(),
        auto_approved: false,
        changes,
    }));
    h.send(EventMsg::PatchApplyEnd(PatchApplyEndEvent {
        call_id: "call_p".into(),
        stdout: String::new(),
        stderr: "src/main.rs: no such file".into(),
        success: false,
    }));
    h.send(EventMsg::Error(ErrorEvent {
        message: "unexpected status 500: server overloaded".into(),
    }));
    h.send(complete());
    insta::assert_snapshot!(h.transcript());
}

#[test]
fn messages_typed_while_running_are_queued() {
    let mut h = harness();
    h.send(started());
    h.type_str("also update the docs");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    h.type_str("and the changelog");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(h.ops.is_empty(), "sent during the task: {:?}", h.ops);
    let viewport = h.viewport();
    assert!(viewport.contains("↳ also update the docs"), "{viewport}");
    assert!(viewport.contains("↳ and the changelog"), "{viewport}");

    // One queued message goes out per completed task.
    h.send(complete());
    assert_eq!(
        h.ops,
        vec![Op::UserInput {
            items: vec![InputItem::Text {
                text: "also update the docs".into()
            }]
        }]
    );
    h.send(started());
    h.send(user("also update the docs"));
    assert!(!h.viewport().contains("↳ also update the docs"));
    assert!(h.viewport().contains("↳ and the changelog"));

    // An interrupt puts what is still queued back into the composer.
    h.type_str("draft");
    h.send(EventMsg::TurnAborted(TurnAbortedEvent {
        reason: TurnAbortReason::Interrupted,
    }));
    assert_eq!(h.chat.composer_text(), "and the changelog\ndraft");
    assert_eq!(h.ops.len(), 1);
    assert!(!h.viewport().contains("↳"));
}

#[test]
fn esc_interrupts_and_ctrl_c_quits_twice() {
    let mut h = harness();
    h.send(started());
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(h.ops.last(), Some(&Op::Interrupt));
    h.send(EventMsg::TurnAborted(TurnAbortedEvent {
        reason: TurnAbortReason::Interrupted,
    }));
    assert!(h.transcript().contains("Conversation interrupted"));

    h.type_str("draft");
    h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(h.chat.composer_text(), "");
    assert!(!h.exit_requested);
    h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(h.viewport().contains("ctrl + c again to quit"));
    assert!(!h.exit_requested);
    h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(h.exit_requested);
}

#[test]
fn ctrl_d_quits_only_when_empty() {
    let mut h = harness();
    h.type_str("x");
    h.key(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert!(!h.exit_requested);
    h.key(KeyCode::Backspace, KeyModifiers::NONE);
    h.key(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert!(h.exit_requested);
}

#[test]
fn slash_commands() {
    let mut h = harness();
    h.send(configured());
    h.send(token_count(30_000));
    h.transcript.clear();
    h.type_str("/status");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    insta::assert_snapshot!("status_card", h.transcript());

    h.transcript.clear();
    h.type_str("/model");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    insta::assert_snapshot!("model_popup", h.viewport());
    h.key(KeyCode::Char('3'), KeyModifiers::NONE);
    assert_eq!(
        h.ops.last(),
        Some(&Op::OverrideTurnContext {
            cwd: None,
            approval_policy: None,
            sandbox_policy: None,
            model: Some("gpt-5-codex".into()),
            effort: Some(Some(ReasoningEffort::High)),
            summary: None,
        })
    );

    h.send(started());
    h.transcript.clear();
    h.type_str("/new");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        h.transcript(),
        "■ '/new' is disabled while a task is in progress."
    );
    h.type_str("/compact");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_ne!(h.ops.last(), Some(&Op::Compact));
    h.send(complete());
    h.type_str("/compact");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.ops.last(), Some(&Op::Compact));
}

#[test]
fn resumed_session_replays_its_transcript() {
    let mut h = harness();
    let EventMsg::SessionConfigured(mut ev) = configured() else {
        unreachable!()
    };
    ev.initial_messages = Some(vec![
        user("first question"),
        EventMsg::AgentMessage(AgentMessageEvent {
            message: "first answer".into(),
        }),
        EventMsg::TaskStarted(TaskStartedEvent {
            model_context_window: None,
        }),
    ]);
    h.send(EventMsg::SessionConfigured(ev));
    assert!(!h.chat.is_animating());
    let transcript = h.transcript();
    assert!(
        transcript.ends_with("› first question\n\n• first answer"),
        "{transcript}"
    );
}

#[test]
fn esc_twice_picks_a_message_to_fork_from() {
    let mut h = harness();
    h.send(configured());
    h.send(user("first question"));
    h.send(user("second question"));
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    assert!(h.viewport().contains("esc again to edit previous message"));
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    insta::assert_snapshot!("backtrack_view", h.viewport());
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.backtracks, vec![(2, "first question".to_string())]);
    assert!(!h.viewport().contains("Edit a previous message"));

    // Not while something is typed.
    h.type_str("x");
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    assert!(!h.viewport().contains("esc again"));
}

#[test]
fn a_forked_chat_does_not_redraw_the_old_transcript() {
    let mut h = harness();
    h.chat = std::mem::replace(&mut h.chat, harness().chat).for_fork();
    let EventMsg::SessionConfigured(mut ev) = configured() else {
        unreachable!()
    };
    ev.initial_messages = Some(vec![
        user("kept question"),
        EventMsg::AgentMessage(AgentMessageEvent {
            message: "kept answer".into(),
        }),
    ]);
    h.send(EventMsg::SessionConfigured(ev));
    assert!(
        h.transcript().starts_with("• Forked the conversation"),
        "{}",
        h.transcript()
    );
    assert!(!h.transcript().contains("kept answer"));
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.backtracks, vec![(1, "kept question".to_string())]);
}

#[test]
fn mcp_tool_call_progress_and_result() {
    let mut h = harness();
    h.send(configured());
    h.send(started());
    let invocation = McpInvocation {
        server: "docs".into(),
        tool: "search".into(),
        arguments: Some(serde_json::json!({"query": "ratatui"})),
    };
    h.send(EventMsg::McpToolCallBegin(McpToolCallBeginEvent {
        call_id: "m1".into(),
        invocation: invocation.clone(),
    }));
    h.send(EventMsg::McpToolCallProgress(McpToolCallProgressEvent {
        call_id: "m1".into(),
        progress: 2.0,
        total: Some(4.0),
        message: None,
    }));
    assert!(
        h.viewport()
            .contains("Calling docs.search({\"query\":\"ratatui\"}) 2/4")
    );
    h.send(EventMsg::McpToolCallEnd(McpToolCallEndEvent {
        call_id: "m1".into(),
        invocation,
        duration: Duration::from_millis(12),
        result: Ok(serde_json::json!({"content": [{"type": "text", "text": "found 3 pages"}]})),
    }));
    insta::assert_snapshot!(h.transcript());
}

#[test]
fn review_popup_uncommitted_then_findings() {
    let mut h = harness();
    h.send(configured());
    h.type_str("/review");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    insta::assert_snapshot!("review_popup", h.viewport());
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    let request = ReviewRequest {
        target: ReviewTarget::UncommittedChanges,
        user_facing_hint: Some("current changes".into()),
    };
    assert_eq!(
        h.ops,
        vec![Op::Review {
            review_request: request.clone()
        }]
    );
    h.send(started());
    h.send(EventMsg::EnteredReviewMode(request));
    h.send(EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
        review_output: Some(ReviewOutputEvent {
            findings: vec![ReviewFinding {
                title: "[P1] Panics on empty input".into(),
                body: "`parse(\"\")` indexes past the end.".into(),
                confidence_score: 0.9,
                priority: 1,
                code_location: ReviewCodeLocation {
                    absolute_file_path: PathBuf::from("/repo/src/parse.rs"),
                    line_range: ReviewLineRange { start: 4, end: 6 },
                },
            }],
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "One crash on empty input.".into(),
            overall_confidence_score: 0.8,
        }),
    }));
    h.send(complete());
    insta::assert_snapshot!("review_transcript", h.transcript());
}

#[test]
fn review_custom_instructions_and_commit_sha() {
    let mut h = harness();
    h.send(configured());
    h.chat.dispatch_command(SlashCommand::Review);
    h.key(KeyCode::Char('4'), KeyModifiers::NONE);
    h.type_str("check errors");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    h.chat.review_step(ReviewStep::Commits(vec![(
        "abcdef1234567".into(),
        "Fix parser".into(),
    )]));
    h.pump();
    h.key(KeyCode::Char('2'), KeyModifiers::NONE);
    assert_eq!(
        h.ops,
        vec![
            Op::Review {
                review_request: ReviewRequest {
                    target: ReviewTarget::Custom {
                        instructions: "check errors".into()
                    },
                    user_facing_hint: Some("check errors".into()),
                }
            },
            Op::Review {
                review_request: ReviewRequest {
                    target: ReviewTarget::Commit {
                        sha: "abcdef1234567".into(),
                        title: Some("Fix parser".into()),
                    },
                    user_facing_hint: Some("commit abcdef1: Fix parser".into()),
                }
            },
        ]
    );
    h.send(EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
        review_output: None,
    }));
    assert!(
        h.transcript()
            .contains("review interrupted or produced no findings")
    );
}

#[test]
fn init_sends_agents_md_prompt() {
    let mut h = harness();
    h.send(configured());
    h.chat.dispatch_command(SlashCommand::Init);
    h.pump();
    assert_eq!(
        h.ops,
        vec![Op::UserInput {
            items: vec![InputItem::Text {
                text: review::INIT_PROMPT.into()
            }]
        }]
    );
}

#[test]
fn mcp_command_lists_servers_their_state_and_tools() {
    use codex_protocol::protocol::McpListToolsResponseEvent;
    use codex_protocol::protocol::McpServerSummary;
    let mut h = harness();
    h.send(configured());
    h.type_str("/mcp");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.ops.last(), Some(&Op::ListMcpTools));
    h.send(EventMsg::McpListToolsResponse(McpListToolsResponseEvent {
        servers: vec![
            McpServerSummary {
                name: "docs".into(),
                status: "ready".into(),
                tools: vec!["docs__search".into(), "docs__fetch".into()],
            },
            McpServerSummary {
                name: "broken".into(),
                status: "failed: command not found: `nope`".into(),
                tools: Vec::new(),
            },
        ],
    }));
    insta::assert_snapshot!(h.transcript());
}

#[test]
fn images_from_the_command_line_go_with_the_first_message_only() {
    let mut h = harness();
    h.chat
        .attach_to_first_message(vec![PathBuf::from("/repo/shot.png")]);
    h.pump();
    assert_eq!(
        h.transcript,
        vec!["• Attached to your first message: /repo/shot.png"]
    );
    h.send(configured());
    for text in ["what is wrong here?", "and now?"] {
        h.type_str(text);
        h.key(KeyCode::Enter, KeyModifiers::NONE);
        h.send(started());
        h.send(EventMsg::TaskComplete(TaskCompleteEvent {
            last_agent_message: None,
        }));
    }
    assert_eq!(
        h.ops,
        vec![
            Op::UserInput {
                items: vec![
                    InputItem::LocalImage {
                        path: PathBuf::from("/repo/shot.png")
                    },
                    InputItem::Text {
                        text: "what is wrong here?".into()
                    }
                ]
            },
            Op::UserInput {
                items: vec![InputItem::Text {
                    text: "and now?".into()
                }]
            }
        ]
    );
}

#[test]
fn sent_messages_go_to_history_and_saved_prompts_are_expanded() {
    let mut h = harness();
    h.send(configured());
    assert_eq!(h.history_ops, vec![Op::ListCustomPrompts]);
    h.send(EventMsg::ListCustomPromptsResponse(
        ListCustomPromptsResponseEvent {
            custom_prompts: vec![codex_protocol::custom_prompts::CustomPrompt {
                name: "pr".into(),
                path: PathBuf::from("/h/prompts/pr.md"),
                content: "Open a PR for $FILES".into(),
                description: None,
                argument_hint: None,
            }],
        },
    ));
    h.type_str("/prompts:pr");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.chat.composer_text(), "/prompts:pr FILES=\"\"");
    h.chat.set_composer_text("/prompts:pr OTHER=x");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(
        h.transcript
            .iter()
            .any(|row| row.contains("Missing required args for /prompts:pr: FILES")),
        "{:#?}",
        h.transcript
    );
    assert!(h.ops.is_empty(), "{:?}", h.ops);

    h.chat.set_composer_text("/prompts:pr FILES=a.rs");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        h.ops,
        vec![Op::UserInput {
            items: vec![InputItem::Text {
                text: "Open a PR for a.rs".into()
            }]
        }]
    );
    assert_eq!(
        h.history_ops[1..],
        [Op::AddToHistory {
            text: "Open a PR for a.rs".into()
        }]
    );
}

#[test]
fn approvals_and_finished_turns_ask_the_app_to_notify() {
    let mut h = harness();
    h.send(started());
    h.send(EventMsg::ExecApprovalRequest(ExecApprovalRequestEvent {
        call_id: "call_7".into(),
        command: vec!["bash".into(), "-lc".into(), "cargo test".into()],
        cwd: PathBuf::from("/repo"),
        reason: None,
        parsed_cmd: Vec::new(),
    }));
    h.key(KeyCode::Char('y'), KeyModifiers::NONE);
    h.send(EventMsg::ApplyPatchApprovalRequest(
        ApplyPatchApprovalRequestEvent {
            call_id: "call_p".into(),
            changes: HashMap::from([(
                PathBuf::from("/repo/src/main.rs"),
                FileChange::Add {
                    content: "fn main() {}\n".into(),
                },
            )]),
            reason: None,
            grant_root: None,
        },
    ));
    h.key(KeyCode::Char('y'), KeyModifiers::NONE);
    h.send(EventMsg::TaskComplete(TaskCompleteEvent {
        last_agent_message: Some("Fixed the test.\nAll green.".into()),
    }));
    assert_eq!(
        h.notifications,
        vec![
            "Approval requested: cargo test",
            "Codex wants to edit src/main.rs",
            "Fixed the test. All green.",
        ]
    );
}

#[test]
fn mention_command_puts_an_at_sign_in_the_composer_with_the_file_popup_open() {
    let mut h = harness();
    h.type_str("/mention");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.chat.composer_text(), "@");
    assert!(h.chat.bottom_pane.popup_visible());
    // Also while a task runs, and after a word already typed.
    h.chat.set_composer_text("");
    h.send(started());
    h.type_str("look at");
    h.chat.dispatch_command(SlashCommand::Mention);
    assert_eq!(h.chat.composer_text(), "look at @");
    assert!(h.chat.bottom_pane.popup_visible());
    assert_eq!(h.transcript(), "");
}

#[test]
fn an_elicitation_form_goes_away_when_the_tool_call_that_asked_ends() {
    let mut h = harness();
    h.send(configured());
    h.send(started());
    let invocation = McpInvocation {
        server: "everything".into(),
        tool: "trigger-elicitation-request".into(),
        arguments: None,
    };
    h.send(EventMsg::McpToolCallBegin(McpToolCallBeginEvent {
        call_id: "m1".into(),
        invocation: invocation.clone(),
    }));
    h.send(EventMsg::ElicitationRequest(ElicitationRequestEvent {
        server_name: "everything".into(),
        id: McpRequestId::Integer(3),
        message: "What is your name?".into(),
        requested_schema: serde_json::json!({
            "type": "object",
            "properties": {"name": {"type": "string"}}
        }),
    }));
    assert!(
        h.viewport().contains("What is your name?"),
        "{}",
        h.viewport()
    );
    h.send(EventMsg::McpToolCallEnd(McpToolCallEndEvent {
        call_id: "m1".into(),
        invocation,
        duration: Duration::from_secs(60),
        result: Err("tool call timed out".into()),
    }));
    assert!(
        !h.viewport().contains("What is your name?"),
        "{}",
        h.viewport()
    );
}
