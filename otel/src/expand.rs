//! `${VAR}` expansion for header values, so tokens can stay out of `config.toml`.

use std::env::VarError;

/// Why a value could not be expanded. `Display` is one line that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("environment variable `{0}` is not set; export it or remove `${{{0}}}` from the value")]
    Missing(String),
    #[error("environment variable `{0}` is not valid UTF-8")]
    NotUnicode(String),
    #[error("`${{` at byte {0} has no closing `}}`")]
    Unterminated(usize),
    #[error(
        "`${{{0}}}` is not a valid variable name (letters, digits and `_`, not starting with a digit)"
    )]
    BadName(String),
}

/// Replaces every `${NAME}` in `value` with `lookup(NAME)`. A `$` not followed by `{` is kept as
/// is, and `$${` stands for a literal `${`.
pub fn expand_env_vars(
    value: &str,
    lookup: impl Fn(&str) -> Result<String, VarError>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let start = value.len() - rest.len() + dollar;
        let Some(close) = body.find('}') else {
            return Err(ExpandError::Unterminated(start));
        };
        let name = &body[..close];
        if !is_var_name(name) {
            return Err(ExpandError::BadName(name.to_string()));
        }
        match lookup(name) {
            Ok(found) => out.push_str(&found),
            Err(VarError::NotPresent) => return Err(ExpandError::Missing(name.to_string())),
            Err(VarError::NotUnicode(_)) => {
                return Err(ExpandError::NotUnicode(name.to_string()));
            }
        }
        rest = &body[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn env(name: &str) -> Result<String, VarError> {
        match name {
            "TOKEN" => Ok("s3cret".into()),
            "EMPTY" => Ok(String::new()),
            _ => Err(VarError::NotPresent),
        }
    }

    #[test]
    fn expands_known_variables() {
        assert_eq!(
            expand_env_vars("Bearer ${TOKEN}", env).unwrap(),
            "Bearer s3cret"
        );
        assert_eq!(
            expand_env_vars("${TOKEN}${TOKEN}", env).unwrap(),
            "s3crets3cret"
        );
        assert_eq!(expand_env_vars("a${EMPTY}b", env).unwrap(), "ab");
        assert_eq!(expand_env_vars("plain", env).unwrap(), "plain");
    }

    #[test]
    fn dollars_without_braces_and_escapes_stay_literal() {
        assert_eq!(
            expand_env_vars("$5 and $TOKEN $", env).unwrap(),
            "$5 and $TOKEN $"
        );
        assert_eq!(expand_env_vars("$${TOKEN}", env).unwrap(), "${TOKEN}");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            expand_env_vars("x ${NOPE}", env).unwrap_err().to_string(),
            "environment variable `NOPE` is not set; export it or remove `${NOPE}` from the value"
        );
        assert_eq!(
            expand_env_vars("ab${TOKEN", env).unwrap_err(),
            ExpandError::Unterminated(2)
        );
        assert_eq!(
            expand_env_vars("${1X}", env).unwrap_err(),
            ExpandError::BadName("1X".into())
        );
        assert_eq!(
            expand_env_vars("${}", env).unwrap_err(),
            ExpandError::BadName(String::new())
        );
    }
}
