//! The AdminServer: ZooKeeper 3.8's commands over HTTP (`admin.enableServer`,
//! `admin.serverAddress`, `admin.serverPort`, `admin.commandURL`).
//!
//! Owns: the thread `zksessiond-admin` (an [`HttpThread`]) and the routing of its
//! requests: `GET <commandURL>` lists the commands as links (as ZooKeeper does);
//! `GET <commandURL>/<name>` answers the command (a primary name or its four-letter
//! alias) as JSON (`admin_json`), 200 with `"error"` set for an unknown command, as
//! ZooKeeper; any other path is 404.
//!
//! Invariants: commands run on the AdminServer's thread, one at a time, never on an event
//! loop; the four-letter-word whitelist does not apply (it does not in ZooKeeper either).
//!
//! Must never: outlive the server ([`AdminServer::stop`] unblocks and joins its thread,
//! dropping its reference to the shared state).

use super::admin_json;
use super::http::{HttpThread, Reply};
use super::shared::Shared;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// The running AdminServer.
pub(crate) struct AdminServer {
    http: HttpThread,
}

impl AdminServer {
    /// Binds `addr` and answers commands under `command_url` (e.g. `/commands`).
    pub(crate) fn start(
        addr: SocketAddr,
        command_url: &str,
        shared: Arc<Shared>,
    ) -> std::io::Result<AdminServer> {
        let base = command_url.trim_end_matches('/').to_owned();
        let http = HttpThread::start("zksessiond-admin", addr, move |path| {
            route(&shared, &base, path)
        })?;
        tracing::info!(addr = %http.addr(), url = command_url, "AdminServer started");
        Ok(AdminServer { http })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// Stops answering and joins the thread.
    pub(crate) fn stop(&mut self) {
        self.http.stop();
    }
}

/// The reply to a request for `path`, commands living under `base` (no trailing `/`).
fn route(shared: &Shared, base: &str, path: &str) -> Reply {
    let Some(rest) = path.strip_prefix(base) else {
        return Reply::error(404, "not found");
    };
    let name = match rest.strip_prefix('/') {
        None if rest.is_empty() => "",
        None => return Reply::error(404, "not found"),
        Some(name) => name.trim_end_matches('/'),
    };
    if name.is_empty() {
        return Reply::ok("text/html; charset=utf-8", listing(base));
    }
    let json = admin_json::answer(shared, name);
    match serde_json::to_string_pretty(&json) {
        Ok(body) => Reply::ok("application/json", body),
        Err(_) => Reply::error(500, "cannot encode the answer"),
    }
}

/// The command list: one link per command, as ZooKeeper's.
fn listing(base: &str) -> String {
    let mut out = String::new();
    for (name, _) in admin_json::COMMANDS {
        let _ = writeln!(out, "<a href=\"{base}/{name}\">{name}</a>\n<br/>");
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::server::test_client::{call, open_session};
    use crate::server::{Server, ServerConfig};
    use crate::wire::{Acl, CreateMode, Request};
    use serde_json::Value;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    fn get(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(s, "{method} {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    }

    fn json(addr: SocketAddr, path: &str) -> Value {
        let (status, body) = get(addr, "GET", path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Opens a session and creates `path` as its ephemeral; returns the socket.
    fn session_with_ephemeral(addr: SocketAddr, path: &str) -> TcpStream {
        let (mut c, _) = open_session(addr);
        let create = Request::create(
            path,
            Vec::new(),
            vec![Acl::world_anyone()],
            CreateMode::Ephemeral,
        );
        let reply = call(&mut c, 1, &create);
        assert_eq!(&reply[12..16], &0i32.to_be_bytes(), "create failed");
        c
    }

    fn server() -> Server {
        let config = ServerConfig {
            client_addr: "127.0.0.1:0".parse().unwrap(),
            admin_addr: Some("127.0.0.1:0".parse().unwrap()),
            event_loops: 1,
            ..ServerConfig::default()
        };
        Server::start(config).unwrap()
    }

    #[test]
    fn commands_answer_zookeepers_json_and_aliases_name_the_same_command() {
        let server = server();
        let admin = server.admin_addr().unwrap();
        let _c = session_with_ephemeral(server.local_addr(), "/eph");

        let ruok = json(admin, "/commands/ruok");
        assert_eq!(ruok, serde_json::json!({"command": "ruok", "error": null}));

        let srvr = json(admin, "/commands/srvr");
        assert_eq!(srvr["command"], "server_stats");
        assert!(srvr["version"]
            .as_str()
            .unwrap()
            .starts_with("3.8.0-zksessiond-"));
        assert_eq!(srvr["server_stats"]["server_state"], "standalone");
        assert_eq!(srvr["server_stats"]["num_alive_client_connections"], 1);
        // /, /zookeeper, /zookeeper/quota, /zookeeper/config and /eph.
        assert_eq!(srvr["node_count"], 5);

        let cons = json(admin, "/commands/cons");
        assert_eq!(cons["command"], "connections");
        let c = &cons["connections"][0];
        let sid = c["session_id"].as_u64().unwrap();
        assert_ne!(sid, 0);
        assert_eq!(c["session_timeout"], 30_000);
        let stat = json(admin, "/commands/stat");
        assert!(stat["connections"][0].get("session_id").is_none(), "brief");

        let dump = json(admin, "/commands/dump");
        assert_eq!(
            dump["session_id_to_ephemeral_paths"][sid.to_string()],
            serde_json::json!(["/eph"])
        );
        let sessions: Vec<u64> = dump["expiry_time_to_session_ids"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ids| ids.as_array().unwrap().iter().map(|i| i.as_u64().unwrap()))
            .collect();
        assert_eq!(sessions, [sid]);

        let mntr = json(admin, "/commands/mntr");
        assert_eq!(mntr["command"], "monitor");
        assert_eq!(mntr["global_sessions"], 1);
        assert_eq!(mntr["ephemerals_count"], 1);
        assert_eq!(mntr["server_state"], "standalone");

        let conf = json(admin, "/commands/conf");
        assert_eq!(conf["command"], "configuration");
        assert_eq!(
            conf["client_port"], 0,
            "the configured port, as the `conf` word"
        );
        assert_eq!(conf["tick_time"], 2000);

        let envi = json(admin, "/commands/envi");
        assert_eq!(envi["command"], "environment");
        assert!(envi["zookeeper.version"]
            .as_str()
            .unwrap()
            .starts_with("3.8.0"));

        let lsnp = json(admin, "/commands/lsnp");
        assert_eq!(lsnp["command"], "last_snapshot");
        assert_eq!(lsnp["zxid"], "0", "no dataDir, no snapshot");
        let started = lsnp["timestamp"].as_u64().unwrap();
        let now = crate::server::shared::wall_ms() / 1000;
        assert!(started <= now && started + 600 > now, "{started} vs {now}");

        let wchs = json(admin, "/commands/wchs");
        assert_eq!(wchs["command"], "watch_summary");
        assert_eq!(wchs["num_total_watches"], 0);
    }

    #[test]
    fn unknown_commands_other_paths_and_methods_are_refused_as_zookeeper_does() {
        let server = server();
        let admin = server.admin_addr().unwrap();
        let bogus = json(admin, "/commands/bogus");
        assert_eq!(
            bogus,
            serde_json::json!({"command": "bogus", "error": "Unknown command: bogus"})
        );
        let (status, listing) = get(admin, "GET", "/commands");
        assert_eq!(status, 200);
        assert!(listing.contains("<a href=\"/commands/monitor\">monitor</a>"));
        assert_eq!(get(admin, "GET", "/elsewhere").0, 404);
        assert_eq!(get(admin, "GET", "/commandsx").0, 404);
        assert_eq!(get(admin, "POST", "/commands/ruok").0, 405);
        let long = format!("/commands/{}", "x".repeat(2000));
        assert_eq!(get(admin, "GET", &long).0, 414);
        // srst through the AdminServer resets what the four-letter word does.
        assert_eq!(json(admin, "/commands/srst")["command"], "stat_reset");
        let srvr = json(admin, "/commands/server_stats");
        assert!(srvr["server_stats"]["packets_received"].as_u64().unwrap() <= 1);
    }

    /// A command still being computed holds up no client: while every command's work is
    /// held, a new session is made and served on the only event loop.
    #[test]
    fn a_pending_command_does_not_stall_the_loop() {
        let server = server();
        let admin = server.admin_addr().unwrap();
        let held = crate::server::fourlw::HOLD.lock();
        let asking = std::thread::spawn(move || json(admin, "/commands/dump"));
        // The session handshake and an ephemeral create are answered meanwhile.
        let _c = session_with_ephemeral(server.local_addr(), "/while-held");
        drop(held);
        let dump = asking.join().unwrap();
        assert_eq!(dump["command"], "dump");
    }

    #[test]
    fn a_custom_command_url_moves_the_commands() {
        let config = ServerConfig {
            client_addr: "127.0.0.1:0".parse().unwrap(),
            admin_addr: Some("127.0.0.1:0".parse().unwrap()),
            admin_command_url: "/zk".into(),
            event_loops: 1,
            ..ServerConfig::default()
        };
        let server = Server::start(config).unwrap();
        let admin = server.admin_addr().unwrap();
        assert_eq!(json(admin, "/zk/ruok")["error"], Value::Null);
        assert_eq!(get(admin, "GET", "/commands/ruok").0, 404);
    }
}
