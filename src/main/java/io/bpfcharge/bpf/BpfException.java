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

    /** libbpf 1.x returns -errno from its low-level calls. */
    static int check(String op, int ret) {
        if (ret < 0) throw new BpfException(op, -ret);
        return ret;
    }
}
