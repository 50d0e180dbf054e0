//! The `apply_patch` engine: parses the model's patch envelope, resolves every hunk against the
//! files on disk before anything is written, and applies the result all-or-nothing. It exists so
//! that the model's edits are checked, shown for approval and tracked as one turn diff.
//!
//! Flow: [`parse_patch`] (text → [`Hunk`]s) → [`verify_patch`] (hunks → [`ApplyPatchAction`],
//! reads only) → approval (`ApplyPatchAction::paths`, `file_changes`) → [`apply_action`]
//! (atomic per file, rolled back as a whole on failure). [`TurnDiffTracker`] snapshots files
//! before each apply to render the task's cumulative diff. The format is described in
//! `docs/apply_patch.md` and, for the model, in [`APPLY_PATCH_TOOL_INSTRUCTIONS`].
//!
//! Everything here is synchronous; async callers use `spawn_blocking`.

mod apply;
mod diff;
mod error;
mod parser;
mod paths;
mod seek_sequence;
mod shell;
mod turn_diff;
mod verify;

pub use apply::apply_action;
pub use error::ApplyPatchError;
pub use parser::Hunk;
pub use parser::ParseError;
pub use parser::UpdateFileChunk;
pub use parser::parse_patch;
pub use shell::maybe_extract_patch_from_shell;
pub use turn_diff::TurnDiffTracker;
pub use verify::ApplyPatchAction;
pub use verify::ResolvedChange;
pub use verify::verify_patch;

/// The name of the tool, whichever way it is exposed (freeform, function, or shell command).
pub const APPLY_PATCH_TOOL_NAME: &str = "apply_patch";

/// What the model is told about the patch format; also the tool's description.
pub const APPLY_PATCH_TOOL_INSTRUCTIONS: &str = include_str!("instructions.md");

/// The Lark grammar that constrains the input of the freeform (`type: "custom"`) tool.
pub fn lark_grammar() -> &'static str {
    include_str!("apply_patch.lark")
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;

/// The hidden first argument that makes the `codex` binary apply one patch and exit: how patches
/// are written from inside the OS sandbox, like any other command.
pub const APPLY_PATCH_ARG: &str = "--codex-run-as-apply-patch";

/// Entry point for [`APPLY_PATCH_ARG`]: `codex --codex-run-as-apply-patch <patch>` applies the
/// patch in the current directory, prints the summary and exits 0, or prints one error line and
/// exits 1.
pub fn run_apply_patch_main(args: Vec<std::ffi::OsString>) -> ! {
    let patch = args.get(1).map(|p| p.to_string_lossy().into_owned());
    let result = match (patch, std::env::current_dir()) {
        (Some(patch), Ok(cwd)) => verify_patch(&patch, &cwd)
            .and_then(|action| apply_action(&action))
            .map_err(|e| e.to_string()),
        (None, _) => Err(format!("usage: codex {APPLY_PATCH_ARG} <patch>")),
        (_, Err(err)) => Err(format!("cannot read the current directory: {err}")),
    };
    match result {
        Ok(summary) => {
            print!("{summary}");
            std::process::exit(0)
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1)
        }
    }
}
