package io.bpfcharge.mount;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class MountinfoTest {
    @Test
    void deviceNumbersAreEncodedAsStatDoes() throws Exception {
        Mountinfo m = Mountinfo.parse("42 23 0:39 / /sys/fs/bpf rw,relatime - bpf bpf rw");
        assertEquals(39, m.dev());
        assertEquals(Mountinfo.dev(254, 0), Mountinfo.parse("27 1 254:0 / / rw - ext4 /dev/vda rw").dev());
        assertEquals((259L << 8) | 3, Mountinfo.dev(259, 3));
        assertEquals(0x1000_0010_0000L, Mountinfo.dev(0x1000, 0x100)); // majors over 12 bits and minors over 8 bits go high
        // The root file system of this machine, as stat(2) sees it, matches its mountinfo line.
        long root = (Long) Files.getAttribute(Path.of("/proc"), "unix:dev");
        assertEquals(root, Mountinfo.self().stream().filter(x -> x.mountPoint().equals(Path.of("/proc"))).toList().getLast().dev());
    }

    @Test
    void linesThatAreNotMountsAreNull() {
        assertNull(Mountinfo.parse("garbage"));
        assertNull(Mountinfo.parse("42 23 x / /a rw - bpf bpf rw"));
    }
}
