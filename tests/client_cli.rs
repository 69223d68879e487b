//! The `zkcli` example against a real Apache ZooKeeper server.
//!
//! Ignored by default; `scripts/test-client.sh` builds the example and runs this.

mod client_support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use client_support::ZkServer;

fn zkcli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("examples").join("zkcli");
    assert!(bin.exists(), "build it first: cargo build --example zkcli");
    bin
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn zkcli_creates_lists_gets_and_stats_and_prints_state_changes() {
    let server = ZkServer::start(250);
    let mut child = Command::new(zkcli())
        .arg(format!("{}/", server.addr()))
        .args(["--timeout", "4000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"create -e /x hello\nls /\nget /x\nstat /x\nstat /nope\nquit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("WATCHER:: state:SyncConnected type:None"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("Created /x"), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"x\""), "{stdout}");
    assert!(stdout.contains("\nhello\n"), "{stdout}");
    assert!(stdout.contains("ephemeralOwner = 0x"), "{stdout}");
    assert!(!stdout.contains("ephemeralOwner = 0x0\n"), "{stdout}");
    assert!(stdout.contains("Node does not exist: /nope"), "{stdout}");
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn zkcli_refuses_a_bad_connect_string() {
    let out = Command::new(zkcli()).arg("h:99999").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad port"));
}
