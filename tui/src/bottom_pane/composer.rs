//! The composer: where the user types. Multi-line editing, history recall (this session's
//! messages, then `history.jsonl`'s), large pastes kept out of the way behind a placeholder, the
//! slash-command popup (with saved prompts) and the `@` file popup.
//!
//! Typed text is only ever removed by the user (editing, Ctrl-C, or sending it); tasks ending,
//! errors, modals and resizes leave it alone.

use std::cell::Cell;
use std::ops::Range;

use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use codex_core::custom_prompts::expand_custom_prompt;
use codex_core::custom_prompts::prompt_argument_names;
use codex_core::custom_prompts::prompt_command_with_arg_placeholders;
use codex_core::custom_prompts::prompt_has_numeric_placeholders;
use codex_protocol::custom_prompts::CustomPrompt;

use super::command_popup::CommandItem;
use super::command_popup::CommandPopup;
use super::composer_history::ComposerHistory;
use super::composer_history::Recall;
use super::file_popup::FilePopup;
use super::textarea::TextArea;
use crate::file_search::FileSearch;
use crate::slash_command::SlashCommand;

/// Pastes longer than this many characters are shown as a placeholder.
pub const LARGE_PASTE_CHARS: usize = 1000;
/// Rows of text shown at most; longer text scrolls.
const MAX_TEXT_ROWS: u16 = 10;
/// Width of the `› ` prompt.
const PROMPT_WIDTH: u16 = 2;

#[derive(Debug, PartialEq, Eq)]
pub enum InputResult {
    Submitted(String),
    Command(SlashCommand),
    /// The text cannot be sent as it is (a saved prompt missing arguments); it stays in the
    /// composer and the message says what to fix.
    Invalid(String),
    None,
}

#[derive(Debug)]
enum Popup {
    Command(CommandPopup),
    File(FilePopup),
}

impl Popup {
    fn move_up(&mut self) {
        match self {
            Popup::Command(popup) => popup.move_up(),
            Popup::File(popup) => popup.move_up(),
        }
    }

    fn move_down(&mut self) {
        match self {
            Popup::Command(popup) => popup.move_down(),
            Popup::File(popup) => popup.move_down(),
        }
    }
}

#[derive(Debug)]
pub struct ChatComposer {
    textarea: TextArea,
    history: ComposerHistory,
    /// Saved prompts offered in the slash popup and expanded on submit.
    custom_prompts: Vec<CustomPrompt>,
    /// Placeholders in the text and the pasted content each stands for.
    pending_pastes: Vec<(String, String)>,
    popup: Option<Popup>,
    /// Where `@` mentions look for files; none until the session knows its cwd.
    file_search: Option<FileSearch>,
    /// The text for which the user closed the popup with Esc; it stays closed until the text
    /// changes.
    popup_dismissed_for: Option<String>,
    /// `/mention` put a lone `@` at the cursor: it lists files before anything follows it
    /// (a typed lone `@` does not, so an email-like `@` alone opens nothing).
    mention_started: bool,
    placeholder: &'static str,
    /// Text width at the last render, for moving the cursor between display rows.
    last_width: Cell<u16>,
}

impl Default for ChatComposer {
    fn default() -> Self {
        Self {
            textarea: TextArea::default(),
            history: ComposerHistory::default(),
            custom_prompts: Vec::new(),
            pending_pastes: Vec::new(),
            popup: None,
            file_search: None,
            popup_dismissed_for: None,
            mention_started: false,
            placeholder: "Ask Codex to do anything",
            last_width: Cell::new(80),
        }
    }
}

impl ChatComposer {
    pub fn text(&self) -> &str {
        self.textarea.text()
    }

    pub fn is_empty(&self) -> bool {
        self.textarea.is_empty()
    }

    pub fn set_text(&mut self, text: &str) {
        self.textarea.set_text(text);
        self.sync_popup();
    }

    pub fn popup_visible(&self) -> bool {
        self.popup.is_some()
    }

    pub fn set_file_search(&mut self, search: FileSearch) {
        self.file_search = Some(search);
    }

    /// The history file's identity and line count, from `session_configured`.
    pub fn set_history_file(&mut self, log_id: u64, entry_count: usize) {
        self.history.set_file(log_id, entry_count);
    }

    /// A history line the composer asked for (see [`Self::take_history_requests`]).
    pub fn on_history_entry(&mut self, log_id: u64, offset: usize, text: Option<String>) {
        if let Some(text) = self
            .history
            .on_entry(log_id, offset, text, self.textarea.text())
        {
            self.show_recalled(&text);
        }
    }

    /// History lines to fetch, as `(log_id, offset)`.
    pub fn take_history_requests(&mut self) -> Vec<(u64, usize)> {
        self.history.take_requests()
    }

    pub fn set_custom_prompts(&mut self, prompts: Vec<CustomPrompt>) {
        self.custom_prompts = prompts;
        if matches!(self.popup, Some(Popup::Command(_))) {
            // Rebuilt with the prompts on the next sync.
            self.popup = None;
            self.sync_popup();
        }
    }

    /// Clears the text (Ctrl-C) and keeps it in the history so Up brings it back.
    pub fn clear_to_history(&mut self) {
        let text = self.expanded_text();
        if !text.trim().is_empty() {
            self.record(text);
        }
        self.textarea.clear();
        self.pending_pastes.clear();
        self.history.stop_browsing();
        self.sync_popup();
    }

    fn record(&mut self, text: String) {
        self.history.record(text);
    }

    fn expanded_text(&self) -> String {
        let mut text = self.textarea.text().to_string();
        for (placeholder, content) in &self.pending_pastes {
            if let Some(at) = text.find(placeholder.as_str()) {
                text.replace_range(at..at + placeholder.len(), content);
            }
        }
        text
    }

    pub fn handle_paste(&mut self, pasted: &str) {
        let text = pasted.replace("\r\n", "\n").replace('\r', "\n");
        let chars = text.chars().count();
        if chars > LARGE_PASTE_CHARS {
            let base = format!("[Pasted Content {chars} chars]");
            let mut placeholder = base.clone();
            let mut n = 2;
            while self.pending_pastes.iter().any(|(p, _)| *p == placeholder) {
                placeholder = format!("{base} #{n}");
                n += 1;
            }
            self.textarea.insert_str(&placeholder);
            self.pending_pastes.push((placeholder, text));
        } else {
            self.textarea.insert_str(&text);
        }
        self.history.stop_browsing();
        self.sync_popup();
    }

    pub fn handle_key_event(&mut self, key: KeyEvent) -> InputResult {
        if self.popup.is_some()
            && let Some(result) = self.handle_popup_key(key)
        {
            return result;
        }
        let width = self.last_width.get();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Enter if shift || alt => self.textarea.insert_str("\n"),
            KeyCode::Char('j') if ctrl => self.textarea.insert_str("\n"),
            KeyCode::Enter => return self.submit(),
            KeyCode::Up => {
                if self.can_browse_history() && self.textarea.is_on_first_row(width) {
                    self.history_older();
                } else {
                    self.textarea.move_up(width);
                }
                return InputResult::None;
            }
            KeyCode::Down => {
                if self.can_browse_history() && self.textarea.is_on_last_row(width) {
                    self.history_newer();
                } else {
                    self.textarea.move_down(width);
                }
                return InputResult::None;
            }
            KeyCode::Char('p') if ctrl => {
                if self.can_browse_history() {
                    self.history_older();
                }
                return InputResult::None;
            }
            KeyCode::Char('n') if ctrl => {
                if self.can_browse_history() {
                    self.history_newer();
                }
                return InputResult::None;
            }
            KeyCode::Backspace if ctrl || alt => self.textarea.delete_word_backward(),
            KeyCode::Char('w') if ctrl => self.textarea.delete_word_backward(),
            KeyCode::Char('h') if ctrl => self.backspace(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.textarea.delete_forward(),
            KeyCode::Char('d') if ctrl => self.textarea.delete_forward(),
            KeyCode::Char('u') if ctrl => self.textarea.kill_to_line_start(),
            KeyCode::Char('k') if ctrl => self.textarea.kill_to_line_end(),
            KeyCode::Left if ctrl || alt => self.textarea.move_word_left(),
            KeyCode::Right if ctrl || alt => self.textarea.move_word_right(),
            KeyCode::Char('b') if alt => self.textarea.move_word_left(),
            KeyCode::Char('f') if alt => self.textarea.move_word_right(),
            KeyCode::Left => self.textarea.move_left(),
            KeyCode::Char('b') if ctrl => self.textarea.move_left(),
            KeyCode::Right => self.textarea.move_right(),
            KeyCode::Char('f') if ctrl => self.textarea.move_right(),
            KeyCode::Home => self.textarea.move_home(),
            KeyCode::Char('a') if ctrl => self.textarea.move_home(),
            KeyCode::End => self.textarea.move_end(),
            KeyCode::Char('e') if ctrl => self.textarea.move_end(),
            KeyCode::Tab => self.textarea.insert_str("    "),
            KeyCode::Char(c) if !ctrl && !alt => {
                let mut buf = [0u8; 4];
                self.textarea.insert_str(c.encode_utf8(&mut buf));
            }
            _ => return InputResult::None,
        }
        self.history.stop_browsing();
        self.sync_popup();
        InputResult::None
    }

    /// Keys the popup takes; `None` lets the composer handle the key.
    fn handle_popup_key(&mut self, key: KeyEvent) -> Option<InputResult> {
        let popup = self.popup.as_mut()?;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        // Moving and closing work the same in every popup.
        match key.code {
            KeyCode::Up => popup.move_up(),
            KeyCode::Char('p') if ctrl => popup.move_up(),
            KeyCode::Down => popup.move_down(),
            KeyCode::Char('n') if ctrl => popup.move_down(),
            KeyCode::Esc => {
                self.popup = None;
                self.popup_dismissed_for = Some(self.textarea.text().to_string());
            }
            KeyCode::Tab | KeyCode::Enter => return self.accept_popup_item(key),
            _ => return None,
        }
        Some(InputResult::None)
    }

    /// Tab completes the selected item; Enter (unmodified) completes a file, runs a command.
    fn accept_popup_item(&mut self, key: KeyEvent) -> Option<InputResult> {
        let enter = key.code == KeyCode::Enter;
        if enter && !key.modifiers.is_empty() {
            return None;
        }
        match self.popup.as_ref()? {
            Popup::Command(popup) => match popup.selected() {
                Some(CommandItem::Builtin(cmd)) if enter => {
                    self.textarea.clear();
                    self.sync_popup();
                    return Some(InputResult::Command(cmd));
                }
                Some(CommandItem::Prompt(prompt)) if enter => {
                    return Some(self.select_prompt(&prompt));
                }
                Some(item) => {
                    self.textarea.set_text(&format!("/{} ", item.command()));
                    self.sync_popup();
                }
                None if enter => return None,
                None => {}
            },
            Popup::File(popup) => match popup.selected_path() {
                Some(path) => self.insert_mention(&path),
                // With nothing to pick, Enter sends the message as typed.
                None if enter => return None,
                None => {}
            },
        }
        Some(InputResult::None)
    }

    /// Enter on a saved prompt, as in Codex CLI: one with named placeholders asks for them
    /// (`/prompts:name KEY=""`, the cursor in the first quotes), one with positional
    /// placeholders waits for its arguments after the name, any other is sent right away.
    fn select_prompt(&mut self, prompt: &CustomPrompt) -> InputResult {
        let named = prompt_argument_names(&prompt.content);
        if !named.is_empty() {
            let (text, cursor) = prompt_command_with_arg_placeholders(&prompt.name, &named);
            self.textarea.set_text(&text);
            self.textarea.set_cursor(cursor);
        } else if prompt_has_numeric_placeholders(&prompt.content) {
            let command = CommandItem::Prompt(prompt.clone()).command();
            self.textarea.set_text(&format!("/{command} "));
        } else {
            self.textarea.set_text(&format!(
                "/{}",
                CommandItem::Prompt(prompt.clone()).command()
            ));
            return self.submit();
        }
        self.sync_popup();
        InputResult::None
    }

    /// Inserts `@` at the cursor (after a space when it follows a word, so it starts a token of
    /// its own) and opens the file popup for it.
    pub fn start_mention(&mut self) {
        let before = &self.textarea.text()[..self.textarea.cursor()];
        let glued = before
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace());
        self.textarea.insert_str(if glued { " @" } else { "@" });
        self.history.stop_browsing();
        self.popup_dismissed_for = None;
        self.mention_started = true;
        self.sync_popup();
    }

    /// Replaces the `@token` at the cursor by `path` (quoted when it has spaces) and a space.
    fn insert_mention(&mut self, path: &str) {
        let Some((range, _)) = mention_at(self.textarea.text(), self.textarea.cursor()) else {
            return;
        };
        let quoted = if path.contains(char::is_whitespace) {
            format!("\"{path}\" ")
        } else {
            format!("{path} ")
        };
        self.textarea.delete_range(range);
        self.textarea.insert_str(&quoted);
        self.history.stop_browsing();
        self.sync_popup();
    }

    fn backspace(&mut self) {
        let before = &self.textarea.text()[..self.textarea.cursor()];
        let placeholder = self
            .pending_pastes
            .iter()
            .position(|(p, _)| before.ends_with(p.as_str()));
        match placeholder {
            Some(index) => {
                let (p, _) = self.pending_pastes.remove(index);
                let end = self.textarea.cursor();
                self.textarea.delete_range(end - p.len()..end);
            }
            None => self.textarea.backspace(),
        }
    }

    fn submit(&mut self) -> InputResult {
        let text = self.expanded_text();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return InputResult::None;
        }
        if let Some(name) = trimmed.strip_prefix('/')
            && let Some(cmd) = SlashCommand::from_name(name)
        {
            self.textarea.clear();
            self.pending_pastes.clear();
            self.sync_popup();
            return InputResult::Command(cmd);
        }
        // What was typed goes to the recall list (so Up gives `/prompts:x args` back); what is
        // sent is the expansion.
        let sent = match expand_custom_prompt(&text, &self.custom_prompts) {
            Ok(Some(expanded)) => expanded,
            Ok(None) => text.clone(),
            Err(error) => return InputResult::Invalid(error.to_string()),
        };
        self.record(text);
        self.textarea.clear();
        self.pending_pastes.clear();
        self.sync_popup();
        InputResult::Submitted(sent)
    }

    /// History is browsed only from an empty composer or one still showing a recalled entry,
    /// so Up never replaces text the user typed.
    fn can_browse_history(&self) -> bool {
        self.history.can_browse(self.textarea.text())
    }

    fn history_older(&mut self) {
        let recall = self.history.older();
        self.apply_recall(recall);
    }

    fn history_newer(&mut self) {
        let recall = self.history.newer();
        self.apply_recall(recall);
    }

    fn apply_recall(&mut self, recall: Recall) {
        if let Recall::Show(text) = recall {
            self.show_recalled(&text);
        }
    }

    fn show_recalled(&mut self, text: &str) {
        self.textarea.set_text(text);
        self.pending_pastes.clear();
        // A recalled `/command` is text to edit or send, not a reason to open the popup.
        self.popup = None;
        self.popup_dismissed_for = Some(text.to_string());
    }

    fn sync_popup(&mut self) {
        let text = self.textarea.text();
        // `/mention`'s lone `@` keeps its popup only until the token changes.
        let lone_at = mention_at(text, self.textarea.cursor()).is_some_and(|(_, q)| q.is_empty());
        self.mention_started &= lone_at;
        let typing_command = text.starts_with('/') && !text.contains(char::is_whitespace);
        if self.popup_dismissed_for.as_deref() != Some(text) {
            self.popup_dismissed_for = None;
        }
        if self.popup_dismissed_for.is_some() {
            self.popup = None;
        } else if typing_command {
            if !matches!(self.popup, Some(Popup::Command(_))) {
                self.popup = Some(Popup::Command(CommandPopup::new(&self.custom_prompts)));
            }
            if let Some(Popup::Command(popup)) = &mut self.popup {
                popup.set_filter(&text[1..]);
            }
        } else if let Some(search) = &self.file_search
            && let Some((_, query)) = mention_at(text, self.textarea.cursor())
                .filter(|(_, query)| !query.is_empty() || self.mention_started)
        {
            match &mut self.popup {
                Some(Popup::File(popup)) => popup.set_query(query),
                _ => self.popup = Some(Popup::File(FilePopup::new(search.clone(), query))),
            }
        } else {
            self.popup = None;
        }
    }

    fn text_height(&self, width: u16) -> u16 {
        self.textarea
            .desired_height(width.saturating_sub(PROMPT_WIDTH))
            .clamp(1, MAX_TEXT_ROWS)
    }

    /// Rows for the text plus the popup (when shown).
    pub fn desired_height(&self, width: u16) -> u16 {
        let popup = match &self.popup {
            Some(Popup::Command(popup)) => popup.desired_height(),
            Some(Popup::File(popup)) => popup.desired_height(),
            None => 0,
        };
        self.text_height(width) + popup
    }

    /// Draws the prompt, the text (or placeholder) and the popup below it; returns the cursor.
    pub fn render(&self, area: Rect, buf: &mut Buffer) -> (u16, u16) {
        let text_rows = self.text_height(area.width).min(area.height);
        let prompt = Rect::new(area.x, area.y, PROMPT_WIDTH.min(area.width), 1);
        Line::from("›".cyan().bold()).render(prompt, buf);
        let text_area = Rect::new(
            area.x + prompt.width,
            area.y,
            area.width.saturating_sub(prompt.width),
            text_rows,
        );
        self.last_width.set(text_area.width);
        let cursor = if self.textarea.is_empty() {
            Line::from(self.placeholder.dim().italic()).render(text_area, buf);
            (text_area.x, text_area.y)
        } else {
            self.textarea.render(text_area, buf, Style::new())
        };
        if let Some(popup) = &self.popup {
            let popup_area = Rect::new(
                area.x,
                area.y + text_rows,
                area.width,
                area.height.saturating_sub(text_rows),
            );
            match popup {
                Popup::Command(popup) => popup.render(popup_area, buf),
                Popup::File(popup) => popup.render(popup_area, buf),
            }
        }
        cursor
    }
}

/// The `@query` token around `cursor`: its byte range in `text` and the query after the `@`
/// (empty for a lone `@`).
fn mention_at(text: &str, cursor: usize) -> Option<(Range<usize>, &str)> {
    let start = text[..cursor]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[cursor..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| cursor + i);
    let query = text[start..end].strip_prefix('@')?;
    Some((start..end, query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_str(c: &mut ChatComposer, s: &str) {
        for ch in s.chars() {
            c.handle_key_event(key(KeyCode::Char(ch)));
        }
    }

    #[test]
    fn enter_submits_and_shift_enter_adds_a_line() {
        let mut c = ChatComposer::default();
        type_str(&mut c, "hello");
        c.handle_key_event(KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT));
        c.handle_key_event(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL));
        type_str(&mut c, "world");
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Submitted("hello\n\nworld".into())
        );
        assert!(c.is_empty());
        assert_eq!(c.handle_key_event(key(KeyCode::Enter)), InputResult::None);
    }

    #[test]
    fn history_never_replaces_typed_text() {
        let mut c = ChatComposer::default();
        type_str(&mut c, "first");
        c.handle_key_event(key(KeyCode::Enter));
        type_str(&mut c, "second");
        c.handle_key_event(key(KeyCode::Enter));
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "second");
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "first");
        c.handle_key_event(key(KeyCode::Down));
        c.handle_key_event(key(KeyCode::Down));
        assert_eq!(c.text(), "");
        type_str(&mut c, "draft");
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "draft");
    }

    #[test]
    fn large_pastes_become_placeholders() {
        let mut c = ChatComposer::default();
        let big = "x".repeat(LARGE_PASTE_CHARS + 1);
        type_str(&mut c, "see ");
        c.handle_paste(&big);
        assert_eq!(c.text(), "see [Pasted Content 1001 chars]");
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Submitted(format!("see {big}"))
        );
        c.handle_paste(&big);
        c.handle_key_event(key(KeyCode::Backspace));
        assert_eq!(c.text(), "");
        c.handle_paste("small\r\npaste");
        assert_eq!(c.text(), "small\npaste");
    }

    #[test]
    fn slash_popup_filters_and_runs_commands() {
        let mut c = ChatComposer::default();
        type_str(&mut c, "/sta");
        assert!(c.popup_visible());
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Command(SlashCommand::Status)
        );
        type_str(&mut c, "/mo");
        c.handle_key_event(key(KeyCode::Esc));
        assert!(!c.popup_visible());
        assert_eq!(c.text(), "/mo");
        type_str(&mut c, "del");
        assert!(c.popup_visible());
        c.handle_key_event(key(KeyCode::Tab));
        assert_eq!(c.text(), "/model ");
        assert!(!c.popup_visible());
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Command(SlashCommand::Model)
        );
    }

    fn saved_prompt(name: &str, content: &str) -> CustomPrompt {
        CustomPrompt {
            name: name.into(),
            path: format!("/h/prompts/{name}.md").into(),
            content: content.into(),
            description: None,
            argument_hint: None,
        }
    }

    #[test]
    fn selecting_a_saved_prompt_sends_or_asks_for_its_arguments() {
        let mut c = ChatComposer::default();
        c.set_custom_prompts(vec![
            saved_prompt("hello", "Say hello."),
            saved_prompt("fix", "Fix $1 in $ARGUMENTS"),
            saved_prompt("pr", "Open a PR titled $TITLE for $FILES"),
        ]);
        // No placeholders: Enter in the popup sends the body.
        type_str(&mut c, "/prompts:hel");
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Submitted("Say hello.".into())
        );
        assert!(c.is_empty());
        // Up gives back the command, not its expansion.
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "/prompts:hello");
        assert!(
            !c.popup_visible(),
            "a recalled command does not open the popup"
        );
        c.clear_to_history();

        // Positional: the name and a space, then the arguments typed and sent expanded.
        type_str(&mut c, "/prompts:fi");
        assert_eq!(c.handle_key_event(key(KeyCode::Enter)), InputResult::None);
        assert_eq!(c.text(), "/prompts:fix ");
        type_str(&mut c, "parser.rs \"src dir\"");
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Submitted("Fix parser.rs in parser.rs src dir".into())
        );

        // Named: a template with the cursor in the first quotes; missing ones are reported.
        type_str(&mut c, "/prompts:pr");
        assert_eq!(c.handle_key_event(key(KeyCode::Enter)), InputResult::None);
        assert_eq!(c.text(), "/prompts:pr TITLE=\"\" FILES=\"\"");
        type_str(&mut c, "Speed up");
        assert_eq!(c.text(), "/prompts:pr TITLE=\"Speed up\" FILES=\"\"");
        c.set_text("/prompts:pr TITLE=\"Speed up\"");
        let InputResult::Invalid(message) = c.handle_key_event(key(KeyCode::Enter)) else {
            panic!("missing FILES accepted");
        };
        assert!(message.contains("FILES"), "{message}");
        assert_eq!(c.text(), "/prompts:pr TITLE=\"Speed up\"", "text kept");
        type_str(&mut c, " FILES=a.rs");
        assert_eq!(
            c.handle_key_event(key(KeyCode::Enter)),
            InputResult::Submitted("Open a PR titled Speed up for a.rs".into())
        );
    }

    #[test]
    fn recall_reaches_the_history_file_after_this_sessions_messages() {
        let mut c = ChatComposer::default();
        c.set_history_file(9, 1);
        type_str(&mut c, "this session");
        c.handle_key_event(key(KeyCode::Enter));
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "this session");
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.take_history_requests(), [(9, 0)]);
        // Typing goes on while the fetch is out; the late answer then leaves the text alone.
        type_str(&mut c, "!");
        c.on_history_entry(9, 0, Some("old".into()));
        assert_eq!(c.text(), "this session!");
        c.clear_to_history();
        c.handle_key_event(key(KeyCode::Up));
        c.handle_key_event(key(KeyCode::Up));
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "old", "cached entry shown at once");
        assert!(c.take_history_requests().is_empty());
    }

    #[test]
    fn ctrl_c_clear_is_recoverable() {
        let mut c = ChatComposer::default();
        type_str(&mut c, "keep me");
        c.clear_to_history();
        assert!(c.is_empty());
        c.handle_key_event(key(KeyCode::Up));
        assert_eq!(c.text(), "keep me");
    }
}
