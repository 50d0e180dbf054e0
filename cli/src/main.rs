fn main() {
    codex_cli::main()
}
