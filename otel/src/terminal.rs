//! Which terminal the user runs in, for the `terminal.type` attribute: teams slice usage by it.

/// A short `name[/version]` for the terminal, from the variables terminals set, falling back to
/// `TERM`, then `unknown`. Only `[A-Za-z0-9._/-]` survive; anything else becomes `_`.
pub fn terminal_type() -> String {
    terminal_type_from(|name| std::env::var(name).ok())
}

pub(crate) fn terminal_type_from(env: impl Fn(&str) -> Option<String>) -> String {
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let with_version = |name: &str, version: Option<String>| match version {
        Some(version) => format!("{name}/{version}"),
        None => name.to_string(),
    };
    let raw = if let Some(program) = var("TERM_PROGRAM") {
        with_version(&program, var("TERM_PROGRAM_VERSION"))
    } else if let Some(version) = var("WEZTERM_VERSION") {
        with_version("WezTerm", Some(version))
    } else if let Some(version) = var("KONSOLE_VERSION") {
        with_version("Konsole", Some(version))
    } else if var("GNOME_TERMINAL_SCREEN").is_some() {
        "gnome-terminal".to_string()
    } else if let Some(version) = var("VTE_VERSION") {
        with_version("VTE", Some(version))
    } else if let Some(term) = var("TERM") {
        term
    } else {
        "unknown".to_string()
    };
    raw.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn detect(vars: &[(&str, &str)]) -> String {
        terminal_type_from(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn prefers_term_program_with_version() {
        assert_eq!(
            detect(&[
                ("TERM_PROGRAM", "iTerm.app"),
                ("TERM_PROGRAM_VERSION", "3.5.0"),
                ("TERM", "xterm-256color")
            ]),
            "iTerm.app/3.5.0"
        );
        assert_eq!(detect(&[("TERM_PROGRAM", "vscode")]), "vscode");
    }

    #[test]
    fn falls_back_through_known_terminals_to_term() {
        assert_eq!(detect(&[("WEZTERM_VERSION", "2024")]), "WezTerm/2024");
        assert_eq!(detect(&[("KONSOLE_VERSION", "230804")]), "Konsole/230804");
        assert_eq!(
            detect(&[("GNOME_TERMINAL_SCREEN", "/org/x")]),
            "gnome-terminal"
        );
        assert_eq!(detect(&[("TERM", "xterm-256color")]), "xterm-256color");
        assert_eq!(detect(&[]), "unknown");
    }

    #[test]
    fn unsafe_characters_are_replaced() {
        assert_eq!(detect(&[("TERM", "my term\r\n")]), "my_term");
    }
}
