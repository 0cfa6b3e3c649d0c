package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MemoryExecutable;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The map-creating helper program (bpf/create_helper.c, built static into the jar), loaded from the jar into
 * memory once per process and run from there ({@link MemoryExecutable}): the node's run directory is often
 * mounted noexec, and a file there could be replaced or left behind. Held for the life of the process, as the
 * jar's other resources are.
 */
final class HelperBinary {
    private static final String RESOURCE = "/bpf/create-helper";

    private HelperBinary() {}

    private static MemoryExecutable program;

    /**
     * The path a child process runs the helper by. Loaded on first use; a failure (a jar without it, a kernel that
     * refuses the memfd) is the documented error, and the next call tries again (a holder class would turn it
     * into an ExceptionInInitializerError, then a NoClassDefFoundError for every later create).
     */
    static synchronized Path path() {
        if (program == null) program = MemoryExecutable.of("bpfcharge-create-helper", read());
        return program.path();
    }

    private static byte[] read() {
        try (InputStream in = HelperBinary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new BpfchargeException(Exit.ENVIRONMENT, "the jar has no " + RESOURCE + ": rebuild it with clang installed (mvn package)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BpfchargeException(Exit.ENVIRONMENT, "cannot read " + RESOURCE + " from the jar: " + e.getMessage(), e);
        }
    }
}
