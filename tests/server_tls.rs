//! zksessiond's secure client port with rustls as the client, in-process on loopback:
//! sessions over TLS, the x509 identity reaching whoAmI and the ACL checks, client
//! authentication none / want / need, large replies through rustls's bounded buffers,
//! pipelined requests, four-letter words, a TLS-only server, and failures (a missing certificate, garbage,
//! the wrong transport on either port) closing only their own connection.

mod server_support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use server_support::{Client, Msg, TestServer, WAIT};
use zksession::security::{ClientAuth, TlsSettings};
use zksession::server::ServerConfig;
use zksession::wire::{
    perms, write_frame, write_request, Acl, AuthPacket, ClientInfo, ConnectRequest,
    ConnectResponse, CreateMode, ErrorCode, FrameDecoder, Id, PathWatchRequest, Reader, Record,
    ReplyHeader, Request, Response, SetDataRequest,
};

/// A CA, the server's PEM key store and two client certificates, in a temporary directory.
struct Pki {
    dir: std::path::PathBuf,
    ca: CertificateDer<'static>,
    client: (Vec<CertificateDer<'static>>, Vec<u8>),
    other: (Vec<CertificateDer<'static>>, Vec<u8>),
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The x509 identity ZooKeeper gives [`Pki::client`]'s certificate.
const CLIENT_SUBJECT: &str = "CN=client,O=zk\\, inc,C=US";

fn pki(name: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "ca");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    let client_cert = |dn: &[(DnType, &str)]| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in dn {
            p.distinguished_name.push(t.clone(), *v);
        }
        let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
        (vec![cert.der().clone()], key.serialize_der())
    };
    let dir = std::env::temp_dir().join(format!("zks-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("server.pem"),
        format!("{}{}", server_key.serialize_pem(), server.pem()),
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    Pki {
        dir,
        ca: ca.der().clone(),
        client: client_cert(&[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "zk, inc"),
            (DnType::CommonName, "client"),
        ]),
        other: client_cert(&[(DnType::CommonName, "other")]),
    }
}

/// A server with a secure port next to the plain one (`plain`: whether that one is served).
fn tls_server(pki: &Pki, auth: &str, plain: bool) -> (TestServer, SocketAddr) {
    let store = pki.dir.join("server.pem").display().to_string();
    let trust = pki.dir.join("ca.pem").display().to_string();
    let auth = auth.to_owned();
    let server = TestServer::start(move |c: &mut ServerConfig| {
        c.secure_client_addr = Some("127.0.0.1:0".parse().unwrap());
        c.plain_port = plain;
        c.acl_policy.x509 = true;
        let props = [
            ("ssl.keyStore.location", store),
            ("ssl.trustStore.location", trust),
            ("ssl.clientAuth", auth),
            ("ssl.enabledProtocols", "TLSv1.2,TLSv1.3".to_owned()),
        ];
        c.tls = Some(
            TlsSettings::from_properties(|k| {
                props.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
            })
            .unwrap(),
        );
    });
    let secure = server.secure_addr.expect("a secure port");
    (server, secure)
}

fn client_config(
    pki: &Pki,
    cert: Option<&(Vec<CertificateDer<'static>>, Vec<u8>)>,
) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let b = ClientConfig::builder().with_root_certificates(roots);
    match cert {
        None => b.with_no_client_auth(),
        Some((chain, key)) => b
            .with_client_auth_cert(chain.clone(), PrivateKeyDer::try_from(key.clone()).unwrap())
            .unwrap(),
    }
}

/// A blocking ZooKeeper client over rustls.
struct TlsClient {
    s: StreamOwned<ClientConnection, TcpStream>,
    frames: FrameDecoder,
    xid: i32,
}

impl TlsClient {
    fn connect(addr: SocketAddr, config: ClientConfig) -> TlsClient {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::new(config), name).unwrap();
        TlsClient {
            s: StreamOwned::new(conn, tcp),
            frames: FrameDecoder::new(16 << 20),
            xid: 1,
        }
    }

    /// Connects and opens a session; `Err` when the TLS connection fails.
    fn session(addr: SocketAddr, config: ClientConfig) -> std::io::Result<(TlsClient, i64)> {
        let mut c = TlsClient::connect(addr, config);
        let mut out = Vec::new();
        write_frame(&mut out, |w| w.record(&ConnectRequest::new_session(4000)));
        c.s.write_all(&out)?;
        let frame = c.frame()?.ok_or(ErrorKind::UnexpectedEof)?;
        let resp = ConnectResponse::from_bytes(&frame).expect("connect response decodes");
        Ok((c, resp.session_id))
    }

    fn frame(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = [0u8; 16384];
        loop {
            if let Some(f) = self.frames.next_frame().expect("valid framing") {
                return Ok(Some(f.to_vec()));
            }
            match self.s.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => self.frames.push(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    }

    fn send(&mut self, req: &Request) -> i32 {
        let xid = self.xid;
        self.xid += 1;
        let mut out = Vec::new();
        write_request(&mut out, xid, req);
        self.s.write_all(&out).unwrap();
        xid
    }

    fn reply(&mut self, xid: i32, req: &Request) -> (i32, Option<Response>) {
        let f = self.frame().unwrap().expect("a reply before close");
        let mut r = Reader::new(&f);
        let h = ReplyHeader::read(&mut r).unwrap();
        assert_eq!(h.xid, xid, "replies in order");
        if h.err != 0 {
            return (h.err, None);
        }
        (0, Some(Response::read(req.op(), &mut r).unwrap()))
    }

    fn call(&mut self, req: &Request) -> (i32, Option<Response>) {
        let xid = self.send(req);
        self.reply(xid, req)
    }

    /// Sends an auth packet; returns the error code of its reply (xid −4).
    fn call_auth(&mut self, req: &Request) -> i32 {
        let mut out = Vec::new();
        write_request(&mut out, zksession::wire::xid::AUTH, req);
        self.s.write_all(&out).unwrap();
        let f = self.frame().unwrap().expect("an auth reply");
        let h = ReplyHeader::read(&mut Reader::new(&f)).unwrap();
        assert_eq!(h.xid, zksession::wire::xid::AUTH);
        h.err
    }

    fn who_am_i(&mut self) -> Vec<ClientInfo> {
        match self.call(&Request::WhoAmI) {
            (0, Some(Response::WhoAmI(v))) => v,
            other => panic!("whoAmI: {other:?}"),
        }
    }
}

fn x509_of(who: &[ClientInfo]) -> Option<&str> {
    who.iter()
        .find(|c| c.auth_scheme == "x509")
        .map(|c| c.user.as_str())
}

fn get(path: &str) -> Request {
    Request::GetData(PathWatchRequest {
        path: path.into(),
        watch: false,
    })
}

#[test]
fn tls_session_pings_and_gets_its_x509_identity() {
    let pki = pki("need");
    let (server, secure) = tls_server(&pki, "need", true);
    let (mut c, session) =
        TlsClient::session(secure, client_config(&pki, Some(&pki.client))).expect("TLS session");
    assert_ne!(session, 0);
    for _ in 0..3 {
        assert_eq!(c.call(&Request::Ping).0, 0);
    }
    assert_eq!(x509_of(&c.who_am_i()), Some(CLIENT_SUBJECT));
    // An x509 ACL admits this certificate, and neither another one nor a plain client.
    let acl = vec![Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "x509".into(),
            id: CLIENT_SUBJECT.into(),
        },
    }];
    let create = Request::create("/mine", b"secret".to_vec(), acl, CreateMode::Persistent);
    assert_eq!(c.call(&create).0, 0);
    assert!(matches!(
        c.call(&get("/mine")),
        (0, Some(Response::GetData { .. }))
    ));
    let (mut other, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.other))).unwrap();
    assert_eq!(x509_of(&other.who_am_i()), Some("CN=other"));
    let no_auth = zksession::wire::ErrorCode::NoAuth.code();
    assert_eq!(other.call(&get("/mine")).0, no_auth);
    let (mut plain, _) = Client::session(server.addr, 4000);
    assert_eq!(plain.call(&get("/mine")).0, no_auth);
    // `addauth x509` proves the certificate again on TLS, and fails (closing) on plain.
    let x509 = Request::Auth(AuthPacket {
        auth_type: 0,
        scheme: "x509".into(),
        auth: Vec::new(),
    });
    assert_eq!(c.call_auth(&x509), 0);
    assert_eq!(c.call(&Request::Ping).0, 0);
    plain.send(&x509);
    match plain.msg() {
        Some(Msg::Reply(h, _)) => assert_eq!(h.err, ErrorCode::AuthFailed.code()),
        other => panic!("addauth x509 on a plain connection: {other:?}"),
    }
    assert!(plain.is_closed());
}

#[test]
fn need_refuses_a_client_without_certificate_and_others_carry_on() {
    let pki = pki("refuse");
    let (_server, secure) = tls_server(&pki, "need", true);
    let (mut live, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    assert!(TlsClient::session(secure, client_config(&pki, None)).is_err());
    assert_eq!(live.call(&Request::Ping).0, 0);
}

#[test]
fn want_admits_a_client_without_certificate_with_no_x509_identity() {
    let pki = pki("want");
    let (_server, secure) = tls_server(&pki, "want", true);
    let (mut anon, _) = TlsClient::session(secure, client_config(&pki, None)).unwrap();
    assert_eq!(x509_of(&anon.who_am_i()), None);
    let (mut known, _) =
        TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    assert_eq!(x509_of(&known.who_am_i()), Some(CLIENT_SUBJECT));
}

#[test]
fn none_asks_for_no_certificate() {
    let pki = pki("none");
    let (_server, secure) = tls_server(&pki, "none", true);
    let (mut c, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    assert_eq!(x509_of(&c.who_am_i()), None);
}

#[test]
fn large_replies_and_pipelined_requests_cross_tls_intact() {
    let pki = pki("large");
    let (_server, secure) = tls_server(&pki, "need", true);
    let (mut c, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    let data: Vec<u8> = (0..900_000u32).map(|i| (i % 251) as u8).collect();
    let create = Request::create(
        "/big",
        Vec::new(),
        vec![Acl::world_anyone()],
        CreateMode::Persistent,
    );
    assert_eq!(c.call(&create).0, 0);
    let set = Request::SetData(SetDataRequest {
        path: "/big".into(),
        data: Some(data.clone()),
        version: -1,
    });
    assert_eq!(c.call(&set).0, 0);
    // Many large replies queued at once: more than rustls's outgoing buffer holds.
    let req = get("/big");
    let xids: Vec<i32> = (0..8).map(|_| c.send(&req)).collect();
    for xid in xids {
        match c.reply(xid, &req) {
            (0, Some(Response::GetData { data: Some(d), .. })) => assert!(d == data),
            other => panic!("getData: {:?}", other.0),
        }
    }
    let xids: Vec<i32> = (0..2000).map(|_| c.send(&Request::Ping)).collect();
    for xid in xids {
        assert_eq!(c.reply(xid, &Request::Ping).0, 0);
    }
}

#[test]
fn four_letter_words_are_answered_over_tls_and_closed_with_close_notify() {
    let pki = pki("ruok");
    let (_server, secure) = tls_server(&pki, "need", true);
    let mut c = TlsClient::connect(secure, client_config(&pki, Some(&pki.client)));
    c.s.write_all(b"ruok").unwrap();
    let mut answer = String::new();
    // read_to_string fails on a close without close_notify (rustls: UnexpectedEof).
    c.s.read_to_string(&mut answer).expect("a clean TLS close");
    assert_eq!(answer, "imok");
}

#[test]
fn a_tls_only_server_serves_no_plain_port() {
    let pki = pki("only");
    let (server, secure) = tls_server(&pki, "need", false);
    assert_eq!(server.addr, secure);
    let (mut c, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    assert_eq!(c.call(&Request::Ping).0, 0);
}

#[test]
fn garbage_and_the_wrong_transport_close_only_their_connection() {
    let pki = pki("garbage");
    let (server, secure) = tls_server(&pki, "need", true);
    let (mut live, _) = TlsClient::session(secure, client_config(&pki, Some(&pki.client))).unwrap();
    // Garbage instead of a ClientHello.
    let mut raw = Client::raw(secure);
    raw.send_raw(b"\x16\x03\x01\x00\x10 this is not TLS at all, not at all");
    assert!(drained(&mut raw.stream));
    // A plaintext ZooKeeper handshake on the secure port.
    let mut plain = Client::raw(secure);
    let mut out = Vec::new();
    write_frame(&mut out, |w| w.record(&ConnectRequest::new_session(4000)));
    plain.send_raw(&out);
    assert!(drained(&mut plain.stream));
    // Garbage in the middle of a handshake: a real ClientHello, then noise.
    let mut conn = ClientConnection::new(
        Arc::new(client_config(&pki, Some(&pki.client))),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    let mut mid = TcpStream::connect(secure).unwrap();
    mid.set_read_timeout(Some(WAIT)).unwrap();
    mid.write_all(&hello).unwrap();
    let mut first = [0u8; 1024];
    assert!(
        mid.read(&mut first).unwrap() > 0,
        "the server answers the hello"
    );
    mid.write_all(&[0x17, 0x03, 0x03, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8])
        .unwrap();
    assert!(drained(&mut mid));
    // A TLS client on the plain port.
    assert!(TlsClient::session(server.addr, client_config(&pki, Some(&pki.client))).is_err());
    // The live session never noticed.
    assert_eq!(live.call(&Request::Ping).0, 0);
    assert_eq!(x509_of(&live.who_am_i()), Some(CLIENT_SUBJECT));
}

#[test]
fn a_stalled_tls_handshake_is_closed_like_a_missing_connect_request() {
    let pki = pki("stall");
    let (_server, secure) = tls_server(&pki, "need", true);
    let mut conn = ClientConnection::new(
        Arc::new(client_config(&pki, Some(&pki.client))),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    let mut s = TcpStream::connect(secure).unwrap();
    // Half a ClientHello, then nothing: the sessionless deadline (10 s) closes it.
    s.write_all(&hello[..hello.len() / 2]).unwrap();
    let started = std::time::Instant::now();
    assert!(drained(&mut s));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(5),
        "closed too early"
    );
}

/// Reads until the server closes the connection; false if it stays open past [`WAIT`].
fn drained(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn a_missing_key_store_is_a_typed_start_error() {
    let mut c = ServerConfig {
        client_addr: "127.0.0.1:0".parse().unwrap(),
        secure_client_addr: Some("127.0.0.1:0".parse().unwrap()),
        ..ServerConfig::default()
    };
    c.tls = Some(TlsSettings {
        key_store: Some("/nonexistent/server.pem".into()),
        trust_store: None,
        client_auth: ClientAuth::None,
        tls12: true,
        tls13: false,
        cipher_suites: None,
    });
    match zksession::server::Server::start(c) {
        Err(zksession::server::StartError::Tls(e)) => {
            assert!(e.to_string().contains("ssl.keyStore.location"), "{e}")
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("started without its key store"),
    }
}
