package org.zksession;

/**
 * Session counts and running totals of an engine.
 *
 * @param global global sessions not closing
 * @param local local sessions not closing
 * @param closing sessions marked closing (expired or being closed) and not yet removed
 * @param creates sessions created since the engine started
 * @param touches successful touches since the engine started
 * @param expirations expiry decisions since the engine started
 */
public record Stats(long global, long local, long closing, long creates, long touches, long expirations) {
    /** @return every session the engine tracks, closing ones included */
    public long total() {
        return global + local + closing;
    }
}
