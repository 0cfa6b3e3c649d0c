package io.bpfcharge.bpf;

/** A failed kernel or libbpf call: which operation, and the errno it ended with. */
public final class BpfException extends RuntimeException {
    private final String op;
    private final int errno;

    public BpfException(String op, int errno) {
        super(op + ": " + Errno.name(errno));
        this.op = op;
        this.errno = errno;
    }

    public String op() { return op; }

    public int errno() { return errno; }

    public String errnoName() { return Errno.name(errno); }

    /** The object is not there (ENOENT): freed, unpinned or never made; callers often expect that. */
    public boolean notFound() { return errno == Errno.ENOENT; }

    /** Privileges are missing (EPERM, EACCES): not root, or a capability or LSM says no. */
    public boolean permissionDenied() { return errno == Errno.EPERM || errno == Errno.EACCES; }

    /** The memory cgroup (or the kernel) had no room for the allocation (ENOMEM). */
    public boolean outOfMemory() { return errno == Errno.ENOMEM; }

    /**
     * The kernel has no such operation for this map (EINVAL, EOPNOTSUPP, and ENOTSUPP, which leaks out of the
     * kernel's batch calls): callers fall back to a simpler one.
     */
    public boolean unsupported() { return errno == Errno.EINVAL || errno == Errno.ENOTSUPP || errno == Errno.EOPNOTSUPP; }

    /** Something else is already there (EEXIST). */
    public boolean exists() { return errno == Errno.EEXIST; }

    /** libbpf 1.x returns -errno from its low-level calls. */
    static int check(String op, int ret) {
        if (ret < 0) throw new BpfException(op, -ret);
        return ret;
    }
}
