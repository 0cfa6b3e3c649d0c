package io.bpfcharge.doctor;

import io.bpfcharge.host.KernelRelease;
import io.bpfcharge.host.Processes;
import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Libbpf;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What bpfcharge needs from the host, checked the same way by `doctor` and before every command. */
public final class Checks {
    private static final int CAP_SYS_ADMIN = 21;

    private Checks() {}

    /** The checks every kernel-facing command needs, cheapest first. */
    public static List<Check> required() {
        return List.of(privileges(), kernel(), btf(), bpffs());
    }

    /** Fails with the first failed required check's fix and exit code. */
    public static void requireAll() {
        for (Check c : required())
            if (!c.ok()) throw new BpfchargeException(c.exit(), c.detail() + ": " + c.fix());
    }

    /** Every check, including those that load things (the iterator). */
    public static List<Check> all() {
        List<Check> checks = new ArrayList<>(required());
        checks.add(cgroups());
        checks.add(libbpf());
        if (checks.stream().allMatch(Check::ok)) checks.add(iterator());
        return checks;
    }

    static Check privileges() {
        String name = "privileges";
        return Processes.effectiveCapabilities().map(caps -> caps.testBit(CAP_SYS_ADMIN) ? Check.ok(name, "CAP_SYS_ADMIN present")
                        : Check.fail(name, "missing CAP_SYS_ADMIN (needed to open every map by id)",
                        "run as root, or grant CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON", Exit.PRIVILEGE))
                .orElseGet(() -> Check.fail(name, "cannot read /proc/self/status", "mount /proc", Exit.ENVIRONMENT));
    }

    static Check kernel() {
        String release = KernelRelease.running();
        boolean ok = KernelRelease.atLeast(5, 11);
        return ok ? Check.ok("kernel", release + " (memcg accounting of BPF maps)")
                : Check.fail("kernel", "kernel " + release + " does not charge BPF maps to memory cgroups",
                "use Linux 5.11 or newer", Exit.ENVIRONMENT);
    }

    static Check btf() {
        return Files.isReadable(Path.of("/sys/kernel/btf/vmlinux")) ? Check.ok("btf", "/sys/kernel/btf/vmlinux")
                : Check.fail("btf", "kernel has no BTF (/sys/kernel/btf/vmlinux missing)",
                "use a kernel built with CONFIG_DEBUG_INFO_BTF=y", Exit.ENVIRONMENT);
    }

    static Check bpffs() {
        List<Path> mounts = Pins.mounts();
        return !mounts.isEmpty() ? Check.ok("bpffs", String.join(", ", mounts.stream().map(Path::toString).toList()))
                : Check.fail("bpffs", "no bpffs mounted", "mount -t bpf bpf /sys/fs/bpf", Exit.ENVIRONMENT);
    }

    static Check cgroups() {
        try {
            MemoryHierarchy h = MemoryHierarchy.detect();
            return Check.ok("cgroups", h.mode() + ", memory controller on cgroup v" + h.version() + " at " + h.root());
        } catch (CgroupException e) {
            return Check.fail("cgroups", e.getMessage(), "enable the memory controller", Exit.ENVIRONMENT);
        }
    }

    static Check libbpf() {
        try {
            return Check.ok("libbpf", Libbpf.version());
        } catch (BpfException | ExceptionInInitializerError | NoClassDefFoundError e) {
            return Check.fail("libbpf", "libbpf.so.1 cannot be loaded", "apt-get install libbpf1", Exit.ENVIRONMENT);
        }
    }

    static Check iterator() {
        try (InventoryIterators it = InventoryIterators.open()) {
            return Check.ok("iterator", "bpf/inventory.bpf.c loads and sees " + it.maps().size() + " maps");
        } catch (BpfException e) {
            return Check.fail("iterator", "the inventory iterators do not load (" + e.getMessage() + ")",
                    "check dmesg and that the kernel has BTF and BPF iterators (5.8+)", Exit.ENVIRONMENT);
        }
    }

}
