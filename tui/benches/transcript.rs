//! Micro-benchmarks (divan) for the transcript pager (Ctrl-T): a 5,000-message session
//! (user messages, reasoning, answers with code blocks, commands) opened and scrolled. A frame
//! must cost the same wherever it is in the transcript and stay far below the 16 ms of one
//! frame at 60 Hz; the first colouring of a code block pays for loading the grammars once.
//!
//! Run with `cargo bench -p codex-tui`.

// A benchmark whose setup fails must stop loudly: there is no caller to hand an error to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use codex_tui::PagerBench;
use divan::Bencher;

const MESSAGES: usize = 5_000;

fn main() {
    divan::main();
}

/// Opening at 80×24 as the app does: the row counts were kept as cells reached the
/// scrollback, so only the first frame (at the end) is drawn.
#[divan::bench]
fn open(bencher: Bencher) {
    let mut session = PagerBench::new(MESSAGES, 80, 24);
    bencher.bench_local(|| session.open());
}

/// Opening after the terminal changed width: every cell's row count is computed again.
#[divan::bench(sample_count = 20)]
fn open_after_resize(bencher: Bencher) {
    let mut session = PagerBench::new(MESSAGES, 80, 24);
    bencher.bench_local(|| session.open_after_resize());
}

/// One Up or Down key and its frame, at the top, the middle and the end of the transcript.
#[divan::bench(args = [0.0, 0.5, 1.0])]
fn scroll_step(bencher: Bencher, position: f64) {
    let mut session = PagerBench::new(MESSAGES, 80, 24);
    session.open();
    session.jump(position);
    bencher.bench_local(|| session.scroll_step());
}

/// A frame at the same positions whose cells all have to be wrapped again (a page jump to
/// cells never drawn before).
#[divan::bench(args = [0.0, 0.5, 1.0])]
fn cold_frame(bencher: Bencher, position: f64) {
    let mut session = PagerBench::new(MESSAGES, 80, 24);
    session.open();
    session.jump(position);
    bencher.bench_local(|| session.cold_frame());
}

/// A streamed answer with a 200-line Rust block, in 12-byte deltas (about 3 tokens): every
/// finished line re-renders the message so far, and the block is coloured incrementally.
#[divan::bench(args = ["rust", "plain"], sample_count = 20)]
fn stream_code_block(language: &str) -> usize {
    let info = if language == "plain" { "" } else { language };
    let mut source = format!("Here is the file:\n\n```{info}\n");
    for n in 0..200 {
        source.push_str(&format!(
            "    let value_{n} = compute(\"{n}\", {n}) + 1; // step {n}\n"
        ));
    }
    source.push_str("```\n\nDone.\n");
    codex_tui::stream_markdown_for_bench(&source, 12)
}

/// What the first code block with a language pays, once per process: loading syntect's
/// bundled grammars and theme (done lazily, never at start-up) and colouring a 10-line Rust
/// block, which compiles the Rust grammar's regexes on first use.
#[divan::bench(sample_count = 10)]
fn first_colouring() -> usize {
    use syntect::easy::HighlightLines;
    use syntect::highlighting::ThemeSet;
    use syntect::parsing::SyntaxSet;
    let syntaxes = SyntaxSet::load_defaults_newlines();
    let theme = ThemeSet::load_defaults()
        .themes
        .remove("Solarized (dark)")
        .unwrap();
    let syntax = syntaxes.find_syntax_by_token("rust").unwrap();
    let mut highlighter = HighlightLines::new(syntax, &theme);
    let code = "use std::io;\n\n/// Reads a line.\nfn read(input: &str, pos: usize) -> Option<String> {\n    let rest = &input[pos..];\n    // keep the last token\n    if rest.is_empty() {\n        return None;\n    }\n    Some(format!(\"{rest}\"))\n}\n";
    code.split_inclusive('\n')
        .map(|line| highlighter.highlight_line(line, &syntaxes).unwrap().len())
        .sum()
}
