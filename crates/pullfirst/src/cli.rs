//! What every command's command line shares: `-q`, `-v`, and `main`'s last step.
//!
//! `main` only turns a result into an exit status: an [`Error`] becomes one line on stderr
//! and its exit code; a closed stdout (`vcheck … | head -1`) is not an error, as Unix expects.

use clap::Args;

use crate::error::Error;
use crate::exit::ExitCode;
use crate::log;

/// Flags every command takes.
#[derive(Args, Clone, Copy, Debug, Default)]
pub struct CommonArgs {
    /// Print only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more on stderr about what is being done
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl CommonArgs {
    /// Set up logging for `program` and register the secrets found in the environment.
    pub fn init(&self, program: &str) {
        log::init(program, self.quiet, self.verbose);
        crate::redact::register_from_env();
    }
}

/// Turn a command's result into the process exit status, printing the error if there is one.
pub fn finish(result: Result<ExitCode, Error>) -> std::process::ExitCode {
    match result {
        Ok(code) => code.into(),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::Ok.into()
        }
        Err(e) => {
            crate::error!("{e}");
            e.exit_code().into()
        }
    }
}
