//! A command the agent ran: the command line, a live tail while it runs, then the exit status
//! and the first and last lines of its output.

use std::time::Duration;

use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::HistoryCell;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

/// Output lines shown from the start and from the end of a finished command.
const HEAD_LINES: usize = 2;
const TAIL_LINES: usize = 2;
/// Lines of live output shown while the command runs.
const LIVE_TAIL_LINES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i32,
    pub output: String,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct ExecCell {
    pub call_id: String,
    pub command: Vec<String>,
    /// Output received so far while running.
    pub live_output: String,
    pub result: Option<ExecOutput>,
    /// Output lines dropped by [`ExecCell::finish`] between the head and the tail.
    omitted_lines: usize,
}

impl ExecCell {
    pub fn new(call_id: String, command: Vec<String>) -> Self {
        Self {
            call_id,
            command,
            live_output: String::new(),
            result: None,
            omitted_lines: 0,
        }
    }

    pub fn push_output(&mut self, chunk: &[u8]) {
        self.live_output.push_str(&String::from_utf8_lossy(chunk));
        // Only the tail is ever shown; keep the buffer bounded for chatty commands.
        const KEEP: usize = 16 * 1024;
        if self.live_output.len() > 2 * KEEP {
            let mut cut = self.live_output.len() - KEEP;
            while !self.live_output.is_char_boundary(cut) {
                cut += 1;
            }
            self.live_output.drain(..cut);
        }
    }

    pub fn finish(&mut self, mut result: ExecOutput) {
        // Finished cells stay in the transcript for the whole session and only ever show the
        // first and last lines, so only those are kept (a command may have printed a megabyte).
        let lines = output_lines(&result.output);
        if lines.len() > HEAD_LINES + TAIL_LINES + 1 {
            self.omitted_lines = lines.len() - HEAD_LINES - TAIL_LINES;
            let kept: Vec<&str> = lines[..HEAD_LINES]
                .iter()
                .chain(&lines[lines.len() - TAIL_LINES..])
                .copied()
                .collect();
            result.output = kept.join("\n");
        }
        self.live_output = String::new();
        self.result = Some(result);
    }
}

/// The command as a user would type it: the script of `bash -lc <script>`, otherwise the
/// arguments quoted for a POSIX shell.
pub fn command_display(command: &[String]) -> String {
    if let [shell, flag, script] = command
        && matches!(
            shell.rsplit('/').next(),
            Some("bash" | "sh" | "zsh" | "dash")
        )
        && matches!(flag.as_str(), "-lc" | "-c")
    {
        return script.clone();
    }
    command
        .iter()
        .map(|arg| quote_arg(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_arg(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn output_lines(text: &str) -> Vec<&str> {
    let trimmed = text.trim_end_matches('\n');
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.lines().collect()
    }
}

fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let secs = duration.as_secs();
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}

impl HistoryCell for ExecCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let command = command_display(&self.command);
        let (bullet, verb) = match &self.result {
            None => ("•".cyan(), "Running"),
            Some(r) if r.exit_code == 0 => ("•".green().bold(), "Ran"),
            Some(_) => ("•".red().bold(), "Ran"),
        };
        let command_lines: Vec<PrefixedLine> = command
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let mut spans = Vec::new();
                if i == 0 {
                    spans.push(verb.bold());
                    spans.push(" ".into());
                }
                spans.push(Span::raw(l.to_string()));
                PrefixedLine::plain(Line::from(spans))
            })
            .collect();
        let mut out = wrap_with_prefix(
            &command_lines,
            width,
            &Line::from(vec![bullet, " ".into()]),
            &Line::from("  │ ".dim()),
        );

        let dim = Style::new().dim();
        let mut body: Vec<PrefixedLine> = Vec::new();
        match &self.result {
            None => {
                let lines = output_lines(&self.live_output);
                let start = lines.len().saturating_sub(LIVE_TAIL_LINES);
                for line in &lines[start..] {
                    body.push(Line::from(Span::styled(line.to_string(), dim)).into());
                }
            }
            Some(result) => {
                let lines = output_lines(&result.output);
                let omitted = self.omitted_lines;
                for (index, line) in lines.iter().enumerate() {
                    if omitted > 0 && index == HEAD_LINES {
                        body.push(Line::from(format!("… +{omitted} lines").dim().italic()).into());
                    }
                    body.push(Line::from(Span::styled(line.to_string(), dim)).into());
                }
                let status = if result.exit_code == 0 {
                    Line::from(vec![
                        "✓".green(),
                        format!(" {}", format_duration(result.duration)).dim(),
                    ])
                } else {
                    Line::from(vec![
                        format!("✗ exit code {}", result.exit_code).red(),
                        format!(" • {}", format_duration(result.duration)).dim(),
                    ])
                };
                body.push(status.into());
            }
        }
        if !body.is_empty() {
            out.extend(wrap_with_prefix(
                &body,
                width,
                &Line::from("  └ ".dim()),
                &Line::from("    "),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_cell::tests::render;
    use pretty_assertions::assert_eq;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_display_unwraps_shell_scripts() {
        assert_eq!(
            command_display(&argv(&["bash", "-lc", "ls -la | head"])),
            "ls -la | head"
        );
        assert_eq!(
            command_display(&argv(&["echo", "it's here", "a=b"])),
            r"echo 'it'\''s here' a=b"
        );
    }

    #[test]
    fn running_success_and_failure() {
        let mut running = ExecCell::new("c1".into(), argv(&["bash", "-lc", "cargo test"]));
        running.push_output(b"Compiling a\nCompiling b\nCompiling c\nRunning tests\n");
        let mut ok = ExecCell::new("c2".into(), argv(&["echo", "hello"]));
        ok.finish(ExecOutput {
            exit_code: 0,
            output: "hello\n".into(),
            duration: Duration::from_millis(12),
        });
        let mut failed = ExecCell::new("c3".into(), argv(&["bash", "-lc", "seq 1 10 && false"]));
        failed.finish(ExecOutput {
            exit_code: 1,
            output: (1..=10).map(|n| format!("{n}\n")).collect(),
            duration: Duration::from_millis(2500),
        });
        insta::assert_snapshot!(format!(
            "{}\n\n{}\n\n{}",
            render(&running, 40),
            render(&ok, 40),
            render(&failed, 40)
        ));
    }

    #[test]
    fn a_finished_cell_keeps_only_the_lines_it_shows() {
        let mut cell = ExecCell::new("c1".into(), argv(&["seq", "1", "100000"]));
        let output: String = (1..=100_000).map(|n| format!("{n}\n")).collect();
        cell.finish(ExecOutput {
            exit_code: 0,
            output,
            duration: Duration::from_secs(1),
        });
        let kept = cell.result.as_ref().map_or(0, |r| r.output.len());
        assert!(kept < 64, "kept {kept} bytes");
        assert_eq!(
            render(&cell, 40),
            "• Ran seq 1 100000\n  └ 1\n    2\n    … +99996 lines\n    99999\n    100000\n    ✓ 1.0s"
        );
    }
}
