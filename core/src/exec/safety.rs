//! The allow-list of commands that only read, which run without approval and without a sandbox.
//!
//! Anything not recognised here is not safe: the list errs on the side of asking the user.

use super::shell_script::shell_script_of;
use super::shell_script::split_script;

/// Whether `argv` is known to only read (listing, printing, searching, `git status`-like
/// queries). A `bash -lc "<script>"` (also `zsh`, `sh -c`) is safe when the script is nothing but
/// simple commands joined by `&&`, `||`, `;` or `|` and every one of them is safe on its own.
pub fn is_known_safe_command(argv: &[String]) -> bool {
    if let Some(script) = shell_script_of(argv) {
        return match split_script(script) {
            Some(commands) if !commands.is_empty() => commands.iter().all(|command| {
                let argv = command.argv();
                let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                is_safe_simple_command(&words, command.may_expand_globs())
            }),
            _ => false,
        };
    }
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    is_safe_simple_command(&words, false)
}

/// `may_expand_globs`: a shell will replace some word with file names, which could smuggle an
/// option (a file named `-delete`) past the checks of commands that have dangerous options.
fn is_safe_simple_command(argv: &[&str], may_expand_globs: bool) -> bool {
    let Some((&program, args)) = argv.split_first() else {
        return false;
    };
    match program {
        "cat" | "cd" | "echo" | "false" | "grep" | "head" | "ls" | "nl" | "pwd" | "tail"
        | "true" | "wc" | "which" => true,
        "find" => !may_expand_globs && !args.iter().any(|arg| FIND_UNSAFE_OPTIONS.contains(arg)),
        "rg" => !may_expand_globs && args.iter().all(|arg| is_safe_rg_arg(arg)),
        "git" => !may_expand_globs && is_safe_git(args),
        "sed" => !may_expand_globs && is_safe_sed(args),
        "cargo" => args == ["check"],
        _ => false,
    }
}

/// `find` options that run programs or write files.
const FIND_UNSAFE_OPTIONS: &[&str] = &[
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf",
];

/// `rg` runs a preprocessor with `--pre`, a program with `--hostname-bin`, and decompressors
/// with `--search-zip`/`-z`. A short-option cluster containing `z` is refused as well.
fn is_safe_rg_arg(arg: &str) -> bool {
    let long_unsafe = ["--pre", "--hostname-bin", "--search-zip"]
        .iter()
        .any(|option| arg == *option || arg.starts_with(&format!("{option}=")));
    let short_cluster_with_z = arg.starts_with('-') && !arg.starts_with("--") && arg.contains('z');
    !long_unsafe && !short_cluster_with_z
}

fn is_safe_git(args: &[&str]) -> bool {
    let Some((&subcommand, rest)) = args.split_first() else {
        return false;
    };
    match subcommand {
        // `--output` writes a file; `--ext-diff` runs a configured program.
        "status" | "log" | "diff" | "show" => !rest
            .iter()
            .any(|arg| *arg == "--output" || arg.starts_with("--output=") || *arg == "--ext-diff"),
        // Only listing: any positional argument would create, rename or delete a branch.
        "branch" => rest.iter().all(|arg| {
            matches!(
                *arg,
                "-a" | "--all"
                    | "-r"
                    | "--remotes"
                    | "-v"
                    | "-vv"
                    | "--verbose"
                    | "-l"
                    | "--list"
                    | "--show-current"
            )
        }),
        _ => false,
    }
}

/// Only `sed -n <N>p <file>` and `sed -n <M>,<N>p <file>`.
fn is_safe_sed(args: &[&str]) -> bool {
    let ["-n", range, file] = args else {
        return false;
    };
    let Some(lines) = range.strip_suffix('p') else {
        return false;
    };
    let is_number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let range_ok = match lines.split_once(',') {
        Some((first, last)) => is_number(first) && is_number(last),
        None => is_number(lines),
    };
    // GNU sed permutes arguments, so a "file" starting with `-` would be an option.
    range_ok && !file.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    fn bash(script: &str) -> Vec<String> {
        argv(&["bash", "-lc", script])
    }

    #[test]
    fn plain_read_only_commands_are_safe() {
        for words in [
            &["ls", "-la"][..],
            &["cat", "README.md"],
            &["pwd"],
            &["grep", "-rn", "foo", "."],
            &["head", "-n", "5", "x"],
            &["wc", "-l", "x"],
            &["find", ".", "-name", "*.rs"],
            &["rg", "-n", "fn main", "src"],
            &["git", "status"],
            &["git", "log", "--oneline", "-5"],
            &["git", "diff", "HEAD~1"],
            &["git", "show", "HEAD"],
            &["git", "branch"],
            &["git", "branch", "-a", "-v"],
            &["sed", "-n", "1,5p", "file"],
            &["sed", "-n", "10p", "file"],
            &["cargo", "check"],
        ] {
            assert!(is_known_safe_command(&argv(words)), "{words:?}");
        }
    }

    #[test]
    fn writing_or_executing_commands_are_not_safe() {
        for words in [
            &[][..],
            &["rm", "-rf", "x"],
            &["find", ".", "-delete"],
            &["find", ".", "-exec", "rm", "{}", ";"],
            &["find", ".", "-fprint", "out"],
            &["rg", "--pre", "cat", "x"],
            &["rg", "--pre=cat", "x"],
            &["rg", "-z", "x"],
            &["rg", "-iz", "x"],
            &["rg", "--search-zip", "x"],
            &["rg", "--hostname-bin=evil", "x"],
            &["git", "push"],
            &["git", "commit", "-m", "x"],
            &["git", "-c", "core.pager=evil", "log"],
            &["git", "diff", "--output=x"],
            &["git", "branch", "new-branch"],
            &["git", "branch", "-D", "main"],
            &["git"],
            &["sed", "-i", "s/a/b/", "file"],
            &["sed", "-n", "1,5p"],
            &["sed", "-n", "1,5p", "a", "b"],
            &["sed", "-n", "1,5p", "-i"],
            &["sed", "-n", "s/a/b/p", "file"],
            &["sed", "-n", ",5p", "file"],
            &["cargo", "build"],
            &["cargo", "check", "--config", "x"],
            &["/bin/ls"],
            &["python3", "-c", "print(1)"],
        ] {
            assert!(!is_known_safe_command(&argv(words)), "{words:?}");
        }
    }

    #[test]
    fn shell_scripts_are_safe_only_if_every_command_is() {
        for script in [
            "ls && cat x",
            "ls -la; pwd",
            "cat x | head -n 5",
            "git status || git log -1",
            "sed -n 1,5p file",
            "rg -n 'fn main' src | wc -l",
            "cat *.md",
            "cd src\nls",
        ] {
            assert!(is_known_safe_command(&bash(script)), "{script}");
        }
        assert!(is_known_safe_command(&argv(&["zsh", "-lc", "ls"])));
        assert!(is_known_safe_command(&argv(&["sh", "-c", "ls"])));

        for script in [
            "ls > f",
            "echo $(rm x)",
            "echo `rm x`",
            "ls && rm x",
            "cat x | sh",
            "ls &",
            "(ls)",
            "echo $HOME",
            "FOO=1 ls",
            "find . *",
            "sed -i s/a/b/ f",
            "",
            "   ",
        ] {
            assert!(!is_known_safe_command(&bash(script)), "{script}");
        }
        assert!(!is_known_safe_command(&argv(&["bash", "-lc", "ls", "x"])));
        assert!(!is_known_safe_command(&argv(&["python", "-c", "ls"])));
    }
}
