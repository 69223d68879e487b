package org.zksession;

/**
 * Result codes of the native calls. Each failure code is ZooKeeper's
 * {@code KeeperException.Code} number for the same condition.
 */
public enum Code {
    /** Success (0). */
    OK(0),
    /** A panic or JNI failure inside the native call ({@code SYSTEMERROR}, -1). */
    SYSTEM_ERROR(-1),
    /** The engine has no expiry queue to poll ({@code UNIMPLEMENTED}, -6). */
    UNIMPLEMENTED(-6),
    /** An argument is out of range ({@code BADARGUMENTS}, -8). */
    BAD_ARGUMENTS(-8),
    /** The engine does not track the session ({@code UNKNOWNSESSION}, -12). */
    UNKNOWN_SESSION(-12),
    /** The session is closing: expired or closed ({@code SESSIONEXPIRED}, -112). */
    SESSION_EXPIRED(-112),
    /** Another owner holds the session ({@code SESSIONMOVED}, -118). */
    SESSION_MOVED(-118),
    /** Ephemerals need a global session and upgrading is off ({@code EPHEMERALONLOCALSESSION}, -120). */
    EPHEMERAL_ON_LOCAL_SESSION(-120);

    private final int value;

    Code(int value) {
        this.value = value;
    }

    /** @return ZooKeeper's number for this code */
    public int intValue() {
        return value;
    }

    /**
     * The code for a native result.
     *
     * @param value a value returned by a native call (0 or negative)
     * @return the matching code; {@link #SYSTEM_ERROR} for a number this class does not know
     */
    public static Code of(int value) {
        switch (value) {
            case 0: return OK;
            case -6: return UNIMPLEMENTED;
            case -8: return BAD_ARGUMENTS;
            case -12: return UNKNOWN_SESSION;
            case -112: return SESSION_EXPIRED;
            case -118: return SESSION_MOVED;
            case -120: return EPHEMERAL_ON_LOCAL_SESSION;
            default: return SYSTEM_ERROR;
        }
    }
}
