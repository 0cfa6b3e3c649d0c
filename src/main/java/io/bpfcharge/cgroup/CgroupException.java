package io.bpfcharge.cgroup;

/** A cgroup that is missing, unreadable, or refused a change; the message says which and why. */
public final class CgroupException extends RuntimeException {
    public CgroupException(String message) { super(message); }

    public CgroupException(String message, Throwable cause) { super(message, cause); }
}
