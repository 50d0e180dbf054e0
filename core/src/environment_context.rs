//! The `<environment_context>` message that tells the model where it runs and under which rules.

use std::path::Path;
use std::path::PathBuf;

use codex_protocol::config_types::SandboxMode;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::ENVIRONMENT_CONTEXT_CLOSE_TAG;
use codex_protocol::protocol::ENVIRONMENT_CONTEXT_OPEN_TAG;
use codex_protocol::protocol::SandboxPolicy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvironmentContext {
    cwd: PathBuf,
    approval_policy: AskForApproval,
    sandbox_mode: SandboxMode,
    network_access: bool,
    writable_roots: Vec<PathBuf>,
    shell: Option<String>,
}

impl EnvironmentContext {
    pub(crate) fn new(cwd: &Path, approval_policy: AskForApproval, policy: &SandboxPolicy) -> Self {
        let writable_roots = match policy {
            SandboxPolicy::WorkspaceWrite { writable_roots, .. } => writable_roots.clone(),
            _ => Vec::new(),
        };
        Self {
            cwd: cwd.to_path_buf(),
            approval_policy,
            sandbox_mode: policy.mode(),
            network_access: policy.has_full_network_access(),
            writable_roots,
            shell: user_shell_name(),
        }
    }

    /// Renders the XML-ish block Codex CLI sends, one child element per line.
    pub(crate) fn serialize(&self) -> String {
        let mut lines = vec![ENVIRONMENT_CONTEXT_OPEN_TAG.to_string()];
        lines.push(format!("  <cwd>{}</cwd>", self.cwd.display()));
        lines.push(format!(
            "  <approval_policy>{}</approval_policy>",
            self.approval_policy
        ));
        lines.push(format!(
            "  <sandbox_mode>{}</sandbox_mode>",
            self.sandbox_mode.as_str()
        ));
        let network = if self.network_access {
            "enabled"
        } else {
            "restricted"
        };
        lines.push(format!("  <network_access>{network}</network_access>"));
        if !self.writable_roots.is_empty() {
            lines.push("  <writable_roots>".to_string());
            for root in &self.writable_roots {
                lines.push(format!("    <root>{}</root>", root.display()));
            }
            lines.push("  </writable_roots>".to_string());
        }
        if let Some(shell) = &self.shell {
            lines.push(format!("  <shell>{shell}</shell>"));
        }
        lines.push(ENVIRONMENT_CONTEXT_CLOSE_TAG.to_string());
        lines.join("\n")
    }

    pub(crate) fn to_response_item(&self) -> ResponseItem {
        ResponseItem::user_text(self.serialize())
    }
}

fn user_shell_name() -> Option<String> {
    let shell = std::env::var("SHELL").ok()?;
    Path::new(&shell)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::protocol::InputMessageKind;

    #[test]
    fn renders_policies_and_roots() {
        let mut ctx = EnvironmentContext::new(
            Path::new("/repo"),
            AskForApproval::OnRequest,
            &SandboxPolicy::WorkspaceWrite {
                writable_roots: vec![PathBuf::from("/extra")],
                network_access: false,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            },
        );
        ctx.shell = Some("bash".into());
        let text = ctx.serialize();
        assert_eq!(
            text,
            "<environment_context>\n  <cwd>/repo</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <writable_roots>\n    <root>/extra</root>\n  </writable_roots>\n  <shell>bash</shell>\n</environment_context>"
        );
        assert_eq!(
            InputMessageKind::of(&text),
            InputMessageKind::EnvironmentContext
        );
    }
}
