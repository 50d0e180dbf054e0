//! `codex login` / `codex logout`: manage the API key in `$CODEX_HOME/auth.json`, the file Codex
//! CLI writes, so either program can use the other's login. Messages and exit codes follow Codex
//! CLI; the file format and the rules for which key wins live in `codex_core::auth`.

use std::io::IsTerminal;
use std::io::Read;
use std::path::PathBuf;

use codex_core::auth;
use codex_core::auth::StoredLogin;

const LOGIN_SUCCESS: &str = "Successfully logged in";
const NOT_LOGGED_IN: &str = "Not logged in";
const CHATGPT_UNSUPPORTED: &str = "browser sign-in with ChatGPT is not supported by this build; log in with an API key instead: `printenv OPENAI_API_KEY | codex login --with-api-key`";

#[derive(Debug, clap::Args)]
pub(crate) struct LoginCli {
    /// Save this API key (visible to other users in `ps`; prefer `--with-api-key`).
    #[arg(
        long = "api-key",
        value_name = "API_KEY",
        conflicts_with = "with_api_key"
    )]
    api_key: Option<String>,

    /// Read the API key from stdin, e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`.
    #[arg(long = "with-api-key")]
    with_api_key: bool,

    #[command(subcommand)]
    action: Option<LoginAction>,
}

#[derive(Debug, clap::Subcommand)]
enum LoginAction {
    /// Show how you are logged in (exit 0) or that you are not (exit 1).
    Status,
}

/// Runs `codex login …` and returns the exit code.
pub(crate) fn run_login(cli: LoginCli) -> i32 {
    let codex_home = match codex_home() {
        Ok(home) => home,
        Err(code) => return code,
    };
    if let Some(LoginAction::Status) = cli.action {
        return status(&codex_home);
    }
    let api_key = match (cli.api_key, cli.with_api_key) {
        (Some(key), _) => key,
        (None, true) => match read_api_key_from_stdin() {
            Ok(key) => key,
            Err(message) => return fail(&message),
        },
        (None, false) => return fail(CHATGPT_UNSUPPORTED),
    };
    match auth::login_with_api_key(&codex_home, &api_key) {
        Ok(()) => {
            eprintln!("{LOGIN_SUCCESS}");
            0
        }
        Err(err) => fail(&format!("cannot log in: {err}")),
    }
}

/// Runs `codex logout` and returns the exit code.
pub(crate) fn run_logout() -> i32 {
    let codex_home = match codex_home() {
        Ok(home) => home,
        Err(code) => return code,
    };
    match auth::logout(&codex_home) {
        Ok(true) => {
            eprintln!("Successfully logged out");
            0
        }
        Ok(false) => {
            eprintln!("{NOT_LOGGED_IN}");
            0
        }
        Err(err) => fail(&format!("cannot log out: {err}")),
    }
}

fn status(codex_home: &std::path::Path) -> i32 {
    let code = match auth::stored_login(codex_home) {
        Ok(StoredLogin::ApiKey(key)) => {
            eprintln!("Logged in using an API key - {}", auth::mask_api_key(&key));
            0
        }
        Ok(StoredLogin::ChatGpt) => {
            eprintln!("Logged in using ChatGPT");
            eprintln!(
                "ChatGPT sign-in is not supported by this build; use an API key: `printenv OPENAI_API_KEY | codex login --with-api-key`"
            );
            0
        }
        Ok(StoredLogin::None) => {
            eprintln!("{NOT_LOGGED_IN}");
            1
        }
        Err(err) => return fail(&format!("cannot check the login status: {err}")),
    };
    // The variable beats the file when a session starts, so a status that ignored it would
    // describe a key that is not the one in use.
    if std::env::var(auth::OPENAI_API_KEY_ENV_VAR).is_ok_and(|v| !v.trim().is_empty()) {
        eprintln!(
            "Note: {} is set in the environment and is used instead of the saved login",
            auth::OPENAI_API_KEY_ENV_VAR
        );
    }
    code
}

fn read_api_key_from_stdin() -> Result<String, String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err("--with-api-key reads the API key from stdin; pipe it in, e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`".to_string());
    }
    eprintln!("Reading API key from stdin...");
    let mut buffer = String::new();
    stdin
        .read_to_string(&mut buffer)
        .map_err(|err| format!("cannot read the API key from stdin: {err}"))?;
    if buffer.trim().is_empty() {
        return Err("no API key on stdin; pipe it in, e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`".to_string());
    }
    Ok(buffer)
}

fn codex_home() -> Result<PathBuf, i32> {
    codex_core::config::find_codex_home()
        .map_err(|err| fail(&format!("cannot find the Codex home directory: {err}")))
}

fn fail(message: &str) -> i32 {
    eprintln!("Error: {message}");
    1
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        login: LoginCli,
    }

    #[test]
    fn flags_parse_and_conflict() {
        let parsed = Wrapper::try_parse_from(["login", "--api-key", "sk-1"]).unwrap();
        assert_eq!(parsed.login.api_key.as_deref(), Some("sk-1"));
        let parsed = Wrapper::try_parse_from(["login", "--with-api-key"]).unwrap();
        assert!(parsed.login.with_api_key);
        let parsed = Wrapper::try_parse_from(["login", "status"]).unwrap();
        assert!(matches!(parsed.login.action, Some(LoginAction::Status)));
        assert!(Wrapper::try_parse_from(["login", "--api-key", "k", "--with-api-key"]).is_err());
    }
}
