//! A deliberately small reader for the scripts models pass as `bash -lc "<script>"`.
//!
//! It understands words, quoting, backslash escapes and the list operators `&&`, `||`, `;`, `|`
//! and newline, and refuses everything else (parameter expansion, command substitution,
//! redirections, subshells, brace groups, background jobs, comments). Whatever it accepts is a
//! flat list of simple commands whose argv is known before the shell runs, which is what the
//! safety check and the display summary need.

/// One shell word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// The word holds an unquoted `*`, `?` or `[`, so the shell may replace it with file names.
    pub has_unquoted_glob: bool,
}

/// How a simple command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connector {
    /// The first command of the script.
    Start,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `;` or a newline
    Sequence,
    /// `|`
    Pipe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimpleCommand {
    pub connector: Connector,
    pub words: Vec<Word>,
}

impl SimpleCommand {
    pub fn argv(&self) -> Vec<String> {
        self.words.iter().map(|word| word.text.clone()).collect()
    }

    pub fn may_expand_globs(&self) -> bool {
        self.words.iter().any(|word| word.has_unquoted_glob)
    }
}

/// The script of `bash -c`/`bash -lc` (also `zsh`, `sh`), if `argv` is exactly such a call.
pub(crate) fn shell_script_of(argv: &[String]) -> Option<&str> {
    let [shell, flag, script] = argv else {
        return None;
    };
    let shell_name = ["/bin/", "/usr/bin/"]
        .iter()
        .find_map(|dir| shell.strip_prefix(dir))
        .unwrap_or(shell);
    let known_shell = matches!(shell_name, "bash" | "zsh" | "sh");
    let command_flag = matches!(flag.as_str(), "-c" | "-lc");
    (known_shell && command_flag).then_some(script.as_str())
}

/// Splits `script` into simple commands, or `None` if it uses anything beyond plain words joined
/// by list operators.
pub(crate) fn split_script(script: &str) -> Option<Vec<SimpleCommand>> {
    let mut splitter = Splitter::default();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => splitter.end_word(),
            '\n' => splitter.end_command(Connector::Sequence, true)?,
            ';' => {
                if chars.peek() == Some(&';') {
                    return None;
                }
                splitter.end_command(Connector::Sequence, false)?;
            }
            '&' => {
                // A lone `&` starts a background job (or `&>` a redirection).
                chars.next_if_eq(&'&')?;
                splitter.end_command(Connector::And, false)?;
            }
            '|' => {
                if chars.next_if_eq(&'|').is_some() {
                    splitter.end_command(Connector::Or, false)?;
                } else if chars.peek() == Some(&'&') {
                    return None;
                } else {
                    splitter.end_command(Connector::Pipe, false)?;
                }
            }
            '\'' => {
                let word = splitter.word();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => word.text.push(other),
                    }
                }
            }
            '"' => {
                let word = splitter.word();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            '\n' => {}
                            escaped @ ('$' | '`' | '"' | '\\') => word.text.push(escaped),
                            other => {
                                word.text.push('\\');
                                word.text.push(other);
                            }
                        },
                        // `$` right before the closing quote is literal (`rg "fn main$"`).
                        '$' if chars.peek() == Some(&'"') => word.text.push('$'),
                        '$' | '`' => return None,
                        other => word.text.push(other),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                escaped => splitter.word().text.push(escaped),
            },
            '$' | '`' | '(' | ')' | '<' | '>' | '{' | '}' => return None,
            '#' if splitter.current.is_none() => return None,
            '*' | '?' | '[' => {
                let word = splitter.word();
                word.text.push(c);
                word.has_unquoted_glob = true;
            }
            other => splitter.word().text.push(other),
        }
    }
    splitter.finish()
}

/// Renders an argv as one shell-quoted line, for display.
pub(crate) fn join_words<S: AsRef<str>>(words: &[S]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| quote_word(word.as_ref())).collect();
    quoted.join(" ")
}

fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

struct Splitter {
    commands: Vec<SimpleCommand>,
    words: Vec<Word>,
    current: Option<Word>,
    /// Connector that joins the command being read to the previous one.
    connector: Connector,
}

impl Default for Splitter {
    fn default() -> Self {
        Self {
            commands: Vec::new(),
            words: Vec::new(),
            current: None,
            connector: Connector::Start,
        }
    }
}

impl Splitter {
    fn word(&mut self) -> &mut Word {
        self.current.get_or_insert_with(|| Word {
            text: String::new(),
            has_unquoted_glob: false,
        })
    }

    fn end_word(&mut self) {
        if let Some(word) = self.current.take() {
            self.words.push(word);
        }
    }

    fn end_command(&mut self, next: Connector, newline: bool) -> Option<()> {
        self.end_word();
        if self.words.is_empty() {
            // Blank lines, and a newline after `&&`/`||`/`|`, are fine; an operator with no
            // command before it is a syntax error.
            return newline.then_some(());
        }
        self.commands.push(SimpleCommand {
            connector: self.connector,
            words: std::mem::take(&mut self.words),
        });
        self.connector = next;
        Some(())
    }

    fn finish(mut self) -> Option<Vec<SimpleCommand>> {
        self.end_word();
        if self.words.is_empty() {
            // A trailing `;` is fine, a dangling `&&`/`||`/`|` is not.
            return matches!(self.connector, Connector::Start | Connector::Sequence)
                .then_some(self.commands);
        }
        self.commands.push(SimpleCommand {
            connector: self.connector,
            words: self.words,
        });
        Some(self.commands)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn argvs(script: &str) -> Option<Vec<Vec<String>>> {
        split_script(script).map(|commands| commands.iter().map(SimpleCommand::argv).collect())
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn splits_on_list_operators_and_removes_quotes() {
        assert_eq!(
            argvs("ls -la && cat 'a b' || echo \"x\\\"y\"; wc -l|head\nnl  f"),
            Some(vec![
                strings(&["ls", "-la"]),
                strings(&["cat", "a b"]),
                strings(&["echo", "x\"y"]),
                strings(&["wc", "-l"]),
                strings(&["head"]),
                strings(&["nl", "f"]),
            ])
        );
        let connectors: Vec<Connector> = split_script("a && b || c; d | e\nf")
            .unwrap_or_default()
            .iter()
            .map(|command| command.connector)
            .collect();
        assert_eq!(
            connectors,
            vec![
                Connector::Start,
                Connector::And,
                Connector::Or,
                Connector::Sequence,
                Connector::Pipe,
                Connector::Sequence,
            ]
        );
    }

    #[test]
    fn accepts_blank_lines_trailing_semicolon_and_continuations() {
        assert_eq!(
            argvs("\nls;\n\ncat x &&\n  wc y;"),
            Some(vec![
                strings(&["ls"]),
                strings(&["cat", "x"]),
                strings(&["wc", "y"])
            ])
        );
        assert_eq!(argvs("echo a\\\nb"), Some(vec![strings(&["echo", "ab"])]));
        assert_eq!(argvs("echo ''"), Some(vec![strings(&["echo", ""])]));
        assert_eq!(
            argvs("rg \"fn main$\" '$HOME'"),
            Some(vec![strings(&["rg", "fn main$", "$HOME"])])
        );
    }

    #[test]
    fn marks_unquoted_globs_only() {
        let commands = split_script("ls *.rs; ls '*.rs'").unwrap_or_default();
        assert_eq!(commands.len(), 2);
        assert!(commands[0].may_expand_globs());
        assert!(!commands[1].may_expand_globs());
    }

    #[test]
    fn rejects_everything_that_is_not_a_plain_word_list() {
        for script in [
            "echo $HOME",
            "echo ${x}",
            "echo \"$HOME\"",
            "echo $(rm x)",
            "echo `rm x`",
            "echo \"`rm x`\"",
            "(ls)",
            "{ ls; }",
            "ls > f",
            "cat < f",
            "ls 2>&1",
            "ls &> f",
            "sleep 1 &",
            "ls |& cat",
            "ls && ",
            "&& ls",
            "ls ;; ls",
            "ls | ",
            "echo 'unterminated",
            "echo \"unterminated",
            "echo trailing\\",
            "# comment",
            "ls # comment",
        ] {
            assert_eq!(argvs(script), None, "{script}");
        }
    }

    #[test]
    fn recognises_shell_wrappers() {
        assert_eq!(
            shell_script_of(&strings(&["bash", "-lc", "ls"])),
            Some("ls")
        );
        assert_eq!(
            shell_script_of(&strings(&["/bin/zsh", "-c", "ls"])),
            Some("ls")
        );
        assert_eq!(shell_script_of(&strings(&["sh", "-c", "ls"])), Some("ls"));
        assert_eq!(shell_script_of(&strings(&["bash", "-x", "ls"])), None);
        assert_eq!(shell_script_of(&strings(&["./bash", "-c", "ls"])), None);
        assert_eq!(shell_script_of(&strings(&["bash", "-lc"])), None);
    }

    #[test]
    fn joins_words_with_quoting() {
        assert_eq!(
            join_words(&["rg", "-n", "fn main", "it's", ""]),
            r"rg -n 'fn main' 'it'\''s' ''"
        );
    }
}
