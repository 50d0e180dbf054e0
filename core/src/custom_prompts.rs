//! Saved prompts: Markdown files in `$CODEX_HOME/prompts/` that the TUI offers as
//! `/prompts:<name>`, as Codex CLI does. Discovery reads the files (answering
//! `Op::ListCustomPrompts`); expansion turns `/prompts:<name> args…` into the text sent, so every
//! front-end fills placeholders the same way.
//!
//! A file may start with YAML-like front matter (`description:`, `argument-hint:`) between `---`
//! lines. Its body may use named placeholders (`$FILE`, filled from `FILE=value` arguments, all
//! required) or positional ones (`$1`..`$9` and `$ARGUMENTS`, all arguments joined by spaces).
//! `$$` keeps what follows from being expanded and is sent as written.

use std::collections::HashMap;
use std::path::Path;

use codex_protocol::custom_prompts::CustomPrompt;
use codex_protocol::custom_prompts::PROMPTS_CMD_PREFIX;

/// The directory of saved prompts inside `$CODEX_HOME`.
pub const PROMPTS_DIR: &str = "prompts";

/// Why `/prompts:<name> args…` could not be expanded; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptExpansionError {
    #[error(
        "Could not parse {command}: expected key=value but found '{token}'. Wrap values in double quotes if they contain spaces."
    )]
    MissingAssignment { command: String, token: String },
    #[error("Could not parse {command}: expected a name before '=' in '{token}'.")]
    MissingKey { command: String, token: String },
    #[error(
        "Missing required args for {command}: {}. Provide as key=value (quote values with spaces).",
        missing.join(", ")
    )]
    MissingArgs {
        command: String,
        missing: Vec<String>,
    },
    #[error("Could not parse {command}: a quote is not closed.")]
    UnclosedQuote { command: String },
}

/// The `.md` files directly in `dir` (not in subdirectories), sorted by name; unreadable or
/// non-UTF-8 files are skipped. A missing directory has no prompts.
pub fn discover_prompts_in(dir: &Path) -> Vec<CustomPrompt> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut prompts: Vec<CustomPrompt> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let is_md = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| ext.eq_ignore_ascii_case("md"));
            // `metadata` follows symlinks, so a linked prompt file counts.
            if !is_md || !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return None;
            }
            let name = path.file_stem()?.to_str()?.to_string();
            let text = std::fs::read_to_string(&path).ok()?;
            let (description, argument_hint, content) = parse_front_matter(&text);
            Some(CustomPrompt {
                name,
                path,
                content,
                description,
                argument_hint,
            })
        })
        .collect();
    prompts.sort_by(|a, b| a.name.cmp(&b.name));
    prompts
}

/// `(description, argument_hint, body)`. Without a closed `---` block the whole text is the body.
fn parse_front_matter(text: &str) -> (Option<String>, Option<String>, String) {
    let mut lines = text.split_inclusive('\n');
    let opens = lines
        .next()
        .is_some_and(|first| first.trim_end_matches(['\r', '\n']).trim() == "---");
    if !opens {
        return (None, None, text.to_string());
    }
    let mut description = None;
    let mut argument_hint = None;
    let mut consumed = text.split_inclusive('\n').next().map_or(0, str::len);
    for line in lines {
        consumed += line.len();
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim() == "---" {
            return (description, argument_hint, text[consumed..].to_string());
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            continue;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "description" => description = Some(value.to_string()),
            "argument-hint" | "argument_hint" => argument_hint = Some(value.to_string()),
            _ => {}
        }
    }
    (None, None, text.to_string())
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// `/name rest` → `(name, rest)`; `None` unless the text starts with `/` and a name.
pub fn parse_slash_name(text: &str) -> Option<(&str, &str)> {
    let stripped = text.strip_prefix('/')?;
    let end = stripped.find(char::is_whitespace).unwrap_or(stripped.len());
    let name = &stripped[..end];
    (!name.is_empty()).then(|| (name, stripped[end..].trim_start()))
}

/// Named placeholders (`$NAME`, upper case, digits and `_`) in order of first use, without
/// `$ARGUMENTS` and without those escaped as `$$NAME`.
pub fn prompt_argument_names(content: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, name) in named_placeholders(content) {
        if name != "ARGUMENTS" && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Whether the body uses `$1`..`$9` or `$ARGUMENTS`.
pub fn prompt_has_numeric_placeholders(content: &str) -> bool {
    content.contains("$ARGUMENTS")
        || content
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'$' && (b'1'..=b'9').contains(&w[1]))
}

/// Expands `/prompts:<name> args…` with the matching prompt. `Ok(None)` when the text is not
/// such a command or no prompt has that name.
pub fn expand_custom_prompt(
    text: &str,
    prompts: &[CustomPrompt],
) -> Result<Option<String>, PromptExpansionError> {
    let Some((command, rest)) = parse_slash_name(text.trim_start()) else {
        return Ok(None);
    };
    let Some(prompt_name) = command
        .strip_prefix(PROMPTS_CMD_PREFIX)
        .and_then(|c| c.strip_prefix(':'))
    else {
        return Ok(None);
    };
    let Some(prompt) = prompts.iter().find(|p| p.name == prompt_name) else {
        return Ok(None);
    };
    let command = format!("/{command}");
    let args = split_args(rest).ok_or_else(|| PromptExpansionError::UnclosedQuote {
        command: command.clone(),
    })?;
    let required = prompt_argument_names(&prompt.content);
    if required.is_empty() {
        return Ok(Some(expand_numeric_placeholders(&prompt.content, &args)));
    }
    let mut values = HashMap::new();
    for token in args {
        let Some((key, value)) = token.split_once('=') else {
            return Err(PromptExpansionError::MissingAssignment { command, token });
        };
        if key.is_empty() {
            return Err(PromptExpansionError::MissingKey { command, token });
        }
        values.insert(key.to_string(), value.to_string());
    }
    let missing: Vec<String> = required
        .into_iter()
        .filter(|name| !values.contains_key(name))
        .collect();
    if !missing.is_empty() {
        return Err(PromptExpansionError::MissingArgs { command, missing });
    }
    let content = &prompt.content;
    let mut out = String::with_capacity(content.len());
    let mut copied = 0;
    for (at, name) in named_placeholders(content) {
        if let Some(value) = values.get(name) {
            out.push_str(&content[copied..at]);
            out.push_str(value);
            copied = at + 1 + name.len();
        }
    }
    out.push_str(&content[copied..]);
    Ok(Some(out))
}

/// `$1`..`$9` become the arguments (empty when missing), `$ARGUMENTS` all of them joined by
/// spaces; `$$` stays as written.
pub fn expand_numeric_placeholders(content: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.as_bytes().first() {
            Some(b'$') => {
                out.push_str("$$");
                rest = &after[1..];
            }
            Some(digit @ b'1'..=b'9') => {
                if let Some(arg) = args.get(usize::from(digit - b'1')) {
                    out.push_str(arg);
                }
                rest = &after[1..];
            }
            _ if after.starts_with("ARGUMENTS") => {
                out.push_str(&args.join(" "));
                rest = &after["ARGUMENTS".len()..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The composer text that asks for a prompt's named arguments: `/prompts:name A="" B=""`, and
/// the byte offset inside the first pair of quotes.
pub fn prompt_command_with_arg_placeholders(name: &str, args: &[String]) -> (String, usize) {
    let mut text = format!("/{PROMPTS_CMD_PREFIX}:{name}");
    let mut cursor = text.len();
    for (i, arg) in args.iter().enumerate() {
        text.push_str(&format!(" {arg}=\"\""));
        if i == 0 {
            cursor = text.len() - 1;
        }
    }
    (text, cursor)
}

/// `(byte offset of the `$`, name)` of every unescaped `$NAME` in `content`.
fn named_placeholders(content: &str) -> Vec<(usize, &str)> {
    let bytes = content.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            // `$$NAME` is literal: skip the pair and the name after it.
            i += 2;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
            continue;
        }
        let start = i + 1;
        if !bytes.get(start).is_some_and(u8::is_ascii_uppercase) {
            i += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && is_name_byte(bytes[end]) {
            end += 1;
        }
        found.push((i, &content[start..end]));
        i = end;
    }
    found
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Splits arguments as a POSIX shell would for plain words: whitespace separates, single and
/// double quotes group (a backslash escapes inside double quotes and outside quotes). `None`
/// when a quote is not closed.
pub fn split_args(text: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => current.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => current.push(c),
                            c => {
                                current.push('\\');
                                current.push(c);
                            }
                        },
                        c => current.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        args.push(current);
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn prompt(name: &str, content: &str) -> CustomPrompt {
        CustomPrompt {
            name: name.to_string(),
            path: format!("/h/prompts/{name}.md").into(),
            content: content.to_string(),
            description: None,
            argument_hint: None,
        }
    }

    #[test]
    fn discovers_top_level_markdown_with_front_matter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("draftpr.md"),
            "---\ndescription: \"Prep a draft PR\"\nargument-hint: [FILES=<paths>]\n---\nOpen a PR for $FILES.\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("Beta.MD"), "No front matter\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        std::fs::write(dir.path().join("open.md"), "---\nnot closed\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/nested.md"), "ignored").unwrap();
        std::fs::create_dir(dir.path().join("dir.md")).unwrap();

        let prompts = discover_prompts_in(dir.path());
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Beta", "draftpr", "open"]);
        assert_eq!(prompts[0].content, "No front matter\n");
        assert_eq!(prompts[1].description.as_deref(), Some("Prep a draft PR"));
        assert_eq!(prompts[1].argument_hint.as_deref(), Some("[FILES=<paths>]"));
        assert_eq!(prompts[1].content, "Open a PR for $FILES.\n");
        assert_eq!(prompts[2].content, "---\nnot closed\n");
        assert!(discover_prompts_in(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn expands_named_arguments() {
        let prompts = [prompt("review", "Review $USER changes on $BRANCH ($USER)")];
        let out =
            expand_custom_prompt("/prompts:review USER=\"Alice Smith\" BRANCH=main", &prompts);
        assert_eq!(
            out,
            Ok(Some(
                "Review Alice Smith changes on main (Alice Smith)".into()
            ))
        );
        let missing = expand_custom_prompt("/prompts:review USER=Alice", &prompts).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "Missing required args for /prompts:review: BRANCH. Provide as key=value (quote values with spaces)."
        );
        let stray = expand_custom_prompt("/prompts:review USER=A BRANCH=b stray", &prompts);
        assert!(
            stray
                .unwrap_err()
                .to_string()
                .contains("expected key=value"),
            "stray token"
        );
        assert!(matches!(
            expand_custom_prompt("/prompts:review =x", &prompts),
            Err(PromptExpansionError::MissingKey { .. })
        ));
    }

    #[test]
    fn expands_positional_arguments() {
        let prompts = [prompt(
            "fix",
            "Header: $1\nAll: $ARGUMENTS\nNinth: $9\nCost: $5$$1",
        )];
        let out = expand_custom_prompt("/prompts:fix \"a b\" c", &prompts).unwrap();
        assert_eq!(
            out.as_deref(),
            Some("Header: a b\nAll: a b c\nNinth: \nCost: $$1")
        );
        let plain = [prompt("hello", "Say hello.")];
        assert_eq!(
            expand_custom_prompt("/prompts:hello", &plain),
            Ok(Some("Say hello.".into()))
        );
    }

    #[test]
    fn leaves_other_text_alone() {
        let prompts = [prompt("hello", "Say hello.")];
        assert_eq!(expand_custom_prompt("/hello", &prompts), Ok(None));
        assert_eq!(expand_custom_prompt("/prompts:other", &prompts), Ok(None));
        assert_eq!(expand_custom_prompt("hello", &prompts), Ok(None));
    }

    #[test]
    fn finds_placeholder_names() {
        assert_eq!(
            prompt_argument_names("$A then $B_2 and $A, $ARGUMENTS, $$ESCAPED, $lower, $1"),
            ["A", "B_2"]
        );
        assert!(prompt_has_numeric_placeholders("x $3"));
        assert!(prompt_has_numeric_placeholders("$ARGUMENTS"));
        assert!(!prompt_has_numeric_placeholders("$0 and $NAME"));
    }

    #[test]
    fn placeholders_template_puts_the_cursor_in_the_first_quotes() {
        let (text, cursor) =
            prompt_command_with_arg_placeholders("pr", &["FILES".into(), "TITLE".into()]);
        assert_eq!(text, "/prompts:pr FILES=\"\" TITLE=\"\"");
        assert_eq!(&text[..cursor], "/prompts:pr FILES=\"");
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_args(r#" a "b c" 'd e' f\ g KEY="x \"y\"" "#).unwrap(),
            ["a", "b c", "d e", "f g", "KEY=x \"y\""]
        );
        assert_eq!(split_args("\"open"), None);
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
    }
}
