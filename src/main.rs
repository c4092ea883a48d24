fn main() -> std::process::ExitCode {
    canary::cmd::main()
}
