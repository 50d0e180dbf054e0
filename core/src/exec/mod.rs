//! Running the commands the model asks for, and judging them.
//!
//! The shell tool needs three things from this module: a child-process runtime that streams
//! output while bounding memory and never outlives its timeout ([`run_command`]), the text the
//! model gets back ([`format_output_for_model`]), and the policy pieces around a run: the child's
//! environment ([`create_env`]), the read-only allow-list that skips approval
//! ([`is_known_safe_command`]) and a display summary of the command ([`parse_command`]).

mod env;
mod parse_command;
mod run;
mod safety;
mod shell_script;
mod truncate;

pub use env::create_env;
pub use parse_command::parse_command;
pub use run::ExecOutput;
pub use run::ExecParams;
pub use run::run_command;
pub use safety::is_known_safe_command;
pub use truncate::format_output_for_model;

/// Timeout applied when the model does not pass `timeout_ms`.
pub const DEFAULT_EXEC_TIMEOUT_MS: u64 = 10_000;

/// Exit code reported for a command killed because it ran past its timeout (as `timeout(1)` does).
pub const EXEC_TIMEOUT_EXIT_CODE: i32 = 124;
