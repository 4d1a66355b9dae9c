//! The command line: `avatar-studio [serve]` and the operator subcommands.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "avatar-studio",
    version,
    about = "Avatar Studio: a self-hosted AI avatar studio",
    long_about = "Avatar Studio: a self-hosted AI avatar studio.\n\nWith no subcommand the web \
                  server starts. Configuration comes from the environment and a .env file in \
                  the working directory; every variable has a default (see the README)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the web server (the default): applies pending migrations, then serves
    /// LEPTOS_SITE_ADDR until SIGINT or SIGTERM.
    Serve,
    /// Apply pending database migrations to DATABASE_URL and exit.
    Migrate,
}
