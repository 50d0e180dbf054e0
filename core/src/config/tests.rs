//! Loading from temporary CODEX_HOME directories: defaults, layering, and exact error text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::config_types::SandboxMode;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::SandboxPolicy;
use pretty_assertions::assert_eq;
use tempfile::TempDir;

use super::*;
use crate::model_provider_info::WireApi;

/// A temporary CODEX_HOME holding `config_toml` (when given).
fn home_with(config_toml: Option<&str>) -> TempDir {
    let home = tempfile::tempdir().unwrap();
    if let Some(text) = config_toml {
        std::fs::write(home.path().join(CONFIG_TOML_FILE), text).unwrap();
    }
    home
}

fn overrides(args: &[&str]) -> Vec<(String, toml::Value)> {
    args.iter()
        .map(|a| parse_cli_override(a).unwrap())
        .collect()
}

fn load(home: &TempDir, args: &[&str], flags: ConfigOverrides) -> Result<Config, ConfigError> {
    Config::load_with_home(home.path().to_path_buf(), overrides(args), flags)
}

fn load_err(config_toml: &str, args: &[&str], flags: ConfigOverrides) -> (String, String) {
    let home = home_with(Some(config_toml));
    let err = load(&home, args, flags).unwrap_err().to_string();
    (err, config_path(&home))
}

fn config_path(home: &TempDir) -> String {
    home.path().join(CONFIG_TOML_FILE).display().to_string()
}

#[test]
fn defaults_without_a_config_file() {
    let home = home_with(None);
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(config.model, "gpt-5-codex");
    assert_eq!(config.model_provider_id, "openai");
    assert_eq!(config.model_provider.name, "OpenAI");
    assert_eq!(config.model_provider.wire_api, WireApi::Responses);
    assert_eq!(config.approval_policy, AskForApproval::OnRequest);
    assert_eq!(config.sandbox_policy, SandboxPolicy::ReadOnly);
    assert_eq!(config.model_reasoning_summary, ReasoningSummary::Auto);
    assert_eq!(config.model_reasoning_effort, None);
    assert_eq!(config.project_doc_max_bytes, 32768);
    assert_eq!(
        config.shell_environment_policy,
        ShellEnvironmentPolicy::default()
    );
    assert_eq!(config.notify, None);
    assert_eq!(config.base_instructions, None);
    assert_eq!(config.user_instructions, None);
    assert_eq!(config.active_profile, None);
    assert_eq!(config.cwd, std::env::current_dir().unwrap());
    assert_eq!(config.codex_home, home.path());
    assert!(!config.hide_agent_reasoning);
    assert!(!config.show_raw_agent_reasoning);
    assert!(!config.model_supports_reasoning_summaries);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let mut ids: Vec<_> = config.model_providers.keys().cloned().collect();
    ids.sort();
    assert_eq!(ids, vec!["openai", "oss"]);
}

#[test]
fn file_values_are_read() {
    let home = home_with(Some(
        r#"
model = "o3"
approval_policy = "never"
model_reasoning_effort = "high"
model_reasoning_summary = "detailed"
model_verbosity = "low"
model_context_window = 1000
model_max_output_tokens = 200
model_auto_compact_token_limit = 900
model_supports_reasoning_summaries = true
project_doc_max_bytes = 0
notify = ["notify-send", "codex"]
hide_agent_reasoning = true
show_raw_agent_reasoning = true
base_instructions = "be brief"

[shell_environment_policy]
inherit = "core"
ignore_default_excludes = true
exclude = ["AWS_*"]
include_only = ["PATH", "HOME"]
set = { CI = "1" }
experimental_use_profile = true
"#,
    ));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(config.model, "o3");
    assert_eq!(config.approval_policy, AskForApproval::Never);
    assert_eq!(config.model_reasoning_effort, Some(ReasoningEffort::High));
    assert_eq!(config.model_reasoning_summary, ReasoningSummary::Detailed);
    assert_eq!(config.model_verbosity, Some(Verbosity::Low));
    assert_eq!(config.model_context_window, Some(1000));
    assert_eq!(config.model_max_output_tokens, Some(200));
    assert_eq!(config.model_auto_compact_token_limit, Some(900));
    assert!(config.model_supports_reasoning_summaries);
    assert_eq!(config.project_doc_max_bytes, 0);
    assert_eq!(
        config.notify,
        Some(vec!["notify-send".to_string(), "codex".to_string()])
    );
    assert!(config.hide_agent_reasoning);
    assert!(config.show_raw_agent_reasoning);
    assert_eq!(config.base_instructions.as_deref(), Some("be brief"));
    assert_eq!(
        config.shell_environment_policy,
        ShellEnvironmentPolicy {
            inherit: ShellEnvironmentPolicyInherit::Core,
            ignore_default_excludes: true,
            exclude: vec!["AWS_*".to_string()],
            set: HashMap::from([("CI".to_string(), "1".to_string())]),
            include_only: vec!["PATH".to_string(), "HOME".to_string()],
        }
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

const LAYERED: &str = r#"
model = "file-model"
approval_policy = "untrusted"
profile = "fast"

[profiles.fast]
model = "fast-model"
approval_policy = "on-failure"
model_reasoning_effort = "low"

[profiles.deep]
model = "deep-model"
model_reasoning_effort = "high"
"#;

#[test]
fn profile_from_file_overlays_root_keys() {
    let home = home_with(Some(LAYERED));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(config.active_profile.as_deref(), Some("fast"));
    assert_eq!(config.model, "fast-model");
    assert_eq!(config.approval_policy, AskForApproval::OnFailure);
    assert_eq!(config.model_reasoning_effort, Some(ReasoningEffort::Low));
}

#[test]
fn profile_flag_beats_c_profile_beats_file_profile() {
    let home = home_with(Some(LAYERED));
    let by_c = load(&home, &["profile=deep"], ConfigOverrides::default()).unwrap();
    assert_eq!(by_c.active_profile.as_deref(), Some("deep"));
    assert_eq!(by_c.model, "deep-model");
    // Keys the profile does not set come from the root.
    assert_eq!(by_c.approval_policy, AskForApproval::UnlessTrusted);

    let flags = ConfigOverrides {
        config_profile: Some("fast".to_string()),
        ..Default::default()
    };
    let by_flag = load(&home, &["profile=deep"], flags).unwrap();
    assert_eq!(by_flag.active_profile.as_deref(), Some("fast"));
    assert_eq!(by_flag.model, "fast-model");
}

#[test]
fn precedence_is_flag_then_c_then_profile_then_file() {
    let home = home_with(Some(LAYERED));
    let flags = || ConfigOverrides {
        model: Some("flag-model".to_string()),
        approval_policy: Some(AskForApproval::Never),
        ..Default::default()
    };
    let with_c = &[
        "model=c-model-1",
        "model=c-model",
        "approval_policy=on-request",
    ];

    let config = load(&home, with_c, ConfigOverrides::default()).unwrap();
    assert_eq!(
        config.model, "c-model",
        "-c beats the profile; later -c wins"
    );
    assert_eq!(config.approval_policy, AskForApproval::OnRequest);
    assert_eq!(config.model_reasoning_effort, Some(ReasoningEffort::Low));

    let config = load(&home, with_c, flags()).unwrap();
    assert_eq!(config.model, "flag-model");
    assert_eq!(config.approval_policy, AskForApproval::Never);

    let config = load(&home, &["profiles.fast.model=edited-profile"], flags()).unwrap();
    assert_eq!(config.model, "flag-model");
    let config = load(
        &home,
        &["profiles.fast.model=edited-profile"],
        ConfigOverrides::default(),
    )
    .unwrap();
    assert_eq!(config.model, "edited-profile");
}

#[test]
fn profile_tables_merge_into_root_tables() {
    let home = home_with(Some(
        r#"
[shell_environment_policy]
inherit = "none"
exclude = ["A"]

[profiles.p.shell_environment_policy]
exclude = ["B"]
"#,
    ));
    let flags = ConfigOverrides {
        config_profile: Some("p".to_string()),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(
        config.shell_environment_policy.inherit,
        ShellEnvironmentPolicyInherit::None
    );
    assert_eq!(config.shell_environment_policy.exclude, vec!["B"]);
}

#[test]
fn parse_cli_override_reads_toml_or_falls_back_to_a_string() {
    use toml::Value;
    let cases: &[(&str, &str, Value)] = &[
        ("model=o3", "model", Value::String("o3".into())),
        (
            "model=gpt-5-codex",
            "model",
            Value::String("gpt-5-codex".into()),
        ),
        (" model = \"o3\" ", "model", Value::String("o3".into())),
        (
            "hide_agent_reasoning=true",
            "hide_agent_reasoning",
            Value::Boolean(true),
        ),
        (
            "model_context_window=1000",
            "model_context_window",
            Value::Integer(1000),
        ),
        (
            "notify=[\"a\", \"b\"]",
            "notify",
            Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
        ),
        ("a.b=x=y", "a.b", Value::String("x=y".into())),
        ("text=a\nb = 1", "text", Value::String("a\nb = 1".into())),
    ];
    for (raw, key, value) in cases {
        assert_eq!(
            parse_cli_override(raw).unwrap(),
            (key.to_string(), value.clone()),
            "{raw}"
        );
    }
    let inline = parse_cli_override("shell_environment_policy={ inherit = \"core\" }").unwrap();
    assert_eq!(inline.1["inherit"].as_str(), Some("core"));
}

#[test]
fn parse_cli_override_rejects_bad_arguments() {
    let cases = [
        ("model", "-c model: expected key=value"),
        ("=x", "-c =x: empty key; expected key=value"),
        ("a..b=1", "-c a..b=1: empty segment in key `a..b`"),
        ("a.\"b=1", "-c a.\"b=1: unterminated quote in key `a.\"b`"),
    ];
    for (raw, expected) in cases {
        assert_eq!(parse_cli_override(raw).unwrap_err().to_string(), expected);
    }
}

#[test]
fn c_overrides_set_nested_and_quoted_keys() {
    let home = home_with(Some("model_provider = \"openai\"\n"));
    let config = load(
        &home,
        &[
            "model_providers.mock.base_url=\"http://127.0.0.1:9/v1\"",
            "model_providers.mock.name=Mock",
            "model_providers.mock.wire_api=responses",
            "model_provider=mock",
            "shell_environment_policy.set.\"A.B\"=1x",
            "sandbox_mode=workspace-write",
            "sandbox_workspace_write.network_access=true",
        ],
        ConfigOverrides::default(),
    )
    .unwrap();
    assert_eq!(config.model_provider_id, "mock");
    assert_eq!(config.model_provider.name, "Mock");
    assert_eq!(
        config.model_provider.base_url.as_deref(),
        Some("http://127.0.0.1:9/v1")
    );
    assert_eq!(config.model_provider.wire_api, WireApi::Responses);
    assert_eq!(
        config
            .shell_environment_policy
            .set
            .get("A.B")
            .map(String::as_str),
        Some("1x")
    );
    assert!(config.sandbox_policy.has_full_network_access());
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let (err, path) = load_err(
        "model = \"o3\"\nhide_agent_reasoning = tru\n",
        &[],
        ConfigOverrides::default(),
    );
    assert_eq!(
        err,
        format!("{path}:2:24: invalid boolean, expected `true`")
    );
    assert!(!err.contains('\n'));
}

#[test]
fn unquoted_string_in_the_file_is_a_syntax_error() {
    let (err, path) = load_err("\n\nmodel = o3\n", &[], ConfigOverrides::default());
    assert_eq!(
        err,
        format!("{path}:3:9: string values must be quoted, expected literal string")
    );
}

#[test]
fn syntax_error_column_counts_characters() {
    let (err, path) = load_err("model = \"é\" x\n", &[], ConfigOverrides::default());
    assert!(err.starts_with(&format!("{path}:1:13: ")), "{err}");
}

#[test]
fn type_error_names_key_line_and_expected_type() {
    let (err, path) = load_err(
        "model = \"o3\"\n\n[shell_environment_policy]\nignore_default_excludes = \"yes\"\n",
        &[],
        ConfigOverrides::default(),
    );
    assert_eq!(
        err,
        format!(
            "{path}:4:27: key `shell_environment_policy.ignore_default_excludes`: \
             invalid type: string \"yes\", expected a boolean"
        )
    );
}

#[test]
fn type_error_inside_a_profile_names_the_profile_key() {
    let (err, path) = load_err(
        "[profiles.fast]\nmodel_context_window = \"big\"\n",
        &[],
        ConfigOverrides::default(),
    );
    assert_eq!(
        err,
        format!(
            "{path}:2:24: key `profiles.fast.model_context_window`: \
             invalid type: string \"big\", expected u64"
        )
    );
}

#[test]
fn bad_enum_value_lists_the_allowed_values() {
    let (err, path) = load_err("approval_policy = \"sometimes\"\n", &[], Default::default());
    assert_eq!(
        err,
        format!(
            "{path}:1:19: key `approval_policy`: unknown variant `sometimes`, expected one of \
             `untrusted`, `on-failure`, `on-request`, `never`"
        )
    );
    let (err, path) = load_err(
        "[model_providers.x]\nwire_api = \"grpc\"\n",
        &[],
        Default::default(),
    );
    assert_eq!(
        err,
        format!(
            "{path}:2:12: key `model_providers.x.wire_api`: unknown variant `grpc`, \
             expected `responses` or `chat`"
        )
    );
    let (err, path) = load_err("\nsandbox_mode = true\n", &[], Default::default());
    assert_eq!(
        err,
        format!(
            "{path}:2:16: key `sandbox_mode`: invalid type: boolean `true`, expected one of \
             `read-only`, `workspace-write`, `danger-full-access`"
        )
    );
}

#[test]
fn bad_c_value_names_the_override() {
    let (err, _) = load_err("", &["hide_agent_reasoning=yes"], Default::default());
    assert_eq!(
        err,
        "-c hide_agent_reasoning: invalid type: string \"yes\", expected a boolean"
    );
    let (err, _) = load_err("", &["sandbox_mode=everything"], Default::default());
    assert_eq!(
        err,
        "-c sandbox_mode: unknown variant `everything`, expected one of `read-only`, \
         `workspace-write`, `danger-full-access`"
    );
    let (err, _) = load_err(
        "",
        &["shell_environment_policy={ inherit = 1 }"],
        Default::default(),
    );
    assert_eq!(
        err,
        "-c shell_environment_policy: key `shell_environment_policy.inherit`: \
         invalid type: integer `1`, expected one of `core`, `all`, `none`"
    );
    let (err, _) = load_err("[profiles.a]\n", &["profile=1"], Default::default());
    assert_eq!(
        err,
        "-c profile: invalid type: integer `1`, expected a string"
    );
}

#[test]
fn bad_c_value_for_the_active_profile_names_the_override() {
    let (err, _) = load_err(
        LAYERED,
        &["profiles.fast.model_context_window=huge"],
        Default::default(),
    );
    assert_eq!(
        err,
        "-c profiles.fast.model_context_window: invalid type: string \"huge\", expected u64"
    );
}

#[test]
fn unknown_keys_are_warnings() {
    let home = home_with(Some(
        r#"
modle = "o3"
mcp_servers = { docs = { command = "npx" } }
review_model = "gpt-5-codex"

[tui]
notifications = true

[shell_environment_policy]
inheritt = "all"

[model_providers.x]
name = "X"
base_urll = "http://x"

[profiles.p]
chatgpt_base_url = "https://example.com"
colour = "red"
"#,
    ));
    let config = load(
        &home,
        &["shell_environment_policy.typo=1", "otel.environment=ci"],
        ConfigOverrides::default(),
    )
    .unwrap();
    let path = config_path(&home);
    assert_eq!(
        config.warnings,
        vec![
            format!("{path}: unknown key `model_providers.x.base_urll` ignored"),
            format!("{path}: unknown key `modle` ignored"),
            format!("{path}: unknown key `profiles.p.colour` ignored"),
            format!("{path}: unknown key `shell_environment_policy.inheritt` ignored"),
            "-c shell_environment_policy.typo: unknown key `shell_environment_policy.typo` ignored"
                .to_string(),
        ]
    );
}

#[test]
fn unknown_profile_is_an_error_listing_defined_ones() {
    let flags = ConfigOverrides {
        config_profile: Some("slow".to_string()),
        ..Default::default()
    };
    let (err, path) = load_err(LAYERED, &[], flags.clone());
    assert_eq!(
        err,
        format!("config profile `slow` is not defined in {path}; defined profiles: `deep`, `fast`")
    );
    let (err, path) = load_err("", &[], flags);
    assert_eq!(
        err,
        format!("config profile `slow` is not defined in {path}; no profiles are defined")
    );
}

#[test]
fn unknown_provider_is_an_error_listing_known_ones() {
    let (err, path) = load_err(
        "model_provider = \"acme\"\n[model_providers.mock]\nname = \"Mock\"\n",
        &[],
        Default::default(),
    );
    assert_eq!(
        err,
        format!(
            "model provider `acme` is not defined; known providers: `mock`, `openai`, `oss` \
             (add a [model_providers.acme] table to {path})"
        )
    );
}

#[test]
fn built_in_oss_provider_and_default_model() {
    let home = home_with(None);
    let flags = ConfigOverrides {
        model_provider: Some("oss".to_string()),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.model_provider_id, "oss");
    assert_eq!(config.model, "gpt-oss:20b");
    assert_eq!(config.model_provider.name, "gpt-oss");
    assert_eq!(config.model_provider.wire_api, WireApi::Chat);

    let config = load(
        &home,
        &["model_provider=oss", "model=qwen3"],
        Default::default(),
    )
    .unwrap();
    assert_eq!(config.model, "qwen3");
}

#[test]
fn user_provider_replaces_built_in_with_same_id() {
    let home = home_with(Some(
        "[model_providers.openai]\nname = \"Proxy\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
    ));
    let config = load(&home, &[], Default::default()).unwrap();
    assert_eq!(config.model_provider.name, "Proxy");
    assert_eq!(config.model_provider.wire_api, WireApi::Chat);
    assert_eq!(config.model_provider.env_key, None);
}

#[test]
fn workspace_write_policy_from_table() {
    let home = home_with(Some(
        r#"
sandbox_mode = "workspace-write"

[sandbox_workspace_write]
writable_roots = ["/opt/shared", "relative"]
network_access = true
exclude_slash_tmp = true
"#,
    ));
    let cwd = home.path().join("project");
    let flags = ConfigOverrides {
        cwd: Some(cwd.clone()),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.cwd, cwd);
    assert_eq!(
        config.sandbox_policy,
        SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![PathBuf::from("/opt/shared"), cwd.join("relative")],
            network_access: true,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: true,
        }
    );

    let flags = ConfigOverrides {
        sandbox_mode: Some(SandboxMode::DangerFullAccess),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.sandbox_policy, SandboxPolicy::DangerFullAccess);
}

#[test]
fn relative_cwd_is_made_absolute() {
    let home = home_with(None);
    let flags = ConfigOverrides {
        cwd: Some(PathBuf::from("sub")),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.cwd, std::env::current_dir().unwrap().join("sub"));
}

#[test]
fn instructions_files_are_read() {
    let home = home_with(Some("experimental_instructions_file = \"prompt.md\"\n"));
    std::fs::write(home.path().join("prompt.md"), "You are terse.\n").unwrap();
    std::fs::write(home.path().join("AGENTS.md"), "\n  Use tabs.  \n").unwrap();
    let config = load(&home, &[], Default::default()).unwrap();
    assert_eq!(
        config.base_instructions.as_deref(),
        Some("You are terse.\n")
    );
    assert_eq!(config.user_instructions.as_deref(), Some("Use tabs."));

    let flags = ConfigOverrides {
        base_instructions: Some("from flag".to_string()),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.base_instructions.as_deref(), Some("from flag"));

    std::fs::write(home.path().join("AGENTS.md"), " \n").unwrap();
    std::fs::remove_file(home.path().join("prompt.md")).unwrap();
    let err = load(&home, &[], Default::default())
        .unwrap_err()
        .to_string();
    let prompt = home.path().join("prompt.md");
    assert!(
        err.starts_with(&format!(
            "experimental_instructions_file {}: ",
            prompt.display()
        )),
        "{err}"
    );
    let config = load(&home, &["base_instructions=inline"], Default::default()).unwrap();
    assert_eq!(config.user_instructions, None);
}

#[test]
fn unreadable_config_names_the_path() {
    let home = home_with(None);
    std::fs::create_dir(home.path().join(CONFIG_TOML_FILE)).unwrap();
    let err = load(&home, &[], Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: cannot read: ", config_path(&home))),
        "{err}"
    );
}

#[test]
fn codex_home_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = codex_home_from(Some(dir.path().as_os_str().to_owned()), None).unwrap();
    assert_eq!(from_env, dir.path().canonicalize().unwrap());

    let missing = dir.path().join("missing");
    let err = codex_home_from(Some(missing.as_os_str().to_owned()), None).unwrap_err();
    assert!(err.to_string().starts_with(&format!(
        "CODEX_HOME is set to {}, which cannot be used: ",
        missing.display()
    )));

    let home = Path::new("/home/someone");
    let default = codex_home_from(Some("".into()), Some(home.to_path_buf())).unwrap();
    assert_eq!(default, home.join(".codex"));
    assert!(codex_home_from(None, None).is_err());
}

#[test]
fn line_column_of_offsets() {
    let text = "ab\ncdé\nx";
    assert_eq!(
        LineColumn::at_offset(text, 0),
        LineColumn { line: 1, column: 1 }
    );
    assert_eq!(
        LineColumn::at_offset(text, 3),
        LineColumn { line: 2, column: 1 }
    );
    assert_eq!(
        LineColumn::at_offset(text, 6),
        LineColumn { line: 2, column: 3 }
    );
    assert_eq!(
        LineColumn::at_offset(text, 7),
        LineColumn { line: 2, column: 4 }
    );
    assert_eq!(
        LineColumn::at_offset(text, 8),
        LineColumn { line: 3, column: 1 }
    );
    assert_eq!(
        LineColumn::at_offset(text, 99),
        LineColumn { line: 3, column: 2 }
    );
}

#[test]
fn profile_and_profiles_inside_a_profile_are_ignored_with_a_warning() {
    let home = home_with(Some(
        "[profiles.a]\nprofile = \"b\"\nmodel = \"a-model\"\n[profiles.b]\nmodel = \"b-model\"\n",
    ));
    let flags = ConfigOverrides {
        config_profile: Some("a".to_string()),
        ..Default::default()
    };
    let config = load(&home, &[], flags).unwrap();
    assert_eq!(config.model, "a-model");
    assert_eq!(config.active_profile.as_deref(), Some("a"));
    assert_eq!(
        config.warnings,
        vec![format!(
            "{}: `profile` and `profiles` have no effect inside [profiles.a]",
            config_path(&home)
        )]
    );
}

#[test]
fn empty_notify_is_unset() {
    let home = home_with(Some("notify = []\n"));
    let config = load(&home, &[], Default::default()).unwrap();
    assert_eq!(config.notify, None);
}

#[test]
fn web_search_from_tools_features_profiles_and_the_flag() {
    let web_search = |config_toml: Option<&str>, args: &[&str], flag: Option<bool>| {
        let home = home_with(config_toml);
        let flags = ConfigOverrides {
            tools_web_search_request: flag,
            ..Default::default()
        };
        let config = load(&home, args, flags).unwrap();
        assert_eq!(config.warnings, Vec::<String>::new());
        config.tools_web_search
    };
    assert!(!web_search(None, &[], None));
    assert!(web_search(Some("[tools]\nweb_search = true\n"), &[], None));
    assert!(web_search(
        Some("[tools]\nweb_search_request = true\n"),
        &[],
        None
    ));
    assert!(web_search(
        Some("[features]\nweb_search_request = true\nplan_tool = true\n"),
        &[],
        None
    ));
    assert!(web_search(
        Some("[features]\nweb_search = true\n"),
        &[],
        None
    ));
    // `[features]` is applied after `tools`, as in Codex CLI.
    assert!(!web_search(
        Some("[tools]\nweb_search = true\n[features]\nweb_search_request = false\n"),
        &[],
        None
    ));
    let profiles = r#"
[profiles.search]
tools_web_search = true
[profiles.search_table.tools]
web_search = true
[profiles.quiet.tools]
web_search = false
"#;
    assert!(web_search(Some(profiles), &["profile=search"], None));
    assert!(web_search(Some(profiles), &["profile=search_table"], None));
    assert!(!web_search(Some(profiles), &["profile=quiet"], None));
    assert!(web_search(Some(profiles), &["tools.web_search=true"], None));
    assert!(web_search(Some(profiles), &["profile=quiet"], Some(true)));
}

#[test]
fn web_search_keys_are_checked_and_other_tools_keys_still_accepted() {
    let home = home_with(Some("[tools]\nview_image = false\nweb_searchh = true\n"));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(
        config.warnings,
        vec![format!(
            "{}: unknown key `tools.web_searchh` ignored",
            config_path(&home)
        )]
    );
    let (err, path) = load_err(
        "[tools]\nweb_search = \"yes\"\n",
        &[],
        ConfigOverrides::default(),
    );
    assert_eq!(
        err,
        format!(
            "{path}:2:14: key `tools.web_search`: invalid type: string \"yes\", expected a boolean"
        )
    );
}

#[test]
fn web_search_on_a_chat_provider_is_a_warning() {
    let home = home_with(Some(
        r#"
model_provider = "groq"
[tools]
web_search = true
[model_providers.groq]
name = "Groq"
base_url = "https://api.groq.com/openai/v1"
"#,
    ));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert!(config.tools_web_search);
    assert_eq!(
        config.warnings,
        vec![
            "web search is enabled, but model provider `groq` uses the Chat Completions API, \
             which has no built-in web_search tool; it is not offered"
                .to_string()
        ]
    );
}

#[test]
fn tui_notifications_take_a_boolean_or_event_names() {
    let home = home_with(None);
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(config.tui_notifications, Notifications::Enabled(false));

    // The other `[tui]` keys of Codex CLI stay accepted without a warning.
    let home = home_with(Some(
        "[tui]\nnotifications = true\nanimations = false\n[profiles.quiet.tui]\nnotifications = false\n",
    ));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(config.tui_notifications, Notifications::Enabled(true));
    assert_eq!(config.warnings, Vec::<String>::new());
    let quiet = ConfigOverrides {
        config_profile: Some("quiet".to_string()),
        ..Default::default()
    };
    let config = load(&home, &[], quiet).unwrap();
    assert_eq!(config.tui_notifications, Notifications::Enabled(false));

    let config = load(
        &home,
        &[r#"tui.notifications=["approval-requested"]"#],
        ConfigOverrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.tui_notifications,
        Notifications::Custom(vec!["approval-requested".to_string()])
    );
}

#[test]
fn tui_notifications_of_the_wrong_type_name_the_key() {
    let (err, path) = load_err(
        "[tui]\nnotifications = \"yes\"\n",
        &[],
        ConfigOverrides::default(),
    );
    assert_eq!(
        err,
        format!(
            "{path}:2:17: key `tui.notifications`: invalid type: string \"yes\", expected a \
             boolean or a list of event names (\"agent-turn-complete\", \"approval-requested\")"
        )
    );
    let (err, _) = load_err("", &["tui.notifications=[1]"], ConfigOverrides::default());
    assert_eq!(
        err,
        "-c tui.notifications: key `tui.notifications.0`: invalid type: integer `1`, \
         expected a string"
    );
}

#[test]
fn unknown_tui_notification_events_are_a_warning() {
    let home = home_with(Some(
        "[tui]\nnotifications = [\"agent-turn-complete\", \"turn-done\"]\n",
    ));
    let config = load(&home, &[], ConfigOverrides::default()).unwrap();
    assert_eq!(
        config.warnings,
        vec![
            "tui.notifications: unknown event `turn-done` ignored; known events: \
             `agent-turn-complete`, `approval-requested`"
                .to_string()
        ]
    );
    assert!(
        config
            .tui_notifications
            .allows(NotificationEvent::AgentTurnComplete)
    );
    assert!(
        !config
            .tui_notifications
            .allows(NotificationEvent::ApprovalRequested)
    );
}
