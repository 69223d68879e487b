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
 * @param remote remote entries not closing (global sessions tracked here, decided elsewhere)
 * @param touchTable touches recorded for {@link SessionEngine#drainTouched} and not yet drained
 * @param closingLocal closing sessions that were local
 * @param closingGlobal closing sessions that were global (remote entries included);
 *     {@code closing == closingLocal + closingGlobal}
 */
public record Stats(long global, long local, long closing, long creates, long touches, long expirations,
        long remote, long touchTable, long closingLocal, long closingGlobal) {
    /** @return every session the engine tracks: live, remote and closing */
    public long total() {
        return global + local + remote + closing;
    }
}
