use std::io::{Read, Write};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use super::*;
use crate::security::tls_conn::{TlsConn, TlsError};

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    /// Server key and chain in one PEM file, as ZooKeeper's PEM key store holds them.
    server_store: String,
    client_chain: Vec<CertificateDer<'static>>,
    client_key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "test ca");
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params.distinguished_name = rcgen::DistinguishedName::new();
    client_params
        .distinguished_name
        .push(DnType::CountryName, "US");
    client_params
        .distinguished_name
        .push(DnType::OrganizationName, "zk, inc");
    client_params
        .distinguished_name
        .push(DnType::CommonName, "client");
    let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();

    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server_store: format!("{}{}", server_key.serialize_pem(), server.pem()),
        client_chain: vec![client.der().clone()],
        client_key: PrivateKeyDer::try_from(client_key.serialize_der()).unwrap(),
    }
}

fn settings(props: &[(&str, &str)]) -> Result<TlsSettings, TlsConfigError> {
    let props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TlsSettings::from_properties(|k| props.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
}

fn server(pki: &Pki, props: &[(&str, &str)]) -> TlsConn {
    let s = settings(props).unwrap();
    let cfg = s
        .server_config_from_pem(pki.server_store.as_bytes(), Some(pki.ca_pem.as_bytes()))
        .unwrap();
    TlsConn::new(cfg).unwrap()
}

fn client(pki: &Pki, with_cert: bool, tls13: bool) -> ClientConnection {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let versions: &[&rustls::SupportedProtocolVersion] = if tls13 {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS12]
    };
    let b = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let cfg = if with_cert {
        b.with_client_auth_cert(pki.client_chain.clone(), pki.client_key.clone_key())
            .unwrap()
    } else {
        b.with_no_client_auth()
    };
    ClientConnection::new(Arc::new(cfg), ServerName::try_from("localhost").unwrap()).unwrap()
}

/// Moves bytes both ways until neither side has anything to send; returns the server's
/// plaintext or its first error.
fn pump(c: &mut ClientConnection, s: &mut TlsConn) -> Result<Vec<u8>, TlsError> {
    let mut plain = Vec::new();
    for _ in 0..20 {
        let mut wire = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut wire).unwrap();
        }
        s.receive(&wire, &mut plain)?;
        let mut back = Vec::new();
        s.take_outgoing(&mut back);
        if !back.is_empty() {
            let mut rd = &back[..];
            while !rd.is_empty() {
                c.read_tls(&mut rd).unwrap();
            }
            if c.process_new_packets().is_err() {
                break;
            }
        }
        if wire.is_empty() && back.is_empty() {
            break;
        }
    }
    Ok(plain)
}

#[test]
fn default_settings_are_zookeepers() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.client_auth, ClientAuth::Need);
    assert!(s.tls12 && !s.tls13);
    assert_eq!(s.cipher_suites, None);
}

#[test]
fn need_with_certificate_gives_the_x509_identity() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "need")]);
    let mut c = client(&pki, true, false);
    pump(&mut c, &mut s).unwrap();
    assert!(!s.is_handshaking());
    assert_eq!(
        s.peer_subject(),
        Some(Ok("CN=client,O=zk\\, inc,C=US".to_owned()))
    );
    let (version, _) = s.negotiated().unwrap();
    assert_eq!(version, rustls::ProtocolVersion::TLSv1_2);
}

#[test]
fn need_without_certificate_is_refused() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "need")]);
    let mut c = client(&pki, false, false);
    assert!(matches!(pump(&mut c, &mut s), Err(TlsError::Protocol(_))));
    let mut alert = Vec::new();
    s.take_outgoing(&mut alert);
    assert!(matches!(
        s.receive(b"x", &mut Vec::new()),
        Err(TlsError::Closed)
    ));
}

#[test]
fn want_lets_anonymous_clients_in_without_identity() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "WANT")]);
    let mut c = client(&pki, false, false);
    pump(&mut c, &mut s).unwrap();
    assert!(!s.is_handshaking());
    assert_eq!(s.peer_subject(), None);
}

#[test]
fn none_asks_for_no_certificate() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "none")]);
    let mut c = client(&pki, true, false);
    pump(&mut c, &mut s).unwrap();
    assert!(!s.is_handshaking());
    assert_eq!(s.peer_subject(), None);
}

#[test]
fn application_data_flows_both_ways() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "none")]);
    let mut c = client(&pki, false, false);
    pump(&mut c, &mut s).unwrap();
    let frame = [0u8, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe];
    c.writer().write_all(&frame).unwrap();
    assert_eq!(pump(&mut c, &mut s).unwrap(), frame);
    s.send(b"pong").unwrap();
    let mut back = Vec::new();
    s.take_outgoing(&mut back);
    let mut rd = &back[..];
    c.read_tls(&mut rd).unwrap();
    c.process_new_packets().unwrap();
    let mut got = [0u8; 4];
    c.reader().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
}

#[test]
fn records_split_byte_by_byte_still_handshake() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "need")]);
    let mut c = client(&pki, true, true);
    let mut plain = Vec::new();
    for _ in 0..10 {
        let mut wire = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut wire).unwrap();
        }
        for b in &wire {
            s.receive(std::slice::from_ref(b), &mut plain).unwrap();
        }
        let mut back = Vec::new();
        s.take_outgoing(&mut back);
        let mut rd = &back[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets().unwrap();
        if wire.is_empty() && back.is_empty() {
            break;
        }
    }
    assert!(!s.is_handshaking());
    assert!(s.peer_subject().is_some());
}

#[test]
fn truncated_client_hello_waits_for_more() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "none")]);
    let mut c = client(&pki, false, false);
    let mut hello = Vec::new();
    c.write_tls(&mut hello).unwrap();
    let half = hello.len() / 2;
    s.receive(&hello[..half], &mut Vec::new()).unwrap();
    assert!(!s.wants_write());
    s.receive(&hello[half..], &mut Vec::new()).unwrap();
    assert!(
        s.wants_write(),
        "no ServerHello after the whole ClientHello"
    );
}

#[test]
fn garbage_before_client_hello_fails_this_connection() {
    let pki = pki();
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"ruok",
        &[0, 0, 0, 44, 0, 0, 0, 0][..],
        &[0x16, 0x03, 0x01, 0xff, 0xff][..],
        &[0x17, 0x03, 0x03, 0x00, 0x01, 0x00][..],
    ] {
        let mut s = server(&pki, &[("ssl.clientAuth", "none")]);
        let mut c = client(&pki, false, false);
        let mut hello = Vec::new();
        c.write_tls(&mut hello).unwrap();
        let mut bytes = junk.to_vec();
        bytes.extend_from_slice(&hello);
        let r = s.receive(&bytes, &mut Vec::new());
        assert!(matches!(r, Err(TlsError::Protocol(_))), "{junk:?}: {r:?}");
        assert!(s.receive(&hello, &mut Vec::new()).is_err());
    }
}

#[test]
fn garbage_after_handshake_fails_the_connection() {
    let pki = pki();
    let mut s = server(&pki, &[("ssl.clientAuth", "none")]);
    let mut c = client(&pki, false, false);
    pump(&mut c, &mut s).unwrap();
    let r = s.receive(&[0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4], &mut Vec::new());
    assert!(r.is_ok(), "an incomplete record only waits");
    let r = s.receive(&[0u8; 40], &mut Vec::new());
    assert!(matches!(r, Err(TlsError::Protocol(_))));
}

#[test]
fn tls13_when_enabled() {
    let pki = pki();
    let mut s = server(
        &pki,
        &[
            ("ssl.clientAuth", "none"),
            ("ssl.enabledProtocols", "TLSv1.3, TLSv1.2"),
        ],
    );
    let mut c = client(&pki, false, true);
    pump(&mut c, &mut s).unwrap();
    assert_eq!(s.negotiated().unwrap().0, rustls::ProtocolVersion::TLSv1_3);
}

#[test]
fn cipher_suite_list_restricts_the_handshake() {
    let pki = pki();
    let mut s = server(
        &pki,
        &[
            ("ssl.clientAuth", "none"),
            (
                "ssl.ciphersuites",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
        ],
    );
    let mut c = client(&pki, false, false);
    pump(&mut c, &mut s).unwrap();
    assert_eq!(
        s.negotiated().unwrap().1,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    );
}

#[test]
fn bad_settings_are_typed_errors() {
    assert!(matches!(
        settings(&[("ssl.clientAuth", "maybe")]),
        Err(TlsConfigError::BadClientAuth(_))
    ));
    assert!(matches!(
        settings(&[("ssl.protocol", "TLSv1.1")]),
        Err(TlsConfigError::UnsupportedProtocol(p)) if p == "TLSv1.1"
    ));
    assert!(matches!(
        settings(&[("ssl.enabledProtocols", "SSLv3,TLSv1.2")]),
        Err(TlsConfigError::UnsupportedProtocol(_))
    ));
    assert!(matches!(
        settings(&[("ssl.keyStore.location", "server.jks")]),
        Err(TlsConfigError::UnsupportedStoreType { .. })
    ));
    assert!(matches!(
        settings(&[
            ("ssl.keyStore.location", "server.p12"),
            ("ssl.keyStore.type", "PKCS12")
        ]),
        Err(TlsConfigError::UnsupportedStoreType { .. })
    ));
    assert!(settings(&[
        ("ssl.keyStore.location", "server.key"),
        ("ssl.keyStore.type", "pem")
    ])
    .is_ok());
}

#[test]
fn bad_stores_are_typed_errors() {
    let pki = pki();
    let none = settings(&[("ssl.clientAuth", "none")]).unwrap();
    let need = settings(&[]).unwrap();
    let key_only = pki
        .server_store
        .split("-----BEGIN CERTIFICATE")
        .next()
        .unwrap();
    let cert_only = &pki.server_store[key_only.len()..];
    let err = |r: Result<Arc<rustls::ServerConfig>, TlsConfigError>| r.unwrap_err();
    assert!(matches!(
        err(none.server_config_from_pem(key_only.as_bytes(), None)),
        TlsConfigError::NoCertificate
    ));
    assert!(matches!(
        err(none.server_config_from_pem(cert_only.as_bytes(), None)),
        TlsConfigError::NoPrivateKey
    ));
    assert!(matches!(
        err(none.server_config_from_pem(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", None)),
        TlsConfigError::EncryptedKey | TlsConfigError::BadPem { .. }
    ));
    let broken = pki
        .server_store
        .replacen("-----END CERTIFICATE-----", "", 1);
    assert!(matches!(
        err(none.server_config_from_pem(broken.as_bytes(), None)),
        TlsConfigError::BadPem { .. }
    ));
    let bad_b64 = pki.server_store.replacen(
        "-----BEGIN CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!!!",
        1,
    );
    assert!(matches!(
        err(none.server_config_from_pem(bad_b64.as_bytes(), None)),
        TlsConfigError::BadPem { .. }
    ));
    assert!(matches!(
        err(need.server_config_from_pem(pki.server_store.as_bytes(), None)),
        TlsConfigError::MissingTrustStore
    ));
    assert!(matches!(
        err(need.server_config_from_pem(pki.server_store.as_bytes(), Some(b"no pem here"))),
        TlsConfigError::NoTrustAnchors
    ));
    let only_cbc = settings(&[
        ("ssl.clientAuth", "none"),
        ("ssl.ciphersuites", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ])
    .unwrap();
    assert!(matches!(
        err(only_cbc.server_config_from_pem(pki.server_store.as_bytes(), None)),
        TlsConfigError::NoUsableCipherSuite
    ));
    let tls13_only_12_suites = settings(&[
        ("ssl.clientAuth", "none"),
        ("ssl.protocol", "TLSv1.3"),
        ("ssl.ciphersuites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ])
    .unwrap();
    assert!(matches!(
        err(tls13_only_12_suites.server_config_from_pem(pki.server_store.as_bytes(), None)),
        TlsConfigError::NoUsableCipherSuite
    ));
}

#[test]
fn missing_files_are_typed_errors() {
    let s = settings(&[("ssl.clientAuth", "none")]).unwrap();
    assert!(matches!(
        s.server_config(),
        Err(TlsConfigError::MissingKeyStore)
    ));
    let s = settings(&[
        ("ssl.clientAuth", "none"),
        ("ssl.keyStore.location", "/nonexistent/zk.pem"),
    ])
    .unwrap();
    assert!(matches!(
        s.server_config(),
        Err(TlsConfigError::Read { setting: "ssl.keyStore.location", source, .. }) if source.kind() == std::io::ErrorKind::NotFound
    ));
}

#[test]
fn stores_are_read_from_files() {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("zksession-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("server.pem");
    let trust = dir.join("ca.pem");
    std::fs::write(&key, &pki.server_store).unwrap();
    std::fs::write(&trust, &pki.ca_pem).unwrap();
    let s = settings(&[
        ("ssl.keyStore.location", key.to_str().unwrap()),
        ("ssl.trustStore.location", trust.to_str().unwrap()),
    ])
    .unwrap();
    let cfg = s.server_config();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut conn = TlsConn::new(cfg.unwrap()).unwrap();
    let mut c = client(&pki, true, false);
    pump(&mut c, &mut conn).unwrap();
    assert!(conn.peer_subject().is_some());
}

// Expected string printed by the JDK (`X509Certificate.getSubjectX500Principal().getName()`)
// for a certificate with this subject made by openssl.
#[test]
fn subject_is_formatted_as_java_prints_it() {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let dn = &mut params.distinguished_name;
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "zk, inc");
    dn.push(DnType::CommonName, "client");
    dn.push(
        DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
        rcgen::DnValue::Ia5String(rcgen::Ia5String::try_from("a@b.c").unwrap()),
    );
    dn.push(DnType::OrganizationalUnitName, " lead#x");
    let cert = params.self_signed(&key).unwrap();
    assert_eq!(
        crate::security::subject_name(cert.der()).unwrap(),
        "OU=\\ lead\\#x,1.2.840.113549.1.9.1=#16056140622e63,CN=client,O=zk\\, inc,C=US"
    );
}
