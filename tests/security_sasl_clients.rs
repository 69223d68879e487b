//! The SASL DIGEST-MD5 server of `zksession::security` against the client code real
//! ZooKeeper clients use: `puresasl` (kazoo's SASL library, driven as kazoo drives it)
//! and the JDK's DIGEST-MD5 `SaslClient` (what the ZooKeeper Java client uses), each
//! with a right and a wrong password. Tokens travel as base64 lines over the client
//! process's stdin/stdout; every child is waited for.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zksession::security::{DigestMd5Server, SaslError, SaslStep, SaslUsers};

const PURESASL_CLIENT: &str = r#"
import base64, sys
from puresasl.client import SASLClient
cli = SASLClient(host="zk-sasl-md5", service="zookeeper", mechanism="DIGEST-MD5",
                 username=sys.argv[1], password=sys.argv[2])
challenge = None
while not cli.complete:
    response = cli.process(challenge=challenge)
    if cli.complete and not response:
        break
    print(base64.b64encode(response or b"").decode(), flush=True)
    line = sys.stdin.readline().strip()
    if line == "FAIL":
        print("REFUSED", flush=True)
        sys.exit(0)
    challenge = base64.b64decode(line)
print("COMPLETE", flush=True)
"#;

const JAVA_CLIENT: &str = r#"
import java.io.*;
import java.util.Base64;
import javax.security.auth.callback.*;
import javax.security.sasl.*;
public class SaslDigestClient {
  public static void main(String[] a) throws Exception {
    CallbackHandler h = cbs -> {
      for (Callback cb : cbs) {
        if (cb instanceof NameCallback) ((NameCallback) cb).setName(a[0]);
        else if (cb instanceof PasswordCallback) ((PasswordCallback) cb).setPassword(a[1].toCharArray());
        else if (cb instanceof RealmCallback) ((RealmCallback) cb).setText(((RealmCallback) cb).getDefaultText());
      }
    };
    SaslClient c = Sasl.createSaslClient(new String[] {"DIGEST-MD5"}, null, "zookeeper", "zk-sasl-md5", null, h);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    byte[] token = c.hasInitialResponse() ? c.evaluateChallenge(new byte[0]) : new byte[0];
    while (true) {
      System.out.println(Base64.getEncoder().encodeToString(token));
      System.out.flush();
      String line = in.readLine().trim();
      if (line.equals("FAIL")) { System.out.println("REFUSED"); return; }
      token = c.evaluateChallenge(Base64.getDecoder().decode(line));
      if (c.isComplete()) { System.out.println("COMPLETE"); return; }
    }
  }
}
"#;

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Client {
    fn spawn(mut cmd: Command) -> Client {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("client process starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
        }
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.stdout.read_line(&mut s).unwrap();
        s.trim().to_owned()
    }

    fn send(&mut self, s: &str) {
        writeln!(self.stdin, "{s}").unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the exchange as ZooKeeper's server does: every client token gets the server's
/// answer until the server reports success or failure. Returns the outcome and the
/// client's last word.
fn exchange(mut client: Client) -> (Result<String, SaslError>, String) {
    let users = SaslUsers::from_pairs([("bob".to_owned(), "bobsecret".to_owned())]);
    let mut nonce = [0u8; zksession::security::NONCE_LEN];
    getrandom::getrandom(&mut nonce).unwrap();
    let mut server = DigestMd5Server::new(&users, None, nonce);
    loop {
        let token = STANDARD
            .decode(client.line())
            .expect("client token is base64");
        match server.step(&token) {
            Ok(SaslStep::Challenge(c)) => client.send(&STANDARD.encode(c)),
            Ok(SaslStep::Success { token, user }) => {
                client.send(&STANDARD.encode(token));
                return (Ok(user), client.line());
            }
            Err(e) => {
                client.send("FAIL");
                return (Err(e), client.line());
            }
        }
    }
}

fn puresasl(user: &str, password: &str) -> Client {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.args(["-c", PURESASL_CLIENT, user, password]);
    Client::spawn(cmd)
}

fn java(user: &str, password: &str) -> Client {
    // One directory per client, so tests running at once never share a source file.
    let dir = std::env::temp_dir().join(format!("zksession-sasl-{}-{user}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("SaslDigestClient.java");
    std::fs::write(&src, JAVA_CLIENT).unwrap();
    let mut cmd = Command::new("java");
    cmd.arg(&src).args([user, password]);
    Client::spawn(cmd)
}

#[test]
fn puresasl_client_authenticates_and_checks_rspauth() {
    let (outcome, last) = exchange(puresasl("bob", "bobsecret"));
    assert_eq!(outcome, Ok("bob".to_owned()));
    assert_eq!(last, "COMPLETE");
}

#[test]
fn puresasl_client_with_wrong_password_is_refused() {
    let (outcome, last) = exchange(puresasl("bob", "wrong"));
    assert_eq!(outcome, Err(SaslError::BadResponse));
    assert_eq!(last, "REFUSED");
}

#[test]
fn jdk_client_authenticates_and_checks_rspauth() {
    let (outcome, last) = exchange(java("bob", "bobsecret"));
    assert_eq!(outcome, Ok("bob".to_owned()));
    assert_eq!(last, "COMPLETE");
}

#[test]
fn jdk_client_with_unknown_user_is_refused() {
    let (outcome, last) = exchange(java("eve", "bobsecret"));
    assert_eq!(outcome, Err(SaslError::UnknownUser));
    assert_eq!(last, "REFUSED");
}
