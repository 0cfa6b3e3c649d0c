package io.bpfcharge.testing;

/** The running kernel's version, for checks whose expected values changed between kernels. */
public final class KernelRelease {
    private KernelRelease() {}

    public static String release() {
        String r = io.bpfcharge.host.KernelRelease.running();
        if (r.isEmpty()) throw new IllegalStateException("cannot read /proc/sys/kernel/osrelease");
        return r;
    }

    /** Whether the running kernel is at least major.minor (e.g. 6.4: fdinfo memlock is exact). */
    public static boolean atLeast(int major, int minor) {
        release(); // fails loudly where the product's answer would quietly be false
        return io.bpfcharge.host.KernelRelease.atLeast(major, minor);
    }
}
