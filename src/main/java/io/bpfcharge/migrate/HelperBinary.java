package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The map-creating helper program (bpf/create_helper.c, built static into the jar) as a file that can be run:
 * extracted once per process into the node's run directory (root's), named after its content so that every
 * bpfcharge version on the node finds its own, readable and runnable by root only, and written under a
 * temporary name then renamed, so that concurrent bpfcharge processes never run a half-written file.
 */
final class HelperBinary {
    private static final String RESOURCE = "/bpf/create-helper";
    /** The start of its file name in the run directory (the rest is its content's hash). */
    static final String PREFIX = "create-helper-";
    private static final Set<PosixFilePermission> ROOT_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final ConcurrentHashMap<Path, Path> extracted = new ConcurrentHashMap<>();

    private HelperBinary() {}

    /**
     * The helper's path in {@code run}, extracted there by the first call of this process, and again when it was
     * removed since (someone emptied the run directory under a long-running daemon).
     */
    static Path in(RunDir run) {
        Path known = extracted.get(run.path());
        if (known != null && Files.isRegularFile(known)) return known;
        Path file = extract(run.path());
        extracted.put(run.path(), file);
        return file;
    }

    private static Path extract(Path dir) {
        byte[] program;
        try (InputStream in = HelperBinary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new BpfchargeException(Exit.ENVIRONMENT, "the jar has no " + RESOURCE + ": rebuild it with clang installed (mvn package)");
            program = in.readAllBytes();
        } catch (IOException e) {
            throw new BpfchargeException(Exit.ENVIRONMENT, "cannot read " + RESOURCE + " from the jar: " + e.getMessage(), e);
        }
        Path file = dir.resolve(PREFIX + HexFormat.of().formatHex(sha256(program), 0, 8));
        try {
            // A file of that name written by an earlier process is used only if it is intact and still root's alone.
            if (Files.isRegularFile(file) && Files.getPosixFilePermissions(file).equals(ROOT_ONLY)
                    && Arrays.equals(Files.readAllBytes(file), program)) return file;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(ROOT_ONLY));
            try {
                Files.write(tmp, program);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return file;
        } catch (IOException e) {
            throw new BpfchargeException(Exit.ENVIRONMENT, "cannot write the map-creating helper to " + file + ": " + e.getMessage()
                    + " (set BPFCHARGE_RUN_DIR to a directory root can write and run programs from)", e);
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
