//! The `spin` binary: everything lives in the library; this only sets the exit code.

fn main() -> std::process::ExitCode {
    spin_cli::main()
}
