//! The popup of slash commands shown while the user types `/name`: the built-in commands, then
//! the saved prompts of `$CODEX_HOME/prompts` as `/prompts:<name>`.

use codex_protocol::custom_prompts::CustomPrompt;
use codex_protocol::custom_prompts::PROMPTS_CMD_PREFIX;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::fuzzy::fuzzy_match;
use crate::slash_command::SlashCommand;

/// Rows shown at most; the selection scrolls within them.
const MAX_ROWS: usize = 8;

/// One row of the popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandItem {
    Builtin(SlashCommand),
    Prompt(CustomPrompt),
}

impl CommandItem {
    /// What follows the slash.
    pub fn command(&self) -> String {
        match self {
            CommandItem::Builtin(cmd) => cmd.command().to_string(),
            CommandItem::Prompt(prompt) => format!("{PROMPTS_CMD_PREFIX}:{}", prompt.name),
        }
    }

    fn description(&self) -> &str {
        match self {
            CommandItem::Builtin(cmd) => cmd.description(),
            CommandItem::Prompt(prompt) => {
                prompt.description.as_deref().unwrap_or("send saved prompt")
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct CommandPopup {
    filter: String,
    selected: usize,
    /// Saved prompts, without those named like a built-in command (the built-in wins).
    prompts: Vec<CustomPrompt>,
}

impl CommandPopup {
    pub fn new(prompts: &[CustomPrompt]) -> Self {
        let prompts = prompts
            .iter()
            .filter(|p| SlashCommand::from_name(&p.name).is_none())
            .cloned()
            .collect();
        Self {
            prompts,
            ..Self::default()
        }
    }

    /// `filter` is what follows the slash.
    pub fn set_filter(&mut self, filter: &str) {
        if filter != self.filter {
            self.filter = filter.to_string();
            self.selected = 0;
        }
    }

    fn items(&self) -> impl Iterator<Item = CommandItem> + '_ {
        SlashCommand::ALL
            .into_iter()
            .map(CommandItem::Builtin)
            .chain(self.prompts.iter().cloned().map(CommandItem::Prompt))
    }

    /// Matching items, best first (built-ins before prompts on ties), with the matched
    /// character positions of their names.
    pub fn matches(&self) -> Vec<(CommandItem, Vec<usize>)> {
        let mut found: Vec<(i32, usize, CommandItem, Vec<usize>)> = self
            .items()
            .enumerate()
            .filter_map(|(order, item)| {
                fuzzy_match(&item.command(), &self.filter)
                    .map(|(score, idx)| (score, order, item, idx))
            })
            .collect();
        found.sort_by_key(|(score, order, _, _)| (*score, *order));
        found
            .into_iter()
            .map(|(_, _, item, idx)| (item, idx))
            .collect()
    }

    pub fn selected(&self) -> Option<CommandItem> {
        self.matches()
            .into_iter()
            .nth(self.selected)
            .map(|(item, _)| item)
    }

    pub fn move_up(&mut self) {
        let len = self.matches().len();
        if len > 0 {
            self.selected = (self.selected + len - 1) % len;
        }
    }

    pub fn move_down(&mut self) {
        let len = self.matches().len();
        if len > 0 {
            self.selected = (self.selected + 1) % len;
        }
    }

    pub fn desired_height(&self) -> u16 {
        self.matches().len().clamp(1, MAX_ROWS) as u16
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let matches = self.matches();
        if matches.is_empty() {
            Line::from("  no matching command".dim().italic()).render(area, buf);
            return;
        }
        let rows = usize::from(area.height);
        let first = (self.selected + 1).saturating_sub(rows);
        let name_width = self
            .items()
            .map(|item| item.command().chars().count() + 1)
            .max()
            .unwrap_or(0);
        for (row, (index, (item, hits))) in matches
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .enumerate()
        {
            let selected = index == self.selected;
            let base = if selected {
                Style::new().cyan().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            let name = item.command();
            let mut spans = vec![Span::styled(if selected { "› /" } else { "  /" }, base)];
            for (i, ch) in name.chars().enumerate() {
                let style = if hits.contains(&i) {
                    base.add_modifier(Modifier::BOLD).underlined()
                } else {
                    base
                };
                spans.push(Span::styled(ch.to_string(), style));
            }
            let pad = name_width.saturating_sub(name.chars().count() + 1) + 3;
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(
                item.description().to_string(),
                Style::new().dim(),
            ));
            if let CommandItem::Prompt(CustomPrompt {
                argument_hint: Some(hint),
                ..
            }) = item
            {
                spans.push(Span::styled(
                    format!("  {hint}"),
                    Style::new().dim().italic(),
                ));
            }
            Line::from(spans).render(Rect::new(area.x, area.y + row as u16, area.width, 1), buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn prompt(name: &str) -> CustomPrompt {
        CustomPrompt {
            name: name.to_string(),
            path: format!("/h/prompts/{name}.md").into(),
            content: "body".to_string(),
            description: None,
            argument_hint: None,
        }
    }

    #[test]
    fn lists_prompts_after_builtins_and_drops_clashing_names() {
        let mut popup = CommandPopup::new(&[prompt("deploy"), prompt("status")]);
        popup.set_filter("");
        let names: Vec<String> = popup.matches().iter().map(|(i, _)| i.command()).collect();
        assert_eq!(names.len(), SlashCommand::ALL.len() + 1);
        assert_eq!(names.last().map(String::as_str), Some("prompts:deploy"));
        popup.set_filter("dep");
        assert_eq!(
            popup.selected(),
            Some(CommandItem::Prompt(prompt("deploy")))
        );
        popup.set_filter("prompts:st");
        assert_eq!(
            popup.selected(),
            None,
            "a prompt named like /status is hidden"
        );
    }

    #[test]
    fn filters_and_selects() {
        let mut popup = CommandPopup::default();
        popup.set_filter("");
        assert_eq!(popup.matches().len(), SlashCommand::ALL.len());
        popup.set_filter("st");
        assert_eq!(
            popup.selected(),
            Some(CommandItem::Builtin(SlashCommand::Status))
        );
        popup.set_filter("ex");
        assert_eq!(
            popup.selected(),
            Some(CommandItem::Builtin(SlashCommand::Exit))
        );
        popup.set_filter("zzz");
        assert_eq!(popup.selected(), None);
        popup.set_filter("");
        popup.move_up();
        assert_eq!(
            popup.selected(),
            Some(CommandItem::Builtin(SlashCommand::Exit))
        );
    }
}
