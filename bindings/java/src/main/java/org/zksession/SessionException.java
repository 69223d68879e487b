package org.zksession;

/**
 * A session operation failed. {@link #code()} says why, with ZooKeeper's error numbers.
 *
 * <p>Thrown only on failure paths: the native calls return integer codes and this exception
 * is made on the Java side, so a successful call costs no exception machinery.
 */
public final class SessionException extends Exception {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;

    /** Why the operation failed. */
    private final Code code;
    /** The session concerned (0 if none). */
    private final long sessionId;

    /**
     * Makes an exception for {@code code} about session {@code sessionId}.
     *
     * @param code why the operation failed
     * @param sessionId the session concerned (0 if none)
     */
    public SessionException(Code code, long sessionId) {
        super(code + " (session 0x" + Long.toHexString(sessionId) + ")", null, false, false);
        this.code = code;
        this.sessionId = sessionId;
    }

    /** @return why the operation failed */
    public Code code() {
        return code;
    }

    /** @return the session concerned (0 if none) */
    public long sessionId() {
        return sessionId;
    }
}
