//! `$CODEX_HOME/auth.json`: the API key Codex CLI's `codex login` saves, so users who switch keep
//! working without exporting `OPENAI_API_KEY`. Only API-key logins are usable here; a ChatGPT
//! sign-in (OAuth tokens) is recognised so the error can say what to do instead.

use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

use serde::Deserialize;
use serde::Serialize;

use crate::error::EnvVarError;

/// The file name inside `CODEX_HOME`, as Codex CLI names it.
pub const AUTH_FILE_NAME: &str = "auth.json";
/// The environment variable that wins over the file for OpenAI-authenticated providers.
pub const OPENAI_API_KEY_ENV_VAR: &str = "OPENAI_API_KEY";

/// The one shell line we suggest for saving a key without putting it in `argv`.
const LOGIN_HINT: &str = "printenv OPENAI_API_KEY | codex login --with-api-key";

/// Why no usable API key could be found (or saved).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A provider's `env_key` variable is unset.
    #[error("{0}")]
    EnvVar(EnvVarError),

    #[error(
        "missing OpenAI API key: set the OPENAI_API_KEY environment variable, or save a key with `codex login --api-key <KEY>` (safer: `{LOGIN_HINT}`)"
    )]
    MissingOpenAiKey,

    #[error(
        "{} holds a ChatGPT sign-in, which this build does not support; use an API key instead: set OPENAI_API_KEY or run `{LOGIN_HINT}`",
        path.display()
    )]
    ChatGptNotSupported { path: PathBuf },

    #[error(
        "{} is not a valid auth file ({detail}); expected a JSON object like {{\"OPENAI_API_KEY\": \"sk-...\"}}: fix it, or run `codex logout` and log in again",
        path.display()
    )]
    Malformed { path: PathBuf, detail: String },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the API key is empty")]
    EmptyKey,

    #[error("the API key contains whitespace or control characters; pass only the key itself")]
    InvalidKey,
}

/// The contents of `auth.json`. Fields Codex CLI added later (`auth_mode`, ...) are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuthDotJson {
    /// Codex CLI always writes this key, `null` after a ChatGPT sign-in.
    #[serde(rename = "OPENAI_API_KEY", default)]
    pub openai_api_key: Option<String>,
    /// ChatGPT OAuth tokens; kept opaque because this build cannot use them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<serde_json::Value>,
}

/// What a stored login amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredLogin {
    ApiKey(String),
    /// Tokens from a ChatGPT sign-in and no API key.
    ChatGpt,
    /// No file, or a file with neither a key nor tokens.
    None,
}

impl AuthDotJson {
    pub fn login(&self) -> StoredLogin {
        match self.openai_api_key.as_deref().map(str::trim) {
            Some(key) if !key.is_empty() => StoredLogin::ApiKey(key.to_string()),
            _ if self.tokens.is_some() => StoredLogin::ChatGpt,
            _ => StoredLogin::None,
        }
    }
}

pub fn auth_file(codex_home: &Path) -> PathBuf {
    codex_home.join(AUTH_FILE_NAME)
}

/// Parses `auth.json`; `Ok(None)` when the file does not exist.
pub fn read_auth_file(codex_home: &Path) -> Result<Option<AuthDotJson>, AuthError> {
    let path = auth_file(codex_home);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(AuthError::Read { path, source }),
    };
    parse_auth_json(&text)
        .map(Some)
        .map_err(|detail| AuthError::Malformed { path, detail })
}

fn parse_auth_json(text: &str) -> Result<AuthDotJson, String> {
    // serde would also accept a JSON array as a struct; only an object is an auth file.
    if !text.trim_start().starts_with('{') {
        return Err("not a JSON object".to_string());
    }
    serde_json::from_str(text).map_err(|err| err.to_string())
}

/// What `auth.json` says, as a [`StoredLogin`].
pub fn stored_login(codex_home: &Path) -> Result<StoredLogin, AuthError> {
    Ok(read_auth_file(codex_home)?
        .map(|auth| auth.login())
        .unwrap_or(StoredLogin::None))
}

/// The API key for an OpenAI-authenticated provider: `OPENAI_API_KEY` when set, else the key
/// saved in `auth.json`.
pub fn openai_api_key(codex_home: &Path) -> Result<String, AuthError> {
    resolve_openai_api_key(std::env::var(OPENAI_API_KEY_ENV_VAR).ok(), codex_home)
}

fn resolve_openai_api_key(
    env_value: Option<String>,
    codex_home: &Path,
) -> Result<String, AuthError> {
    if let Some(key) = env_value
        && !key.trim().is_empty()
    {
        return Ok(key);
    }
    match stored_login(codex_home)? {
        StoredLogin::ApiKey(key) => Ok(key),
        StoredLogin::ChatGpt => Err(AuthError::ChatGptNotSupported {
            path: auth_file(codex_home),
        }),
        StoredLogin::None => Err(AuthError::MissingOpenAiKey),
    }
}

/// Saves `api_key` as the only content of `auth.json` (replacing any earlier login, as Codex CLI
/// does), readable by the owner only. `codex_home` is created (0700) when missing.
pub fn login_with_api_key(codex_home: &Path, api_key: &str) -> Result<(), AuthError> {
    let api_key = validate_api_key(api_key)?;
    let path = auth_file(codex_home);
    let write_err = |source| AuthError::Write {
        path: path.clone(),
        source,
    };
    create_private_dir(codex_home).map_err(write_err)?;
    let auth = AuthDotJson {
        openai_api_key: Some(api_key.to_string()),
        ..Default::default()
    };
    let mut json =
        serde_json::to_string_pretty(&auth).map_err(|err| write_err(std::io::Error::other(err)))?;
    json.push('\n');
    // Written beside the target and renamed over it: a reader never sees half a file, and the
    // new file gets 0600 even when an older auth.json was world-readable.
    let tmp = codex_home.join(format!(".{AUTH_FILE_NAME}.{}.tmp", std::process::id()));
    let written =
        write_private_file(&tmp, json.as_bytes()).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(err));
    }
    Ok(())
}

/// Deletes `auth.json`; `Ok(false)` when there was none.
pub fn logout(codex_home: &Path) -> Result<bool, AuthError> {
    let path = auth_file(codex_home);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(AuthError::Remove { path, source }),
    }
}

/// Shows enough of a key to recognise it (`sk-proj-***ABCDE`, Codex CLI's format) and nothing
/// of a short one.
pub fn mask_api_key(key: &str) -> String {
    const PREFIX: usize = 8;
    const SUFFIX: usize = 5;
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= PREFIX + SUFFIX {
        return "***".to_string();
    }
    let prefix: String = chars[..PREFIX].iter().collect();
    let suffix: String = chars[chars.len() - SUFFIX..].iter().collect();
    format!("{prefix}***{suffix}")
}

fn validate_api_key(api_key: &str) -> Result<&str, AuthError> {
    let key = api_key.trim();
    if key.is_empty() {
        return Err(AuthError::EmptyKey);
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AuthError::InvalidKey);
    }
    Ok(key)
}

/// Creates `dir` and its missing parents readable by the owner only (0700), as every file the
/// engine keeps in `$CODEX_HOME` is private.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn api_key_file_parses_and_ignores_unknown_fields() {
        let auth = parse_auth_json(
            r#"{"OPENAI_API_KEY": "sk-abc", "tokens": null, "last_refresh": null, "auth_mode": "apikey"}"#,
        )
        .unwrap();
        assert_eq!(auth.login(), StoredLogin::ApiKey("sk-abc".into()));
    }

    #[test]
    fn tokens_only_file_is_a_chatgpt_login() {
        let auth = parse_auth_json(
            r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "x", "access_token": "y", "refresh_token": "z", "account_id": "a"}, "last_refresh": "2025-09-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(auth.login(), StoredLogin::ChatGpt);
    }

    #[test]
    fn key_wins_over_tokens_and_blank_key_counts_as_none() {
        let both = parse_auth_json(r#"{"OPENAI_API_KEY": "sk-1", "tokens": {}}"#).unwrap();
        assert_eq!(both.login(), StoredLogin::ApiKey("sk-1".into()));
        let blank = parse_auth_json(r#"{"OPENAI_API_KEY": "  "}"#).unwrap();
        assert_eq!(blank.login(), StoredLogin::None);
        let empty = parse_auth_json("{}").unwrap();
        assert_eq!(empty.login(), StoredLogin::None);
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        for text in [
            "",
            "not json",
            "[]",
            r#"{"OPENAI_API_KEY": 42}"#,
            r#"{"tokens": "abc"}"#,
        ] {
            assert!(parse_auth_json(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn malformed_file_error_names_the_file_on_one_line() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(AUTH_FILE_NAME),
            "{\n  \"OPENAI_API_KEY\": 42\n}",
        )
        .unwrap();
        let err = read_auth_file(home.path()).unwrap_err().to_string();
        assert!(
            err.contains(&auth_file(home.path()).display().to_string()),
            "{err}"
        );
        assert!(err.contains("\"OPENAI_API_KEY\": \"sk-...\""), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn masks_like_codex_cli() {
        assert_eq!(mask_api_key("sk-proj-1234567890ABCDE"), "sk-proj-***ABCDE");
        assert_eq!(mask_api_key("sk-proj-12345"), "***");
        assert_eq!(mask_api_key(""), "***");
        // Counted in characters, so a non-ASCII key cannot split a code point.
        assert_eq!(mask_api_key("ééééééééxxxxxyyyyy"), "éééééééé***yyyyy");
    }

    #[test]
    fn login_writes_a_private_file_and_logout_removes_it() {
        let parent = tempfile::tempdir().unwrap();
        let home = parent.path().join("new-home");
        login_with_api_key(&home, "  sk-test-key\n").unwrap();
        let text = std::fs::read_to_string(auth_file(&home)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, serde_json::json!({"OPENAI_API_KEY": "sk-test-key"}));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&auth_file(&home)), 0o600);
            assert_eq!(mode(&home), 0o700);
        }
        assert_eq!(
            stored_login(&home).unwrap(),
            StoredLogin::ApiKey("sk-test-key".into())
        );
        assert!(logout(&home).unwrap());
        assert!(!logout(&home).unwrap());
        assert_eq!(stored_login(&home).unwrap(), StoredLogin::None);
    }

    #[test]
    fn login_replaces_a_chatgpt_login_and_tightens_permissions() {
        let home = tempfile::tempdir().unwrap();
        let path = auth_file(home.path());
        std::fs::write(&path, r#"{"OPENAI_API_KEY": null, "tokens": {"a": 1}}"#).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        login_with_api_key(home.path(), "sk-new").unwrap();
        assert_eq!(
            read_auth_file(home.path()).unwrap().unwrap(),
            AuthDotJson {
                openai_api_key: Some("sk-new".into()),
                ..Default::default()
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn environment_wins_over_the_file_which_wins_over_nothing() {
        let home = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve_openai_api_key(None, home.path()),
            Err(AuthError::MissingOpenAiKey)
        ));
        login_with_api_key(home.path(), "sk-file").unwrap();
        assert_eq!(
            resolve_openai_api_key(None, home.path()).unwrap(),
            "sk-file"
        );
        assert_eq!(
            resolve_openai_api_key(Some(" ".into()), home.path()).unwrap(),
            "sk-file"
        );
        assert_eq!(
            resolve_openai_api_key(Some("sk-env".into()), home.path()).unwrap(),
            "sk-env"
        );
        // The environment is not second-guessed by a broken file.
        std::fs::write(auth_file(home.path()), "garbage").unwrap();
        assert_eq!(
            resolve_openai_api_key(Some("sk-env".into()), home.path()).unwrap(),
            "sk-env"
        );
    }

    #[test]
    fn chatgpt_login_explains_how_to_use_a_key() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            auth_file(home.path()),
            r#"{"OPENAI_API_KEY": null, "tokens": {"access_token": "t"}}"#,
        )
        .unwrap();
        let err = resolve_openai_api_key(None, home.path()).unwrap_err();
        assert!(matches!(err, AuthError::ChatGptNotSupported { .. }));
        let text = err.to_string();
        assert!(text.contains("ChatGPT sign-in"), "{text}");
        assert!(text.contains("codex login --with-api-key"), "{text}");
    }

    #[test]
    fn missing_key_mentions_both_ways() {
        let text = AuthError::MissingOpenAiKey.to_string();
        assert!(
            text.contains("OPENAI_API_KEY environment variable"),
            "{text}"
        );
        assert!(text.contains("codex login --api-key"), "{text}");
    }

    #[test]
    fn bad_keys_are_refused() {
        let home = tempfile::tempdir().unwrap();
        assert!(matches!(
            login_with_api_key(home.path(), " \n"),
            Err(AuthError::EmptyKey)
        ));
        assert!(matches!(
            login_with_api_key(home.path(), "sk-a b"),
            Err(AuthError::InvalidKey)
        ));
        assert!(!auth_file(home.path()).exists());
    }
}
