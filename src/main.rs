//! The `canary` binary: parse the command line, run one command, print an
//! error at most once, exit with the documented code.

#![forbid(unsafe_code)]

mod cli;
mod cmd;

fn main() -> std::process::ExitCode {
    cmd::main()
}
