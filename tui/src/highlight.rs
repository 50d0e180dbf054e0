//! Syntax colouring of fenced code blocks in the agent's markdown.
//!
//! The grammars and the theme (syntect's bundled dumps) take tens of milliseconds to load, so
//! they are loaded on the first code block that names a language, never while the UI starts.
//! Streaming re-renders a growing message once per finished line; a small per-thread cache
//! keeps the parser state at the end of each block it saw, so a block that only grew is coloured
//! from where it stopped instead of from its first line.

use std::cell::Cell;
use std::cell::RefCell;
use std::sync::OnceLock;

use ratatui::style::Color;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::FontStyle;
use syntect::highlighting::HighlightState;
use syntect::highlighting::Theme;
use syntect::highlighting::ThemeSet;
use syntect::parsing::ParseState;
use syntect::parsing::SyntaxReference;
use syntect::parsing::SyntaxSet;

/// Solarized's accents are mid-tone on purpose: they read on dark and light terminals alike.
const THEME: &str = "Solarized (dark)";

/// Blocks remembered per thread for incremental colouring while a message streams.
const CACHED_BLOCKS: usize = 8;

/// How colours reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMode {
    /// `NO_COLOR` is set: code blocks keep the plain style.
    Off,
    /// The xterm 256-colour palette, which every terminal in use shows.
    Indexed,
    /// 24-bit colour, when the terminal says it has it (`COLORTERM=truecolor`).
    Rgb,
}

impl ColourMode {
    /// The mode the environment asks for, read once per process.
    pub fn from_env() -> Self {
        static MODE: OnceLock<ColourMode> = OnceLock::new();
        *MODE.get_or_init(|| {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                return Self::Off;
            }
            match std::env::var("COLORTERM") {
                Ok(v) if v.eq_ignore_ascii_case("truecolor") || v.eq_ignore_ascii_case("24bit") => {
                    Self::Rgb
                }
                _ => Self::Indexed,
            }
        })
    }
}

struct Assets {
    syntaxes: SyntaxSet,
    theme: Theme,
}

fn assets() -> Option<&'static Assets> {
    static ASSETS: OnceLock<Option<Assets>> = OnceLock::new();
    ASSETS
        .get_or_init(|| {
            let syntaxes = SyntaxSet::load_defaults_newlines();
            let theme = ThemeSet::load_defaults().themes.remove(THEME)?;
            Some(Assets { syntaxes, theme })
        })
        .as_ref()
}

/// `code` (a fenced block's text) as coloured lines, or `None` when it should keep the plain
/// style: no colours wanted, no language given, or a language the bundled grammars do not know.
pub fn highlight_code(code: &str, info: &str, mode: ColourMode) -> Option<Vec<Line<'static>>> {
    if mode == ColourMode::Off || PLAIN.with(Cell::get) {
        return None;
    }
    let token = language_token(info)?;
    let assets = assets()?;
    let syntax = find_syntax(&assets.syntaxes, token)?;
    highlight_with_cache(assets, syntax, code, mode)
}

/// The language of an info string such as `rust ignore` or `{.python}`.
fn language_token(info: &str) -> Option<&str> {
    let token = info
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()?
        .trim_matches(|c| c == '{' || c == '}' || c == '.');
    (!token.is_empty()).then_some(token)
}

fn find_syntax<'a>(syntaxes: &'a SyntaxSet, token: &str) -> Option<&'a SyntaxReference> {
    let lower = token.to_ascii_lowercase();
    // Names models use that the bundled grammars know under another name, or only approximately.
    let alias = match lower.as_str() {
        "shell" | "zsh" | "console" | "shellscript" => "bash",
        "ts" | "typescript" | "tsx" | "jsx" | "mjs" | "cjs" => "js",
        "jsonc" | "json5" => "json",
        "py3" | "python3" => "py",
        "golang" => "go",
        "c++" => "cpp",
        other => other,
    };
    let syntax = syntaxes.find_syntax_by_token(alias)?;
    (syntax.name != "Plain Text").then_some(syntax)
}

/// A block coloured earlier: its text up to its last newline, the lines of that text and the
/// parser state after it.
struct CachedBlock {
    syntax: String,
    mode: ColourMode,
    source: String,
    lines: Vec<Line<'static>>,
    highlight_state: HighlightState,
    parse_state: ParseState,
}

thread_local! {
    static CACHE: RefCell<Vec<CachedBlock>> = const { RefCell::new(Vec::new()) };
    static PLAIN: Cell<bool> = const { Cell::new(false) };
}

/// While alive, code blocks on this thread keep the plain style. Colouring costs ~0.1 ms a
/// line (fancy-regex), so replaying a long resumed session colours only its recent part.
pub struct PlainCode {
    previous: bool,
}

impl PlainCode {
    pub fn begin() -> Self {
        Self {
            previous: PLAIN.with(|p| p.replace(true)),
        }
    }
}

impl Drop for PlainCode {
    fn drop(&mut self) {
        PLAIN.with(|p| p.set(self.previous));
    }
}

fn highlight_with_cache(
    assets: &Assets,
    syntax: &SyntaxReference,
    code: &str,
    mode: ColourMode,
) -> Option<Vec<Line<'static>>> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let hit = cache.iter().position(|c| {
            c.mode == mode && c.syntax == syntax.name && code.starts_with(c.source.as_str())
        });
        let (mut lines, mut done, mut highlighter) = match hit.map(|i| cache.remove(i)) {
            Some(block) => (
                block.lines,
                block.source.len(),
                HighlightLines::from_state(&assets.theme, block.highlight_state, block.parse_state),
            ),
            None => (Vec::new(), 0, HighlightLines::new(syntax, &assets.theme)),
        };
        let default_fg = assets.theme.settings.foreground;
        let mut tail = None;
        for line in code[done..].split_inclusive('\n') {
            if !line.ends_with('\n') {
                tail = Some(line);
                break;
            }
            let regions = highlighter.highlight_line(line, &assets.syntaxes).ok()?;
            lines.push(to_line(&regions, default_fg, mode));
            done += line.len();
        }
        let (highlight_state, parse_state) = highlighter.state();
        let mut out = lines.clone();
        if let Some(tail) = tail {
            // The unfinished last line is coloured from a copy: the cached state stays at the
            // last newline, where the next, longer version of this block will continue.
            let mut copy = HighlightLines::from_state(
                &assets.theme,
                highlight_state.clone(),
                parse_state.clone(),
            );
            let regions = copy.highlight_line(tail, &assets.syntaxes).ok()?;
            out.push(to_line(&regions, default_fg, mode));
        }
        if cache.len() >= CACHED_BLOCKS {
            cache.remove(0);
        }
        cache.push(CachedBlock {
            syntax: syntax.name.clone(),
            mode,
            source: code[..done].to_string(),
            lines,
            highlight_state,
            parse_state,
        });
        Some(out)
    })
}

fn to_line(
    regions: &[(syntect::highlighting::Style, &str)],
    default_fg: Option<syntect::highlighting::Color>,
    mode: ColourMode,
) -> Line<'static> {
    let spans: Vec<Span<'static>> = regions
        .iter()
        .filter_map(|(style, text)| {
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                return None;
            }
            let mut out = Style::new();
            // The theme's plain text colour is left to the terminal, so plain code reads as
            // the user's own foreground on any background.
            if Some(style.foreground) != default_fg {
                let c = style.foreground;
                out = out.fg(terminal_colour(c.r, c.g, c.b, mode));
            }
            if style.font_style.contains(FontStyle::BOLD) {
                out = out.add_modifier(Modifier::BOLD);
            }
            if style.font_style.contains(FontStyle::ITALIC) {
                out = out.add_modifier(Modifier::ITALIC);
            }
            Some(Span::styled(text.to_string(), out))
        })
        .collect();
    Line::from(spans)
}

fn terminal_colour(r: u8, g: u8, b: u8, mode: ColourMode) -> Color {
    match mode {
        ColourMode::Rgb => Color::Rgb(r, g, b),
        ColourMode::Indexed | ColourMode::Off => Color::Indexed(xterm_index(r, g, b)),
    }
}

/// The nearest colour of the xterm 256-colour palette (its 6×6×6 cube or its grey ramp).
fn xterm_index(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest = |v: u8| -> u8 {
        let mut best = 0u8;
        for (i, level) in LEVELS.iter().enumerate() {
            if v.abs_diff(*level) < v.abs_diff(LEVELS[usize::from(best)]) {
                best = i as u8;
            }
        }
        best
    };
    let (ri, gi, bi) = (nearest(r), nearest(g), nearest(b));
    let cube = (
        LEVELS[usize::from(ri)],
        LEVELS[usize::from(gi)],
        LEVELS[usize::from(bi)],
    );
    let average = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let grey_step = (average.saturating_sub(8) / 10).min(23) as u8;
    let grey = 8 + 10 * grey_step;
    let distance = |(x, y, z): (u8, u8, u8)| -> u32 {
        let d = |a: u8, b: u8| u32::from(a.abs_diff(b)).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if distance((grey, grey, grey)) < distance(cube) {
        232 + grey_step
    } else {
        16 + 36 * ri + 6 * gi + bi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use pretty_assertions::assert_eq;

    fn fg_of(lines: &[Line<'static>], text: &str) -> Option<Color> {
        lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .find(|s| s.content == text)
            .and_then(|s| s.style.fg)
    }

    #[test]
    fn rust_keywords_strings_and_plain_text_get_distinct_colours() {
        let code = "fn main() {\n    let s = \"hi\"; // greet\n}\n";
        let lines = highlight_code(code, "rust", ColourMode::Rgb).expect("rust is known");
        let texts: Vec<String> = lines.iter().map(line_text).collect();
        assert_eq!(texts, ["fn main() {", "    let s = \"hi\"; // greet", "}"]);
        let keyword = fg_of(&lines, "let");
        let string = fg_of(&lines, "hi");
        assert!(matches!(keyword, Some(Color::Rgb(..))), "{keyword:?}");
        assert!(matches!(string, Some(Color::Rgb(..))), "{string:?}");
        assert_ne!(keyword, string);
        // Plain identifiers keep the terminal's own foreground.
        assert_eq!(fg_of(&lines, " s "), None);
    }

    #[test]
    fn indexed_mode_uses_the_256_colour_palette() {
        let lines = highlight_code("x = 1\n", "python", ColourMode::Indexed).expect("python");
        let coloured: Vec<Color> = lines[0].spans.iter().filter_map(|s| s.style.fg).collect();
        assert!(!coloured.is_empty());
        assert!(
            coloured
                .iter()
                .all(|c| matches!(c, Color::Indexed(16..=255)))
        );
    }

    #[test]
    fn unknown_languages_missing_info_and_no_color_fall_back() {
        assert!(highlight_code("x\n", "no-such-language", ColourMode::Rgb).is_none());
        assert!(highlight_code("x\n", "", ColourMode::Rgb).is_none());
        assert!(highlight_code("x\n", "text", ColourMode::Rgb).is_none());
        assert!(highlight_code("fn a() {}\n", "rust", ColourMode::Off).is_none());
    }

    #[test]
    fn info_strings_and_aliases() {
        assert_eq!(language_token("rust ignore"), Some("rust"));
        assert_eq!(language_token("{.python}"), Some("python"));
        assert_eq!(language_token("   "), None);
        assert!(highlight_code("echo hi\n", "shell", ColourMode::Rgb).is_some());
        assert!(highlight_code("const a = 1;\n", "ts", ColourMode::Rgb).is_some());
    }

    #[test]
    fn a_growing_block_colours_the_same_as_a_fresh_one() {
        let full = "/* a comment\n   still */\nlet x = \"s\";\nlet y";
        let mut streamed = None;
        for end in [3, 14, 25, 38, full.len()] {
            streamed = highlight_code(&full[..end], "js", ColourMode::Rgb);
        }
        CACHE.with(|c| c.borrow_mut().clear());
        let fresh = highlight_code(full, "js", ColourMode::Rgb);
        assert_eq!(streamed, fresh);
        assert_eq!(fresh.map(|l| l.len()), Some(4));
    }

    #[test]
    fn plain_code_scope() {
        {
            let _plain = PlainCode::begin();
            assert!(highlight_code("fn a() {}\n", "rust", ColourMode::Rgb).is_none());
        }
        assert!(highlight_code("fn a() {}\n", "rust", ColourMode::Rgb).is_some());
    }

    #[test]
    fn xterm_palette_mapping() {
        assert_eq!(xterm_index(0, 0, 0), 16);
        assert_eq!(xterm_index(255, 255, 255), 231);
        assert_eq!(xterm_index(255, 0, 0), 196);
        assert_eq!(xterm_index(128, 128, 128), 244);
    }
}
