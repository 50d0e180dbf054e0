//! The environment of commands the agent runs, built from `[shell_environment_policy]` so that
//! secrets in the user's shell do not leak into model-driven commands by default.

use std::collections::HashMap;

use crate::config::ShellEnvironmentPolicy;
use crate::config::ShellEnvironmentPolicyInherit;

/// Variables kept by `inherit = "core"`.
const CORE_VARIABLES: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP",
];

/// Dropped unless `ignore_default_excludes = true`.
const DEFAULT_EXCLUDES: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*"];

/// The child environment for `policy`, starting from this process's environment. Steps, in
/// order: inherit (all/core/none), default excludes, `exclude`, `set`, `include_only`. Patterns
/// are case-insensitive globs with `*` and `?`. Variables whose name or value is not UTF-8 are
/// not inherited.
pub fn create_env(policy: &ShellEnvironmentPolicy) -> HashMap<String, String> {
    let inherited = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    build_env(inherited, policy)
}

fn build_env(
    inherited: impl IntoIterator<Item = (String, String)>,
    policy: &ShellEnvironmentPolicy,
) -> HashMap<String, String> {
    let inherited = inherited.into_iter();
    let mut env: HashMap<String, String> = match policy.inherit {
        ShellEnvironmentPolicyInherit::All => inherited.collect(),
        ShellEnvironmentPolicyInherit::Core => inherited
            .filter(|(name, _)| CORE_VARIABLES.contains(&name.as_str()))
            .collect(),
        ShellEnvironmentPolicyInherit::None => HashMap::new(),
    };
    if !policy.ignore_default_excludes {
        env.retain(|name, _| !matches_any(DEFAULT_EXCLUDES, name));
    }
    env.retain(|name, _| !matches_any(&policy.exclude, name));
    env.extend(
        policy
            .set
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    if !policy.include_only.is_empty() {
        env.retain(|name, _| matches_any(&policy.include_only, name));
    }
    env
}

fn matches_any<S: AsRef<str>>(patterns: &[S], name: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| glob_matches(pattern.as_ref(), name))
}

/// Case-insensitive glob match where `*` is any run of characters and `?` exactly one.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen and the text position it currently stands for the end of.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, star_text)) => {
                    p = star + 1;
                    t = star_text + 1;
                    backtrack = Some((star, star_text + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn names(env: &HashMap<String, String>) -> Vec<&str> {
        let mut names: Vec<&str> = env.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn sample() -> Vec<(String, String)> {
        vars(&[
            ("HOME", "/home/u"),
            ("PATH", "/bin"),
            ("EDITOR", "vi"),
            ("OPENAI_API_KEY", "sk"),
            ("github_token", "t"),
            ("MY_Secret_X", "s"),
            ("RUST_LOG", "info"),
            ("RUSTFLAGS", "-O"),
        ])
    }

    #[test]
    fn inherit_all_drops_default_excludes() {
        let env = build_env(sample(), &ShellEnvironmentPolicy::default());
        assert_eq!(
            names(&env),
            vec!["EDITOR", "HOME", "PATH", "RUSTFLAGS", "RUST_LOG"]
        );
        assert_eq!(env.get("HOME").map(String::as_str), Some("/home/u"));
    }

    #[test]
    fn inherit_core_and_none() {
        let core = ShellEnvironmentPolicy {
            inherit: ShellEnvironmentPolicyInherit::Core,
            ..Default::default()
        };
        assert_eq!(names(&build_env(sample(), &core)), vec!["HOME", "PATH"]);
        let none = ShellEnvironmentPolicy {
            inherit: ShellEnvironmentPolicyInherit::None,
            ..Default::default()
        };
        assert!(build_env(sample(), &none).is_empty());
    }

    #[test]
    fn ignore_default_excludes_keeps_secrets() {
        let policy = ShellEnvironmentPolicy {
            ignore_default_excludes: true,
            ..Default::default()
        };
        let env = build_env(sample(), &policy);
        assert_eq!(env.len(), 8);
        assert!(env.contains_key("OPENAI_API_KEY"));
    }

    #[test]
    fn exclude_set_and_include_only_apply_in_order() {
        let policy = ShellEnvironmentPolicy {
            inherit: ShellEnvironmentPolicyInherit::All,
            ignore_default_excludes: false,
            exclude: vec!["rust*".to_string(), "ED?TOR".to_string()],
            // `set` comes after the excludes, so it can re-add an excluded name, and before
            // `include_only`, which can still drop what it set.
            set: HashMap::from([
                ("RUST_LOG".to_string(), "debug".to_string()),
                ("CI".to_string(), "1".to_string()),
                ("API_TOKEN".to_string(), "explicit".to_string()),
            ]),
            include_only: vec![
                "*PATH*".to_string(),
                "rust_*".to_string(),
                "*token".to_string(),
            ],
        };
        let env = build_env(sample(), &policy);
        assert_eq!(names(&env), vec!["API_TOKEN", "PATH", "RUST_LOG"]);
        assert_eq!(env.get("RUST_LOG").map(String::as_str), Some("debug"));
    }

    #[test]
    fn glob_matching() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("*KEY*", "openai_api_key"));
        assert!(glob_matches("a?c", "ABC"));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
        assert!(glob_matches("*ab", "aab"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(!glob_matches("abc", "abcd"));
        assert!(!glob_matches("*x", "abc"));
    }

    #[test]
    fn create_env_reads_the_process_environment() {
        let policy = ShellEnvironmentPolicy {
            inherit: ShellEnvironmentPolicyInherit::Core,
            ..Default::default()
        };
        let env = create_env(&policy);
        assert_eq!(
            env.get("PATH").cloned(),
            std::env::var("PATH").ok(),
            "core keeps PATH"
        );
    }
}
