//! Recognising `apply_patch` invoked through the shell tool. Models trained on the CLI often call
//! `apply_patch` as a command (directly or in a heredoc); routing those calls through the verified
//! patch path means they get the same checks, approval and events as the patch tool itself.

use std::path::Path;

use super::parser::heredoc_delimiter;

const COMMAND_NAMES: [&str; 2] = ["apply_patch", "applypatch"];
const SHELLS: [&str; 3] = ["bash", "sh", "zsh"];

/// The patch text if `argv` is an `apply_patch` invocation:
/// `["apply_patch", PATCH]`, `["applypatch", PATCH]`, or
/// `[bash|sh|zsh, -c|-lc, "apply_patch <<'EOF'\n…\nEOF"]` (also `<<EOF`, `<<"EOF"`).
///
/// Anything else around the heredoc (`cd dir && apply_patch …`, a pipe, a second command) is not
/// recognised and yields `None`, so the command runs as an ordinary shell command.
pub fn maybe_extract_patch_from_shell(argv: &[String]) -> Option<String> {
    match argv {
        [command, patch] if COMMAND_NAMES.contains(&command.as_str()) => Some(patch.clone()),
        [shell, flag, script] if is_shell(shell) && matches!(flag.as_str(), "-c" | "-lc") => {
            extract_heredoc(script)
        }
        _ => None,
    }
}

fn is_shell(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| SHELLS.contains(&name))
}

/// `apply_patch <<'EOF'` on the first line, the body, then the delimiter alone on a line, and
/// nothing but blank lines after it.
fn extract_heredoc(script: &str) -> Option<String> {
    let mut lines = script.trim_start().lines();
    let first = lines.next()?.trim();
    let redirect = COMMAND_NAMES.iter().find_map(|name| {
        let rest = first.strip_prefix(name)?;
        (rest.starts_with("<<") || rest.starts_with(char::is_whitespace)).then_some(rest)
    })?;
    let delimiter = heredoc_delimiter(redirect)?;
    let mut body = Vec::new();
    for line in lines.by_ref() {
        if line.trim() == delimiter {
            return lines
                .all(|rest| rest.trim().is_empty())
                .then(|| body.join("\n"));
        }
        body.push(line);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const PATCH: &str = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn direct_invocations() {
        for name in ["apply_patch", "applypatch"] {
            assert_eq!(
                maybe_extract_patch_from_shell(&argv(&[name, PATCH])),
                Some(PATCH.to_string())
            );
        }
        assert_eq!(
            maybe_extract_patch_from_shell(&argv(&["apply_patch"])),
            None
        );
        assert_eq!(
            maybe_extract_patch_from_shell(&argv(&["apply_patch", PATCH, "extra"])),
            None
        );
        assert_eq!(maybe_extract_patch_from_shell(&argv(&["cat", PATCH])), None);
    }

    #[test]
    fn heredoc_forms() {
        let scripts = [
            format!("apply_patch <<'EOF'\n{PATCH}\nEOF\n"),
            format!("apply_patch <<EOF\n{PATCH}\nEOF"),
            format!("apply_patch <<\"EOF\"\n{PATCH}\nEOF\n\n"),
            format!("applypatch<<'PATCH'\n{PATCH}\nPATCH"),
            format!("\n  apply_patch <<'EOF'\n{PATCH}\nEOF  \n"),
        ];
        for shell in ["bash", "sh", "zsh", "/bin/bash", "/usr/bin/zsh"] {
            for flag in ["-lc", "-c"] {
                for script in &scripts {
                    assert_eq!(
                        maybe_extract_patch_from_shell(&argv(&[shell, flag, script])),
                        Some(PATCH.to_string()),
                        "{shell} {flag} {script:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn unsupported_shell_forms() {
        let heredoc = format!("apply_patch <<'EOF'\n{PATCH}\nEOF");
        let cases = [
            argv(&["bash", "-lc", &format!("cd sub && {heredoc}")]),
            argv(&["bash", "-lc", &format!("{heredoc}\necho done")]),
            argv(&[
                "bash",
                "-lc",
                &format!("apply_patch <<'EOF' && ls\n{PATCH}\nEOF"),
            ]),
            argv(&["bash", "-lc", &format!("apply_patch <<'EOF'\n{PATCH}\n")]),
            argv(&[
                "bash",
                "-lc",
                &format!("apply_patchx <<'EOF'\n{PATCH}\nEOF"),
            ]),
            argv(&["bash", "-x", &heredoc]),
            argv(&["fish", "-c", &heredoc]),
            argv(&["bash", "-lc", "apply_patch"]),
            argv(&["bash", "-lc", ""]),
        ];
        for case in cases {
            assert_eq!(maybe_extract_patch_from_shell(&case), None, "{case:?}");
        }
    }
}
