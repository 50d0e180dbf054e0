//! Everything `codex exec` reads before the session starts: the prompt, images, the output schema,
//! and the git-repository check.

use std::io::IsTerminal;
use std::io::Read;
use std::path::Path;
use std::path::PathBuf;

use anyhow::Context;
use anyhow::bail;
use codex_protocol::models::InputItem;

/// The prompt from the argument, or from stdin when it is absent or `-`.
pub(crate) fn resolve_prompt(prompt: Option<String>) -> anyhow::Result<String> {
    match prompt {
        Some(prompt) if prompt != "-" => Ok(prompt),
        explicit_dash => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() && explicit_dash.is_none() {
                bail!(
                    "No prompt provided. Either specify one as an argument or pipe the prompt into stdin."
                );
            }
            if !stdin.is_terminal() {
                eprintln!("Reading prompt from stdin...");
            }
            let mut buffer = String::new();
            stdin
                .lock()
                .read_to_string(&mut buffer)
                .context("failed to read the prompt from stdin")?;
            prompt_from_stdin(buffer)
        }
    }
}

fn prompt_from_stdin(buffer: String) -> anyhow::Result<String> {
    if buffer.trim().is_empty() {
        bail!("No prompt provided via stdin.");
    }
    Ok(buffer)
}

/// The user turn's input: images first, then the prompt text.
pub(crate) fn build_input_items(
    images: Vec<PathBuf>,
    prompt: String,
) -> anyhow::Result<Vec<InputItem>> {
    let mut items = Vec::with_capacity(images.len() + 1);
    for path in images {
        if !path.is_file() {
            bail!("cannot attach image {}: no such file", path.display());
        }
        items.push(InputItem::LocalImage { path });
    }
    items.push(InputItem::Text { text: prompt });
    Ok(items)
}

/// Reads and parses the `--output-schema` file.
pub(crate) fn load_output_schema(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read output schema file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("output schema file {} is not valid JSON", path.display()))
}

/// Whether `dir` or one of its ancestors holds a `.git` directory or file (worktrees and
/// submodules use a file). Deliberately no `git` subprocess: it must work without git installed.
pub(crate) fn is_inside_git_repo(dir: &Path) -> bool {
    dir.ancestors().any(|d| d.join(".git").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_repo_detection_walks_up() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert!(!is_inside_git_repo(&nested));

        std::fs::create_dir(root.path().join(".git")).unwrap();
        assert!(is_inside_git_repo(&nested));
        assert!(is_inside_git_repo(root.path()));

        let worktree = tempfile::tempdir().unwrap();
        std::fs::write(worktree.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert!(is_inside_git_repo(worktree.path()));
    }

    #[test]
    fn images_come_before_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("shot.png");
        std::fs::write(&image, b"png").unwrap();
        let items = build_input_items(vec![image.clone()], "look".into()).unwrap();
        assert_eq!(
            items,
            vec![
                InputItem::LocalImage { path: image },
                InputItem::Text {
                    text: "look".into()
                }
            ]
        );
        let missing = dir.path().join("missing.png");
        let err = build_input_items(vec![missing], "x".into()).unwrap_err();
        assert!(err.to_string().contains("missing.png"), "{err}");
    }

    #[test]
    fn output_schema_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"type": "object"}"#).unwrap();
        assert_eq!(
            load_output_schema(&good).unwrap(),
            serde_json::json!({"type": "object"})
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{nope").unwrap();
        let err = format!("{:#}", load_output_schema(&bad).unwrap_err());
        assert!(
            err.contains("bad.json") && err.contains("not valid JSON"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            load_output_schema(&dir.path().join("none.json")).unwrap_err()
        );
        assert!(err.contains("none.json"), "{err}");
    }

    #[test]
    fn blank_stdin_is_no_prompt() {
        assert!(prompt_from_stdin(" \n".into()).is_err());
        assert_eq!(prompt_from_stdin("hi\n".into()).unwrap(), "hi\n");
    }
}
