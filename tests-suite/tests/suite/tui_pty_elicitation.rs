//! The elicitation form in the real TUI: server-everything asks for input during a tool call, the
//! user fills in the form in a pseudo-terminal, and what they typed reaches the server and, through
//! the tool's output, the model.

use super::mcp::peers;
use super::tui_pty::COMPOSER_READY;
use super::tui_pty::TuiSession;
use super::tui_pty::require_tmux;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::agent::eventually;
use crate::support::agent::tool_output_text;
use crate::support::mock_config;
use crate::support::sse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_fills_in_an_elicitation_form_in_the_tui() {
    if require_tmux().is_none() {
        return;
    }
    let Some(peers) = peers() else {
        return;
    };
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_el", "everything__trigger-elicitation-request", "{}"),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["Nice to meet you."])));
    let home = TestHome::new();
    home.write_config(&format!(
        "{}\n[mcp_servers.everything]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\nstartup_timeout_sec = 30\n",
        mock_config(&server, "responses", ""),
        peers.node().display().to_string(),
        peers.everything().display().to_string(),
    ));

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    tui.type_text("ask me who I am");
    tui.key("Enter");
    tui.wait_for_text("MCP server `everything` asks for input");
    let screen = tui.screen();
    assert!(
        screen.contains("› String*:"),
        "the required name comes first:\n{screen}"
    );
    assert!(screen.contains("Your full, legal name"), "{screen}");

    tui.type_text("Ada Lovelace");
    // The agreement checkbox is the next field but one (after the birth date).
    tui.key("Tab");
    tui.key("Tab");
    tui.key("Space");
    tui.wait_for_text("Boolean: [x]");
    // Back past the first field, Shift-Tab wraps to the last one, where Enter submits.
    for _ in 0..3 {
        tui.key("BTab");
    }
    tui.key("Enter");
    tui.wait_for_text("You sent the requested information to `everything`");
    tui.wait_for_text("Nice to meet you.");

    let answered = eventually(std::time::Duration::from_secs(10), || {
        server.requests().len() == 2
    })
    .await;
    assert!(answered, "the model never got the tool output");
    let output = tool_output_text(&server.requests()[1], "call_el");
    assert!(output.contains("- Name: Ada Lovelace"), "{output}");
    assert!(output.contains("- Agreed to terms: true"), "{output}");
    assert!(output.contains("- Favorite Integer: 42"), "{output}");
}
