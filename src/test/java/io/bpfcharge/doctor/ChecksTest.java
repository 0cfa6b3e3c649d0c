package io.bpfcharge.doctor;

import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChecksTest {
    /** The mounts as a reader writes them ("/sys/fs/bpf"), not as Java prints a list ("[/sys/fs/bpf]"). */
    @Test
    @KernelTest // the host's bpffs at /sys/fs/bpf, as setup mounts it
    void bpffsListsItsMountsAsPaths() {
        Check c = Checks.bpffs();
        assertTrue(c.ok(), c.detail());
        assertTrue(c.detail().startsWith("/sys/fs/bpf"), c.detail());
        assertFalse(c.detail().contains("["), c.detail());
    }
}
