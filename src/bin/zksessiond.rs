//! `zksessiond`: a standalone, in-memory, ZooKeeper-compatible server.
//!
//! Usage: `zksessiond [--config FILE]`. Without a file it listens on 127.0.0.1:2181 with
//! tickTime 2000. SIGTERM and SIGINT stop it cleanly. Logs go to stderr; `RUST_LOG`
//! selects the level (default `info`).

// Under `--cfg loom` (the engine's model-checking build) the library has no server, but
// cargo still builds every binary for integration tests: compile a stub there.
#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
use {
    signal_hook::consts::{SIGINT, SIGTERM},
    signal_hook::iterator::Signals,
    std::io::IsTerminal,
    std::path::PathBuf,
    std::process::ExitCode,
    zksession::server::{Server, ServerConfig},
};

#[cfg(not(loom))]
fn usage() -> ExitCode {
    eprintln!("usage: zksessiond [--config FILE]");
    ExitCode::from(2)
}

#[cfg(not(loom))]
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" | "-c" => match args.next() {
                Some(f) => file = Some(PathBuf::from(f)),
                None => return usage(),
            },
            "--help" | "-h" => {
                println!("usage: zksessiond [--config FILE]");
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }

    let config = match &file {
        None => ServerConfig::default(),
        Some(path) => match ServerConfig::from_file(path) {
            Ok((config, unknown)) => {
                for k in unknown {
                    tracing::warn!(key = %k.key, line = k.line, "unknown configuration key ignored");
                }
                config
            }
            Err(e) => {
                eprintln!("zksessiond: {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
    };
    if config.data_dir.is_some() {
        tracing::info!("dataDir is ignored: all state is kept in memory");
    }

    let server = match Server::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zksessiond: {e}");
            return ExitCode::from(1);
        }
    };
    let mut signals = match Signals::new([SIGTERM, SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zksessiond: cannot install signal handlers: {e}");
            server.shutdown();
            return ExitCode::from(1);
        }
    };
    let stopper = server.stopper();
    let handle = signals.handle();
    let watcher = std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            tracing::info!(signal = sig, "signal received; shutting down");
            stopper.stop();
        }
    });
    server.join();
    handle.close();
    let _ = watcher.join();
    ExitCode::SUCCESS
}
