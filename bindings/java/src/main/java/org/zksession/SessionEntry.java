package org.zksession;

/**
 * One session as exported by {@link SessionEngine#snapshot()}.
 *
 * @param id the session id
 * @param timeoutMs its timeout in milliseconds
 * @param local whether it is a local session (known only to this server)
 */
public record SessionEntry(long id, int timeoutMs, boolean local) {
}
