package org.zksession.zookeeper;

import java.util.IdentityHashMap;

/**
 * Gives each owner object (ZooKeeper passes {@code ServerCnxn.me} or a
 * {@code LearnerHandler}) a small number, by identity, so the engine can store and compare
 * owners natively. {@code null} is 0; other owners count up from 1.
 *
 * <p>Owners are few and long-lived, so tokens are never recycled. The last owner seen is
 * cached: in a standalone server every request carries the same owner, so the hot path is
 * one volatile read and one reference comparison.
 */
final class OwnerTokens {
    /** The token of the null owner ("no owner"). */
    static final long NULL = 0;

    private record Entry(Object owner, long token) {
    }

    private final IdentityHashMap<Object, Long> tokens = new IdentityHashMap<>();
    private volatile Entry last;
    private long next = 1;

    /**
     * @param owner an owner object, compared by identity
     * @return its token (0 for null)
     */
    long tokenOf(Object owner) {
        if (owner == null) {
            return NULL;
        }
        Entry e = last;
        if (e != null && e.owner == owner) {
            return e.token;
        }
        synchronized (this) {
            Long t = tokens.get(owner);
            if (t == null) {
                t = next++;
                tokens.put(owner, t);
            }
            last = new Entry(owner, t);
            return t;
        }
    }

    /** @return how many distinct owners have been seen */
    synchronized int size() {
        return tokens.size();
    }
}
