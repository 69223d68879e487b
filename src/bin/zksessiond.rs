//! `zksessiond`: a standalone ZooKeeper-compatible server.
//!
//! Usage: `zksessiond [--config FILE]`, `zksessiond --help`, `zksessiond --version`.
//! Without a file it listens on 127.0.0.1:2181 with tickTime 2000, keeps everything in
//! memory and serves no HTTP (with a file, the AdminServer is on unless
//! `admin.enableServer=false`, as in ZooKeeper); with `dataDir` in the file its state is durable (ZooKeeper 3.8's files). It
//! exits with status 1 if the log cannot be written. SIGTERM and SIGINT stop it cleanly.
//! Logs go to stderr; `RUST_LOG` selects the level (default `info`).

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
    zksession::server::{version_line, Server, ServerConfig, PROTOCOL_VERSION},
};

#[cfg(not(loom))]
const HELP: &str = "\
zksessiond: a standalone ZooKeeper-compatible server (ZooKeeper's wire protocol and
four-letter words), built on the zksession session engine.

Usage: zksessiond [--config FILE]

Options:
  -c, --config FILE  read settings from a ZooKeeper zoo.cfg file (clientPort,
                     clientPortAddress, tickTime, min/maxSessionTimeout, maxClientCnxns,
                     maxCnxns, 4lw.commands.whitelist, dataDir, admin.*,
                     metricsProvider.*, ...); unknown keys are warnings
  -h, --help         print this help and exit
  -V, --version      print the version and exit

Without --config it listens on 127.0.0.1:2181 with tickTime 2000 and serves no HTTP.
With a zoo.cfg, the AdminServer answers ZooKeeper's JSON commands on
http://127.0.0.1:8080/commands unless admin.enableServer=false (admin.serverAddress,
admin.serverPort, admin.commandURL move it); metricsProvider.className=
org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider serves Prometheus
metrics on metricsProvider.httpHost:httpPort (default 0.0.0.0:7000) at /metrics.
SIGTERM or SIGINT stops it. Logs go to stderr; RUST_LOG sets the level (default info).
";

#[cfg(not(loom))]
fn usage() -> ExitCode {
    eprintln!("usage: zksessiond [--config FILE] | --help | --version");
    ExitCode::from(2)
}

#[cfg(not(loom))]
fn main() -> ExitCode {
    zksession::server::prepare_allocator();
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
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!(
                    "zksessiond {} (ZooKeeper {PROTOCOL_VERSION} protocol; reports {})",
                    env!("CARGO_PKG_VERSION"),
                    version_line()
                );
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }

    let mut config = match &file {
        None => ServerConfig::default(),
        Some(path) => match ServerConfig::from_file(path) {
            Ok((config, unknown)) => {
                for k in unknown {
                    tracing::warn!(key = %k.key, line = k.line, "unknown configuration setting ignored");
                }
                config
            }
            Err(e) => {
                eprintln!("zksessiond: {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
    };
    let env_enforce = std::env::var(zksession::server::ENFORCE_QUOTA_KEY).ok();
    let env_budget = std::env::var(zksession::server::MEMORY_BUDGET_KEY).ok();
    if let Err(e) = config.quota_settings_from_env(env_enforce.as_deref(), env_budget.as_deref()) {
        eprintln!("zksessiond: environment: {e}");
        return ExitCode::from(1);
    }
    let env_tree_digest = std::env::var(zksession::server::DIGEST_ENABLED_KEY).ok();
    if let Err(e) = config.digest_from_env(env_tree_digest.as_deref()) {
        eprintln!("zksessiond: environment: {e}");
        return ExitCode::from(1);
    }
    let env_digest = std::env::var(zksession::security::digest::SUPER_DIGEST_KEY).ok();
    if let Err(e) = config.super_digest_from_env(env_digest.as_deref()) {
        eprintln!("zksessiond: environment: {e}");
        return ExitCode::from(1);
    }
    let env_jaas = std::env::var(zksession::server::JAAS_KEY).ok();
    if let Err(e) = config.load_sasl_users(env_jaas.as_deref()) {
        eprintln!("zksessiond: SASL users: {e}");
        return ExitCode::from(1);
    }
    if config.data_dir.is_none() {
        tracing::info!("no dataDir: all state is kept in memory and lost on exit");
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
    let server = server.wait();
    let failed = server.persist_failed();
    drop(server);
    handle.close();
    let _ = watcher.join();
    if failed {
        eprintln!("zksessiond: stopped: the transaction log could not be written");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
