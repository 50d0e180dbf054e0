//! What the model reads back from a command: the interleaved output, cut to a head and a tail
//! when it is long, so one noisy command cannot flood the context window.

use super::ExecOutput;

const MODEL_FORMAT_MAX_BYTES: usize = 10 * 1024;
const MODEL_FORMAT_MAX_LINES: usize = 256;
const MODEL_FORMAT_HEAD_LINES: usize = MODEL_FORMAT_MAX_LINES / 2;
const MODEL_FORMAT_TAIL_LINES: usize = MODEL_FORMAT_MAX_LINES - MODEL_FORMAT_HEAD_LINES;
const MODEL_FORMAT_HEAD_BYTES: usize = MODEL_FORMAT_MAX_BYTES / 2;
const MODEL_FORMAT_TAIL_BYTES: usize = MODEL_FORMAT_MAX_BYTES - MODEL_FORMAT_HEAD_BYTES;

/// The function-call output text for a finished command: its aggregated output, verbatim when
/// within 10 KiB and 256 lines, otherwise `Total output lines: N`, up to 128 lines / 5 KiB of
/// head, an `[... omitted K of N lines ...]` marker and up to 128 lines / 5 KiB of tail. A timed
/// out command is prefixed with `command timed out after <ms> milliseconds`.
pub fn format_output_for_model(output: &ExecOutput) -> String {
    let body = truncate_for_model(&output.aggregated_output);
    if output.timed_out {
        format!(
            "command timed out after {} milliseconds\n{body}",
            output.duration.as_millis()
        )
    } else {
        body
    }
}

/// In the marker, a line counts as shown only if it is shown whole; lines cut by a byte budget
/// count as omitted.
fn truncate_for_model(text: &str) -> String {
    let total_lines = text.split_inclusive('\n').count();
    if text.len() <= MODEL_FORMAT_MAX_BYTES && total_lines <= MODEL_FORMAT_MAX_LINES {
        return text.to_string();
    }

    // Over the byte budget with few lines, head and tail split the lines between them.
    let head_lines = MODEL_FORMAT_HEAD_LINES.min(total_lines.div_ceil(2));
    let tail_lines = MODEL_FORMAT_TAIL_LINES.min(total_lines - head_lines);

    let head_end: usize = text
        .split_inclusive('\n')
        .take(head_lines)
        .map(str::len)
        .sum();
    let tail_len: usize = text
        .split_inclusive('\n')
        .rev()
        .take(tail_lines)
        .map(str::len)
        .sum();
    let head_cut = floor_char_boundary(text, head_end.min(MODEL_FORMAT_HEAD_BYTES));
    let tail_cut = ceil_char_boundary(text, text.len() - tail_len.min(MODEL_FORMAT_TAIL_BYTES));
    let head = &text[..head_cut];
    let tail = &text[tail_cut..];

    let shown_head = head.matches('\n').count();
    let tail_starts_a_line = tail_cut == 0 || text.as_bytes()[tail_cut - 1] == b'\n';
    let shown_tail = usize::from(tail_starts_a_line && !tail.is_empty())
        + tail
            .strip_suffix('\n')
            .unwrap_or(tail)
            .matches('\n')
            .count();
    let omitted = total_lines.saturating_sub(shown_head + shown_tail);

    format!(
        "Total output lines: {total_lines}\n\n{head}\n[... omitted {omitted} of {total_lines} lines ...]\n\n{tail}"
    )
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::time::Duration;

    fn output(aggregated: &str) -> ExecOutput {
        ExecOutput {
            exit_code: 0,
            stdout: aggregated.to_string(),
            stderr: String::new(),
            aggregated_output: aggregated.to_string(),
            duration: Duration::from_millis(1234),
            timed_out: false,
            truncated_bytes: 0,
        }
    }

    #[test]
    fn small_output_is_verbatim() {
        let text = "hello\nworld\n";
        assert_eq!(format_output_for_model(&output(text)), text);
        let exactly_at_limits = "x\n".repeat(MODEL_FORMAT_MAX_LINES);
        assert_eq!(
            format_output_for_model(&output(&exactly_at_limits)),
            exactly_at_limits
        );
        assert_eq!(format_output_for_model(&output("")), "");
    }

    #[test]
    fn many_lines_keep_head_and_tail_with_exact_counts() {
        let text: String = (1..=400).map(|i| format!("line {i}\n")).collect();
        let formatted = format_output_for_model(&output(&text));
        let head: String = (1..=128).map(|i| format!("line {i}\n")).collect();
        let tail: String = (273..=400).map(|i| format!("line {i}\n")).collect();
        assert_eq!(
            formatted,
            format!(
                "Total output lines: 400\n\n{head}\n[... omitted 144 of 400 lines ...]\n\n{tail}"
            )
        );
    }

    #[test]
    fn many_long_lines_are_cut_by_the_byte_budget() {
        // 200 lines of 100 bytes: 20 000 bytes, under the line limit, over the byte limit.
        let line = format!("{}\n", "a".repeat(99));
        let text = line.repeat(200);
        let formatted = format_output_for_model(&output(&text));
        // 5120 bytes hold 51 whole lines (5100 bytes) and 20 bytes of the 52nd, on each side.
        let expected = format!(
            "Total output lines: 200\n\n{}{}\n[... omitted 98 of 200 lines ...]\n\n{}{}",
            line.repeat(51),
            "a".repeat(20),
            &line[80..],
            line.repeat(51),
        );
        assert_eq!(formatted, expected);
    }

    #[test]
    fn few_huge_lines_respect_byte_budget_and_char_boundaries() {
        // Three-byte characters never align with the 5120-byte budget (5120 % 3 == 2).
        let huge = "€".repeat(10_000);
        let text = format!("{huge}\n{huge}\n{huge}");
        let formatted = format_output_for_model(&output(&text));
        let marker = "\n[... omitted 3 of 3 lines ...]\n\n";
        let body = formatted
            .strip_prefix("Total output lines: 3\n\n")
            .unwrap_or_else(|| panic!("missing header: {}", &formatted[..40]));
        let (head, tail) = body
            .split_once(marker)
            .unwrap_or_else(|| panic!("missing marker"));
        assert_eq!(head, "€".repeat(1706));
        assert_eq!(tail, "€".repeat(1706));
        assert!(formatted.len() <= MODEL_FORMAT_MAX_BYTES + 100);
    }

    #[test]
    fn timed_out_output_gets_a_prefix() {
        let mut timed_out = output("partial\n");
        timed_out.timed_out = true;
        timed_out.exit_code = crate::exec::EXEC_TIMEOUT_EXIT_CODE;
        assert_eq!(
            format_output_for_model(&timed_out),
            "command timed out after 1234 milliseconds\npartial\n"
        );
    }
}
