package io.bpfcharge.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The root filesystem of the runtime tests' containers (crun, containerd): static busybox ({@code sh},
 * {@code sleep}) and {@code pinwriter} (src/test/c, a static program that loads a BPF program writing through
 * a pinned map-of-maps).
 */
public final class Rootfs {
    static final Path BUSYBOX = Path.of("/bin/busybox"), GCC = Path.of("/usr/bin/gcc");

    private Rootfs() {}

    /**
     * Fails under CI=true, else skips, when a tool (or busybox or gcc, which {@link #build} needs) is missing;
     * {@code packages} names the Debian packages that bring them all.
     */
    public static void require(String packages, Path... tools) {
        for (Path tool : Stream.concat(Stream.of(tools), Stream.of(BUSYBOX, GCC)).toList()) {
            if (Files.isExecutable(tool)) continue;
            if ("true".equals(System.getenv("CI"))) fail(tool + " is missing: scripts/setup installs " + packages);
            Assumptions.abort(tool + " is missing (apt-get install " + packages + ")");
        }
    }

    /** Makes {@code dir} (new) the rootfs and returns it. */
    public static Path build(Path dir) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        for (String applet : List.of("sh", "sleep")) Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        Cli.Result cc = Cli.exec(List.of(GCC.toString(), "-static", "-O2", "-o", bin.resolve("pinwriter").toString(),
                "src/test/c/pinwriter.c"), null);
        assertEquals(0, cc.exit(), "gcc pinwriter.c: " + cc.err());
        return dir;
    }
}
