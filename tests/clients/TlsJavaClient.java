import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

/**
 * The ZooKeeper Java client over TLS (the Netty socket; key and trust stores come from the
 * zookeeper.ssl.* system properties the caller sets), for scripts/test-tls.sh.
 *
 * Usage: TlsJavaClient MODE HOST:PORT [PATH]
 *   hold PATH   connect, create the ephemeral PATH, print whoAmI, hold the session over
 *               a few ping intervals, then halt without closing it (it must expire)
 *   x509 PATH   connect, create PATH with an ACL for this client's x509 identity only,
 *               read it back and print its ACL
 *   refused     expect the connection never to be established
 *
 * Prints one line per fact; exits non-zero on anything unexpected.
 */
public final class TlsJavaClient {
    private static ZooKeeper connect(String hosts, CountDownLatch connected)
            throws Exception {
        Watcher w = e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        return new ZooKeeper(hosts, 2000, w);
    }

    private static String identities(ZooKeeper zk) throws Exception {
        StringBuilder b = new StringBuilder();
        List<ClientInfo> who = zk.whoAmI();
        for (ClientInfo c : who) {
            b.append(' ').append(c.getAuthScheme()).append('=').append(c.getUser());
        }
        return b.toString().trim();
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String hosts = args[1];
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = connect(hosts, connected);
        boolean up = connected.await(mode.equals("refused") ? 6 : 20, TimeUnit.SECONDS);
        switch (mode) {
            case "refused":
                System.out.println(up ? "connected" : "refused");
                zk.close();
                System.exit(up ? 1 : 0);
                break;
            case "hold": {
                if (!up) {
                    System.out.println("not connected");
                    System.exit(1);
                }
                String path = args[2];
                zk.create(path, "java".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.EPHEMERAL);
                System.out.printf("created %s session 0x%x%n", path, zk.getSessionId());
                System.out.println("whoami " + identities(zk));
                long session = zk.getSessionId();
                // Several ping intervals (a third of the timeout each) over TLS.
                Thread.sleep(4000);
                boolean held = zk.getState() == ZooKeeper.States.CONNECTED
                        && zk.getSessionId() == session && zk.exists(path, false) != null;
                System.out.println(held ? "held" : "lost");
                System.out.flush();
                // Go away without closing: the session must expire on the server.
                Runtime.getRuntime().halt(held ? 0 : 1);
                break;
            }
            case "x509": {
                if (!up) {
                    System.out.println("not connected");
                    System.exit(1);
                }
                String path = args[2];
                String who = identities(zk);
                System.out.println("whoami " + who);
                String subject = null;
                for (ClientInfo c : zk.whoAmI()) {
                    if (c.getAuthScheme().equals("x509")) {
                        subject = c.getUser();
                    }
                }
                if (subject == null) {
                    System.out.println("no x509 identity");
                    System.exit(1);
                }
                List<ACL> acl = Collections.singletonList(
                        new ACL(ZooDefs.Perms.ALL, new Id("x509", subject)));
                zk.create(path, "mine".getBytes(), acl, CreateMode.PERSISTENT);
                String data = new String(zk.getData(path, false, null));
                System.out.println("read " + data);
                System.out.println("acl " + zk.getACL(path, null));
                zk.close();
                break;
            }
            default:
                System.out.println("unknown mode " + mode);
                System.exit(2);
        }
    }
}
