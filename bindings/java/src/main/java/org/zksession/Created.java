package org.zksession;

/**
 * A newly created session.
 *
 * @param id the session id (ZooKeeper's layout: server id in the top byte)
 * @param timeoutMs the negotiated timeout in milliseconds
 * @param password the 16-byte password (ZooKeeper's algorithm, so ZooKeeper clients and
 *     servers accept it)
 * @param local whether it was created as a local session
 */
public record Created(long id, int timeoutMs, byte[] password, boolean local) {
}
