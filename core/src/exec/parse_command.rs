//! A best-effort summary of what a command does ("Read foo.rs", "Search `todo` in src"), for
//! front-ends to show instead of the raw argv. It never decides anything: a command it does not
//! understand is simply `Unknown`.

use codex_protocol::protocol::ParsedCommand;

use super::shell_script::Connector;
use super::shell_script::join_words;
use super::shell_script::shell_script_of;
use super::shell_script::split_script;

/// Summarises `argv`. A `bash -lc "<script>"` is split on `&&`, `||`, `;` and `|` into one entry
/// per command; `cd` steps are left out when something else remains, and so are commands fed by
/// a pipe that only trim or count what they receive (`rg foo | head`).
pub fn parse_command(argv: &[String]) -> Vec<ParsedCommand> {
    let Some(script) = shell_script_of(argv) else {
        return vec![parse_simple(argv)];
    };
    let Some(commands) = split_script(script) else {
        return vec![ParsedCommand::Unknown {
            cmd: script.to_string(),
        }];
    };
    let mut parsed: Vec<ParsedCommand> = commands
        .iter()
        .filter(|command| {
            !(command.connector == Connector::Pipe && is_stdin_formatter(&command.argv()))
        })
        .map(|command| parse_simple(&command.argv()))
        .collect();
    let is_cd = |command: &ParsedCommand| matches!(command, ParsedCommand::Unknown { cmd } if cmd == "cd" || cmd.starts_with("cd "));
    if parsed.iter().any(|command| !is_cd(command)) {
        parsed.retain(|command| !is_cd(command));
    }
    if parsed.is_empty() {
        parsed.push(ParsedCommand::Unknown {
            cmd: script.to_string(),
        });
    }
    parsed
}

/// A pipeline stage that reads stdin only to shorten, count or reorder it.
fn is_stdin_formatter(argv: &[String]) -> bool {
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let formatter = matches!(
        program.as_str(),
        "head" | "tail" | "wc" | "sort" | "uniq" | "cut" | "tr" | "nl" | "less" | "more" | "column"
    );
    formatter && operands(args, &["-n", "-c", "-d", "-f", "-k", "-t"]).is_empty()
}

fn parse_simple(argv: &[String]) -> ParsedCommand {
    let cmd = join_words(argv);
    let unknown = || ParsedCommand::Unknown { cmd: cmd.clone() };
    let Some((program, args)) = argv.split_first() else {
        return unknown();
    };
    match program.as_str() {
        "cat" | "nl" => single_file_read(&cmd, args, &["-b", "-s", "-v", "-w"]),
        "head" | "tail" => single_file_read(&cmd, args, &["-n", "-c"]),
        "sed" => match args {
            [flag, range, file] if flag == "-n" && is_line_range(range) => ParsedCommand::Read {
                cmd: cmd.clone(),
                name: file.clone(),
            },
            _ => unknown(),
        },
        "ls" => ParsedCommand::ListFiles {
            path: operands(args, &["-I", "-w", "-T", "--ignore", "--hide"])
                .first()
                .map(|path| path.to_string()),
            cmd: cmd.clone(),
        },
        "tree" => ParsedCommand::ListFiles {
            path: operands(args, &["-L", "-I", "-P", "-o", "--filelimit"])
                .first()
                .map(|path| path.to_string()),
            cmd: cmd.clone(),
        },
        "find" => parse_find(&cmd, args),
        "rg" => parse_search(&cmd, args, RG_OPTIONS_WITH_VALUE, "--files"),
        "grep" => parse_search(&cmd, args, GREP_OPTIONS_WITH_VALUE, ""),
        "git" => match args.split_first() {
            Some((subcommand, rest)) if subcommand == "grep" => {
                parse_search(&cmd, rest, GREP_OPTIONS_WITH_VALUE, "")
            }
            _ => unknown(),
        },
        _ => unknown(),
    }
}

const RG_OPTIONS_WITH_VALUE: &[&str] = &[
    "-A",
    "-B",
    "-C",
    "-e",
    "-f",
    "-g",
    "-j",
    "-m",
    "-M",
    "-t",
    "-T",
    "-d",
    "--glob",
    "--iglob",
    "--type",
    "--type-not",
    "--max-count",
    "--max-depth",
    "--context",
    "--after-context",
    "--before-context",
    "--regexp",
    "--file",
    "--threads",
    "--max-columns",
    "--sort",
    "--sortr",
    "--encoding",
    "-E",
    "--color",
    "--colors",
];

const GREP_OPTIONS_WITH_VALUE: &[&str] = &[
    "-A",
    "-B",
    "-C",
    "-e",
    "-f",
    "-m",
    "--regexp",
    "--file",
    "--max-count",
    "--context",
    "--after-context",
    "--before-context",
    "--include",
    "--exclude",
    "--exclude-dir",
];

/// `cat`/`head`/`tail`/`nl` of exactly one file is a read; reading stdin or several files is not
/// summarised.
fn single_file_read(cmd: &str, args: &[String], options_with_value: &[&str]) -> ParsedCommand {
    match operands(args, options_with_value).as_slice() {
        [file] => ParsedCommand::Read {
            cmd: cmd.to_string(),
            name: file.to_string(),
        },
        _ => ParsedCommand::Unknown {
            cmd: cmd.to_string(),
        },
    }
}

/// `find` with a name/path test searches for it; without one it lists files.
fn parse_find(cmd: &str, args: &[String]) -> ParsedCommand {
    let path = args
        .first()
        .filter(|arg| !arg.starts_with('-') && !arg.starts_with('(') && *arg != "!")
        .cloned();
    let query = args.windows(2).find_map(|pair| {
        matches!(
            pair[0].as_str(),
            "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-regex" | "-iregex"
        )
        .then(|| pair[1].clone())
    });
    match query {
        Some(query) => ParsedCommand::Search {
            cmd: cmd.to_string(),
            query: Some(query),
            path,
        },
        None => ParsedCommand::ListFiles {
            cmd: cmd.to_string(),
            path,
        },
    }
}

/// `rg`/`grep`: the pattern is `-e VALUE` or the first operand, the path the next operand.
/// `list_flag` (`rg --files`) turns the call into a listing of its first operand.
fn parse_search(
    cmd: &str,
    args: &[String],
    options_with_value: &[&str],
    list_flag: &str,
) -> ParsedCommand {
    let operands = operands(args, options_with_value);
    if !list_flag.is_empty() && args.iter().any(|arg| arg == list_flag) {
        return ParsedCommand::ListFiles {
            cmd: cmd.to_string(),
            path: operands.first().map(|path| path.to_string()),
        };
    }
    let explicit_pattern = args
        .windows(2)
        .find_map(|pair| matches!(pair[0].as_str(), "-e" | "--regexp").then(|| pair[1].clone()));
    let (query, path) = match explicit_pattern {
        Some(pattern) => (Some(pattern), operands.first().map(|path| path.to_string())),
        None => (
            operands.first().map(|query| query.to_string()),
            operands.get(1).map(|path| path.to_string()),
        ),
    };
    ParsedCommand::Search {
        cmd: cmd.to_string(),
        query,
        path,
    }
}

/// The non-option arguments, skipping the value of each option in `options_with_value` that is
/// given as a separate word. Everything after `--` is an operand.
fn operands<'a>(args: &'a [String], options_with_value: &[&str]) -> Vec<&'a str> {
    let mut operands = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            operands.extend(args.map(String::as_str));
            break;
        }
        if options_with_value.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') || arg == "-" {
            operands.push(arg.as_str());
        }
    }
    operands
}

fn is_line_range(range: &str) -> bool {
    let Some(lines) = range.strip_suffix('p') else {
        return false;
    };
    let is_number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match lines.split_once(',') {
        Some((first, last)) => is_number(first) && (is_number(last) || last == "$"),
        None => is_number(lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    fn bash(script: &str) -> Vec<ParsedCommand> {
        parse_command(&argv(&["bash", "-lc", script]))
    }

    fn read(cmd: &str, name: &str) -> ParsedCommand {
        ParsedCommand::Read {
            cmd: cmd.to_string(),
            name: name.to_string(),
        }
    }

    fn list(cmd: &str, path: Option<&str>) -> ParsedCommand {
        ParsedCommand::ListFiles {
            cmd: cmd.to_string(),
            path: path.map(str::to_string),
        }
    }

    fn search(cmd: &str, query: Option<&str>, path: Option<&str>) -> ParsedCommand {
        ParsedCommand::Search {
            cmd: cmd.to_string(),
            query: query.map(str::to_string),
            path: path.map(str::to_string),
        }
    }

    fn unknown(cmd: &str) -> ParsedCommand {
        ParsedCommand::Unknown {
            cmd: cmd.to_string(),
        }
    }

    #[test]
    fn reads() {
        assert_eq!(
            parse_command(&argv(&["cat", "src/main.rs"])),
            vec![read("cat src/main.rs", "src/main.rs")]
        );
        assert_eq!(
            parse_command(&argv(&["head", "-n", "50", "README.md"])),
            vec![read("head -n 50 README.md", "README.md")]
        );
        assert_eq!(
            parse_command(&argv(&["tail", "-20", "log.txt"])),
            vec![read("tail -20 log.txt", "log.txt")]
        );
        assert_eq!(
            bash("sed -n 10,40p core/src/lib.rs"),
            vec![read("sed -n 10,40p core/src/lib.rs", "core/src/lib.rs")]
        );
        assert_eq!(
            parse_command(&argv(&["nl", "-ba", "a.rs"])),
            vec![read("nl -ba a.rs", "a.rs")]
        );
        assert_eq!(
            parse_command(&argv(&["cat", "a", "b"])),
            vec![unknown("cat a b")]
        );
    }

    #[test]
    fn listings() {
        assert_eq!(
            parse_command(&argv(&["ls", "-la"])),
            vec![list("ls -la", None)]
        );
        assert_eq!(
            parse_command(&argv(&["ls", "-la", "src"])),
            vec![list("ls -la src", Some("src"))]
        );
        assert_eq!(
            parse_command(&argv(&["tree", "-L", "2", "core"])),
            vec![list("tree -L 2 core", Some("core"))]
        );
        assert_eq!(
            parse_command(&argv(&["find", ".", "-type", "f"])),
            vec![list("find . -type f", Some("."))]
        );
        assert_eq!(
            parse_command(&argv(&["rg", "--files", "src"])),
            vec![list("rg --files src", Some("src"))]
        );
    }

    #[test]
    fn searches() {
        assert_eq!(
            parse_command(&argv(&["rg", "-n", "fn main", "src"])),
            vec![search("rg -n 'fn main' src", Some("fn main"), Some("src"))]
        );
        assert_eq!(
            parse_command(&argv(&["rg", "-t", "rust", "TODO"])),
            vec![search("rg -t rust TODO", Some("TODO"), None)]
        );
        assert_eq!(
            parse_command(&argv(&["grep", "-rn", "-e", "foo", "lib"])),
            vec![search("grep -rn -e foo lib", Some("foo"), Some("lib"))]
        );
        assert_eq!(
            parse_command(&argv(&["git", "grep", "-n", "needle"])),
            vec![search("git grep -n needle", Some("needle"), None)]
        );
        assert_eq!(
            parse_command(&argv(&["find", "src", "-name", "*.rs"])),
            vec![search("find src -name '*.rs'", Some("*.rs"), Some("src"))]
        );
    }

    #[test]
    fn shell_scripts_are_split_and_simplified() {
        assert_eq!(
            bash("cd core && rg -n foo src | head -n 20; cat Cargo.toml"),
            vec![
                search("rg -n foo src", Some("foo"), Some("src")),
                read("cat Cargo.toml", "Cargo.toml"),
            ]
        );
        assert_eq!(
            bash("ls && cat x"),
            vec![list("ls", None), read("cat x", "x")]
        );
        assert_eq!(bash("cd /tmp"), vec![unknown("cd /tmp")]);
        assert_eq!(bash("echo $(date) > f"), vec![unknown("echo $(date) > f")]);
        assert_eq!(
            parse_command(&argv(&["cargo", "test", "-p", "x"])),
            vec![unknown("cargo test -p x")]
        );
        assert_eq!(parse_command(&[]), vec![unknown("")]);
    }
}
