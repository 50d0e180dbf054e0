//! Loading config.toml with profiles and `-c` overrides, and the one-line errors bad input gets.

use codex_core::ConfigOverrides;
use codex_core::config::Config;
use codex_core::config::parse_cli_override;
use codex_protocol::protocol::AskForApproval;
use pretty_assertions::assert_eq;

use crate::support::TestHome;

fn load(home: &TestHome, overrides: &[&str], flags: ConfigOverrides) -> Result<Config, String> {
    let cli = overrides
        .iter()
        .map(|raw| parse_cli_override(raw).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Config::load_with_home(home.path().to_path_buf(), cli, flags).map_err(|e| e.to_string())
}

/// Replaces the temp dir path so snapshots are stable.
fn redact(home: &TestHome, message: &str) -> String {
    message.replace(&home.path().display().to_string(), "$CODEX_HOME")
}

fn load_error(text: &str, overrides: &[&str]) -> String {
    let home = TestHome::new();
    home.write_config(text);
    let err = load(&home, overrides, ConfigOverrides::default()).unwrap_err();
    assert!(!err.contains('\n'), "error must be one line: {err}");
    redact(&home, &err)
}

const LAYERED: &str = r#"
model = "file-model"
approval_policy = "untrusted"
profile = "fast"

[profiles.fast]
model = "profile-model"
approval_policy = "on-failure"

[profiles.slow]
model = "slow-model"
"#;

#[test]
fn precedence_is_flag_then_override_then_profile_then_file() {
    let home = TestHome::new();
    home.write_config(LAYERED);

    let cfg = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(cfg.model, "profile-model");
    assert_eq!(cfg.approval_policy, AskForApproval::OnFailure);
    assert_eq!(cfg.active_profile.as_deref(), Some("fast"));

    let cfg = load(&home, &["model=override-model"], ConfigOverrides::default()).unwrap();
    assert_eq!(cfg.model, "override-model");
    assert_eq!(cfg.approval_policy, AskForApproval::OnFailure);

    let flags = ConfigOverrides {
        model: Some("flag-model".into()),
        ..Default::default()
    };
    let cfg = load(&home, &["model=override-model"], flags).unwrap();
    assert_eq!(cfg.model, "flag-model");

    let flags = ConfigOverrides {
        config_profile: Some("slow".into()),
        ..Default::default()
    };
    let cfg = load(&home, &[], flags).unwrap();
    assert_eq!(cfg.model, "slow-model");
    assert_eq!(cfg.approval_policy, AskForApproval::UnlessTrusted);
}

#[test]
fn overrides_accept_bare_strings_and_typed_nested_values() {
    let home = TestHome::new();
    let cfg = load(
        &home,
        &[
            "model=o3",
            "model_provider=local",
            "model_providers.local.base_url=\"http://127.0.0.1:1/v1\"",
            "model_providers.local.wire_api=responses",
            "model_providers.local.request_max_retries=7",
            "hide_agent_reasoning=true",
        ],
        ConfigOverrides::default(),
    )
    .unwrap();
    assert_eq!(cfg.model, "o3");
    assert_eq!(cfg.model_provider_id, "local");
    assert_eq!(
        cfg.model_provider.base_url.as_deref(),
        Some("http://127.0.0.1:1/v1")
    );
    assert_eq!(cfg.model_provider.request_max_retries(), 7);
    assert!(cfg.hide_agent_reasoning);
}

#[test]
fn syntax_error_names_file_line_and_column() {
    insta::assert_snapshot!(load_error("model = \"a\"\nmodel_provider = = 3\n", &[]));
}

#[test]
fn wrong_type_names_key_line_and_expected_type() {
    insta::assert_snapshot!(load_error(
        "model = \"a\"\nhide_agent_reasoning = \"yes\"\n",
        &[]
    ));
}

#[test]
fn bad_enum_value_lists_allowed_values() {
    insta::assert_snapshot!(load_error("approval_policy = \"sometimes\"\n", &[]));
}

#[test]
fn wrong_type_in_override_names_the_override() {
    insta::assert_snapshot!(load_error("", &["project_doc_max_bytes=\"lots\""]));
}

#[test]
fn unknown_profile_and_provider_are_errors() {
    insta::assert_snapshot!(load_error(LAYERED, &["profile=nope"]));
    insta::assert_snapshot!(load_error("model_provider = \"nowhere\"\n", &[]));
}

#[test]
fn override_without_equals_is_an_error() {
    let err = parse_cli_override("model").unwrap_err().to_string();
    insta::assert_snapshot!(err);
}

#[test]
fn unknown_key_is_a_warning_not_an_error() {
    let home = TestHome::new();
    home.write_config("model = \"m\"\nmodle = \"typo\"\n[mcp_servers.x]\ncommand = \"y\"\n");
    let cfg = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(cfg.model, "m");
    let warnings: Vec<String> = cfg.warnings.iter().map(|w| redact(&home, w)).collect();
    insta::assert_debug_snapshot!(warnings);
}

#[test]
fn missing_api_key_names_the_variable() {
    let home = TestHome::new();
    home.write_config(
        "model_provider = \"p\"\n[model_providers.p]\nbase_url = \"http://127.0.0.1:1\"\nenv_key = \"CODEX_TEST_NEVER_SET_KEY\"\n",
    );
    let cfg = load(&home, &[], ConfigOverrides::default()).unwrap();
    let err = cfg
        .model_provider
        .api_key(&cfg.codex_home)
        .unwrap_err()
        .to_string();
    assert!(err.contains("CODEX_TEST_NEVER_SET_KEY"), "{err}");
}
