//! The `ipull` binary: everything is in the library, so the xtask can render its help.
fn main() -> std::process::ExitCode {
    ipull::main()
}
