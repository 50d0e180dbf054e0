//! The `codex` binary, rebuilt inside this package so integration tests can find it through
//! `CARGO_BIN_EXE_codex-under-test` (Cargo exposes only the binaries of a test's own package).

fn main() {
    codex_cli::main()
}
