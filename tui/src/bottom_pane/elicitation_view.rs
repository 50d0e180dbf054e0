//! The form an MCP server asks the user to fill in during a tool call (elicitation): one field
//! per property of the requested schema, answered with accept (the content), decline (Esc) or
//! cancel (Ctrl-C). Fields are checked here first, so the engine rarely has to refuse an answer.

use codex_protocol::protocol::ElicitationAction;
use codex_protocol::protocol::ElicitationRequestEvent;
use codex_protocol::protocol::Op;
use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use serde_json::Map;
use serde_json::Value;

use super::BottomPaneView;
use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::history_cell::InfoCell;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    /// Strings, numbers and integers are typed as text and parsed on submit.
    Text(String),
    Bool(bool),
    /// Index into the field's choices.
    Choice(usize),
    /// A property type the form cannot edit (arrays, objects); left out of the answer.
    Unsupported,
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    title: String,
    description: Option<String>,
    /// `string`, `number`, `integer`, `boolean`, or what the schema said otherwise.
    kind: String,
    required: bool,
    choices: Vec<Value>,
    value: FieldValue,
}

impl Field {
    fn from_schema(name: &str, property: &Value, required: bool) -> Self {
        let kind = property
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string")
            .to_string();
        let default = property.get("default");
        let choices: Vec<Value> = property
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| {
                // Titled single-select: `oneOf: [{const, title}]`.
                property
                    .get("oneOf")
                    .and_then(Value::as_array)
                    .map(|options| {
                        options
                            .iter()
                            .filter_map(|o| o.get("const").cloned())
                            .collect()
                    })
            })
            .unwrap_or_default();
        let value = if !choices.is_empty() {
            let index = default
                .and_then(|d| choices.iter().position(|c| c == d))
                .unwrap_or(0);
            FieldValue::Choice(index)
        } else {
            match kind.as_str() {
                "boolean" => FieldValue::Bool(default.and_then(Value::as_bool).unwrap_or(false)),
                "string" | "number" | "integer" => FieldValue::Text(match default {
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Number(number)) => number.to_string(),
                    _ => String::new(),
                }),
                _ => FieldValue::Unsupported,
            }
        };
        Self {
            name: name.to_string(),
            title: property
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string(),
            description: property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            kind,
            required,
            choices,
            value,
        }
    }

    fn editable(&self) -> bool {
        self.value != FieldValue::Unsupported
    }

    /// The field's JSON value, `None` to leave it out, or why it cannot be sent.
    fn answer(&self) -> Result<Option<Value>, String> {
        let missing = || format!("“{}” is required", self.title);
        match &self.value {
            FieldValue::Unsupported => Ok(None),
            FieldValue::Bool(value) => Ok(Some(Value::Bool(*value))),
            FieldValue::Choice(index) => Ok(self.choices.get(*index).cloned()),
            FieldValue::Text(text) if text.trim().is_empty() => {
                if self.required {
                    Err(missing())
                } else {
                    Ok(None)
                }
            }
            FieldValue::Text(text) => match self.kind.as_str() {
                "integer" => text
                    .trim()
                    .parse::<i64>()
                    .map(|n| Some(Value::from(n)))
                    .map_err(|_| format!("“{}” must be a whole number", self.title)),
                "number" => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(|n| Some(Value::Number(n)))
                    .ok_or_else(|| format!("“{}” must be a number", self.title)),
                _ => Ok(Some(Value::String(text.clone()))),
            },
        }
    }

    fn display_value(&self) -> Span<'static> {
        match &self.value {
            FieldValue::Text(text) => Span::raw(text.clone()),
            FieldValue::Bool(true) => Span::raw("[x]"),
            FieldValue::Bool(false) => Span::raw("[ ]"),
            FieldValue::Choice(index) => {
                let choice = match self.choices.get(*index) {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                Span::raw(format!("‹ {choice} ›"))
            }
            FieldValue::Unsupported => {
                Span::raw(format!("({} fields are not supported)", self.kind)).dim()
            }
        }
    }
}

#[derive(Debug)]
pub struct ElicitationView {
    request: ElicitationRequestEvent,
    fields: Vec<Field>,
    /// Index into `fields` of the focused field (always an editable one when any exists).
    focused: usize,
    error: Option<String>,
    done: bool,
}

impl ElicitationView {
    pub fn new(request: ElicitationRequestEvent) -> Self {
        let schema = &request.requested_schema;
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut fields: Vec<Field> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, property)| {
                Field::from_schema(name, property, required.contains(&name.as_str()))
            })
            .collect();
        // Properties arrive in name order; what must be filled in comes first.
        fields.sort_by_key(|field| !field.required);
        let focused = fields.iter().position(Field::editable).unwrap_or(0);
        Self {
            request,
            fields,
            focused,
            error: None,
            done: false,
        }
    }

    fn editable_indices(&self) -> Vec<usize> {
        (0..self.fields.len())
            .filter(|&i| self.fields[i].editable())
            .collect()
    }

    fn move_focus(&mut self, forward: bool) {
        let editable = self.editable_indices();
        let Some(position) = editable.iter().position(|&i| i == self.focused) else {
            return;
        };
        let next = if forward {
            (position + 1) % editable.len()
        } else {
            (position + editable.len() - 1) % editable.len()
        };
        self.focused = editable[next];
    }

    fn on_last_field(&self) -> bool {
        self.editable_indices()
            .last()
            .is_none_or(|&last| last == self.focused)
    }

    fn finish(&mut self, decision: ElicitationAction, content: Option<Value>, tx: &AppEventSender) {
        let server = &self.request.server_name;
        let note = match decision {
            ElicitationAction::Accept => {
                format!("✔ You sent the requested information to `{server}`")
            }
            ElicitationAction::Decline => format!("✗ You declined the request of `{server}`"),
            ElicitationAction::Cancel => format!("✗ You dismissed the request of `{server}`"),
        };
        tx.insert_history(InfoCell::note(note));
        tx.send(AppEvent::CodexOp(Op::ResolveElicitation {
            server_name: server.clone(),
            request_id: self.request.id.clone(),
            decision,
            content,
        }));
        self.done = true;
    }

    fn submit(&mut self, tx: &AppEventSender) {
        let mut content = Map::new();
        for field in &self.fields {
            match field.answer() {
                Ok(Some(value)) => {
                    content.insert(field.name.clone(), value);
                }
                Ok(None) => {}
                Err(problem) => {
                    self.error = Some(problem);
                    return;
                }
            }
        }
        self.finish(ElicitationAction::Accept, Some(Value::Object(content)), tx);
    }

    fn edit_focused(&mut self, key: KeyEvent) {
        let Some(field) = self.fields.get_mut(self.focused) else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match (&mut field.value, key.code) {
            (FieldValue::Text(text), KeyCode::Char(c)) if !ctrl => text.push(c),
            (FieldValue::Text(text), KeyCode::Backspace) => {
                text.pop();
            }
            (FieldValue::Bool(value), KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                *value = !*value
            }
            (FieldValue::Choice(index), KeyCode::Right | KeyCode::Char(' ')) => {
                *index = (*index + 1) % field.choices.len().max(1)
            }
            (FieldValue::Choice(index), KeyCode::Left) => {
                let count = field.choices.len().max(1);
                *index = (*index + count - 1) % count
            }
            _ => return,
        }
        self.error = None;
    }

    fn body(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let mut lines = vec![Line::from(vec![
            "MCP server ".bold(),
            Span::raw(format!("`{}`", self.request.server_name))
                .cyan()
                .bold(),
            " asks for input".bold(),
        ])];
        let message: Vec<PrefixedLine> = self
            .request
            .message
            .lines()
            .map(|l| PrefixedLine::plain(Line::from(l.to_string())))
            .collect();
        lines.extend(wrap_with_prefix(
            &message,
            width,
            &Line::from("  "),
            &Line::from("  "),
        ));
        lines.push(Line::default());
        for (index, field) in self.fields.iter().enumerate() {
            let focused = index == self.focused && field.editable();
            let marker = if focused { "› " } else { "  " };
            let label_style = if focused {
                Style::new().cyan().bold()
            } else {
                Style::new()
            };
            let required = if field.required { "*" } else { "" };
            let mut value = field.display_value();
            if focused {
                value = value.underlined();
            }
            let mut spans = vec![
                Span::styled(format!("{marker}{}{required}: ", field.title), label_style),
                value,
            ];
            if focused && matches!(field.value, FieldValue::Text(_)) {
                // Where typed characters go; the form has no terminal cursor of its own.
                spans.push(Span::raw("▏").cyan());
            }
            let row = Line::from(spans);
            lines.extend(wrap_with_prefix(
                &[PrefixedLine::plain(row)],
                width,
                &Line::default(),
                &Line::from("    "),
            ));
            if focused && let Some(description) = &field.description {
                let text = PrefixedLine::plain(Line::from(description.clone().dim()));
                lines.extend(wrap_with_prefix(
                    &[text],
                    width,
                    &Line::from("    "),
                    &Line::from("    "),
                ));
            }
        }
        if let Some(error) = &self.error {
            lines.push(Line::from(format!("  {error}").red()));
        }
        lines.push(Line::default());
        let hint = "tab/shift-tab move · space/←/→ change · enter on the last field submits · esc declines · ctrl-c cancels";
        lines.extend(wrap_with_prefix(
            &[PrefixedLine::plain(Line::from(hint.dim()))],
            width,
            &Line::from("  "),
            &Line::from("  "),
        ));
        lines
    }
}

impl BottomPaneView for ElicitationView {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender) {
        match key.code {
            KeyCode::Esc => self.finish(ElicitationAction::Decline, None, tx),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.finish(ElicitationAction::Cancel, None, tx)
            }
            KeyCode::Tab | KeyCode::Down => self.move_focus(true),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(false),
            KeyCode::Enter if self.on_last_field() => self.submit(tx),
            KeyCode::Enter => self.move_focus(true),
            _ => self.edit_focused(key),
        }
    }

    fn on_ctrl_c(&mut self, tx: &AppEventSender) -> bool {
        self.finish(ElicitationAction::Cancel, None, tx);
        true
    }

    fn is_complete(&self) -> bool {
        self.done
    }

    fn desired_height(&self, width: u16) -> u16 {
        self.body(width).len() as u16
    }

    fn render(&self, area: Rect, buf: &mut Buffer) {
        super::render_lines(&self.body(area.width), area, buf);
    }

    fn elicitation_server(&self) -> Option<&str> {
        Some(&self.request.server_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::protocol::McpRequestId;
    use pretty_assertions::assert_eq;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::json;
    use tokio::sync::mpsc;

    fn request() -> ElicitationRequestEvent {
        ElicitationRequestEvent {
            server_name: "everything".into(),
            id: McpRequestId::Integer(3),
            message: "Please provide inputs for the following fields:".into(),
            requested_schema: json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "title": "Name", "description": "Your full, legal name"},
                    "check": {"type": "boolean", "title": "Agree"},
                    "integer": {"type": "integer", "title": "Favorite integer", "default": 42},
                    "friend": {"type": "string", "title": "Friend", "enum": ["Monica", "Ross"], "default": "Ross"},
                    "tags": {"type": "array", "title": "Tags", "items": {"type": "string"}}
                },
                "required": ["name"]
            }),
        }
    }

    fn snapshot(view: &ElicitationView, width: u16) -> Terminal<TestBackend> {
        let height = view.desired_height(width);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| view.render(f.area(), f.buffer_mut()))
            .unwrap();
        terminal
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_str(view: &mut ElicitationView, text: &str, tx: &AppEventSender) {
        for c in text.chars() {
            view.handle_key_event(key(KeyCode::Char(c)), tx);
        }
    }

    fn sent_op(rx: &mut mpsc::UnboundedReceiver<AppEvent>) -> Option<Op> {
        let mut op = None;
        while let Ok(event) = rx.try_recv() {
            if let AppEvent::CodexOp(o) = event {
                op = Some(o);
            }
        }
        op
    }

    #[test]
    fn renders_the_form_at_80_and_40_columns() {
        let view = ElicitationView::new(request());
        insta::assert_snapshot!("elicitation_form_80", snapshot(&view, 80).backend());
        insta::assert_snapshot!("elicitation_form_40", snapshot(&view, 40).backend());
    }

    #[test]
    fn filling_in_and_submitting_sends_the_content() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let tx = AppEventSender::new(tx);
        let mut view = ElicitationView::new(request());
        // Submitting from the last field without the required name is refused in the form.
        view.focused = 3;
        view.handle_key_event(key(KeyCode::Enter), &tx);
        assert!(!view.is_complete());
        insta::assert_snapshot!("elicitation_form_error", snapshot(&view, 80).backend());

        view.focused = 0;
        type_str(&mut view, "Ada", &tx);
        view.handle_key_event(key(KeyCode::Enter), &tx);
        assert!(!view.is_complete(), "enter on an earlier field moves on");
        view.handle_key_event(key(KeyCode::Char(' ')), &tx);
        view.handle_key_event(key(KeyCode::Tab), &tx);
        view.handle_key_event(key(KeyCode::Left), &tx);
        view.handle_key_event(key(KeyCode::Tab), &tx);
        view.handle_key_event(key(KeyCode::BackTab), &tx);
        view.handle_key_event(key(KeyCode::Tab), &tx);
        view.handle_key_event(key(KeyCode::Backspace), &tx);
        type_str(&mut view, "7", &tx);
        view.handle_key_event(key(KeyCode::Enter), &tx);
        assert!(view.is_complete());
        assert_eq!(
            sent_op(&mut rx),
            Some(Op::ResolveElicitation {
                server_name: "everything".into(),
                request_id: McpRequestId::Integer(3),
                decision: ElicitationAction::Accept,
                content: Some(
                    json!({"name": "Ada", "check": true, "integer": 47, "friend": "Monica"})
                ),
            })
        );
    }

    #[test]
    fn esc_declines_and_ctrl_c_cancels() {
        for (event, decision) in [
            (key(KeyCode::Esc), ElicitationAction::Decline),
            (
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                ElicitationAction::Cancel,
            ),
        ] {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let tx = AppEventSender::new(tx);
            let mut view = ElicitationView::new(request());
            view.handle_key_event(event, &tx);
            assert!(view.is_complete());
            assert_eq!(
                sent_op(&mut rx),
                Some(Op::ResolveElicitation {
                    server_name: "everything".into(),
                    request_id: McpRequestId::Integer(3),
                    decision,
                    content: None,
                })
            );
        }
    }
}
