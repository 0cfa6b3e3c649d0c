package io.bpfcharge.bpffs;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeSet;

/**
 * Pin paths and globs from untrusted input (annotations), turned into real paths that provably lie
 * in a bpffs mount. A path is refused when it is relative, has "." or ".." parts, or resolves (after
 * symlinks) to a file whose device is not that of a bpffs mount containing it: a symlink out of
 * bpffs, or another file system mounted inside it. Glob parts use {@link java.nio.file.FileSystem#getPathMatcher}
 * syntax ({@code *}, {@code ?}, {@code [..]}, {@code {a,b}}, {@code **}) and never cross into other
 * file systems.
 * @param bpfMounts every bpffs mount point, with its device
 */
public record PinPaths(List<Pins.Mount> bpfMounts) {
    /** More matches than this from one pattern is a mistake or an attack, not a container's maps. */
    public static final int MAX_MATCHES = 4096;

    /** The bpffs mounts of this mount namespace, read once. */
    public static PinPaths current() {
        return new PinPaths(Pins.visible());
    }

    /** What is wrong with a pattern's syntax, or null (also for rules files, before any container exists). */
    public static String syntaxProblem(String pattern) {
        if (pattern.isEmpty() || pattern.charAt(0) != '/') return "is not an absolute path";
        if (pattern.chars().anyMatch(Character::isISOControl)) return "contains control characters";
        for (String part : pattern.substring(1).split("/", -1)) {
            if (part.equals("..") || part.equals(".")) return "contains a \"" + part + "\" component";
            if (part.isEmpty()) return "contains an empty component";
        }
        return null;
    }

    /** Every pinned file the pattern names, as checked real paths, sorted; empty when nothing matches. */
    public List<Path> expand(String pattern) {
        String problem = syntaxProblem(pattern);
        if (problem != null) throw refused(pattern, problem);
        String[] parts = pattern.substring(1).split("/");
        int firstGlob = 0;
        while (firstGlob < parts.length && !isGlob(parts[firstGlob])) firstGlob++;
        Path base = Path.of("/" + String.join("/", List.of(parts).subList(0, firstGlob)));
        if (firstGlob == parts.length) {
            if (!Files.exists(base, LinkOption.NOFOLLOW_LINKS)) return List.of();
            Path real = checked(base, pattern);
            if (!Files.isRegularFile(real)) throw refused(pattern, "is a directory, not a pin (add /* for every pin in it)");
            return List.of(real);
        }
        if (!Files.isDirectory(base)) return List.of();
        Path realBase = checked(base, pattern);
        String rest = String.join("/", List.of(parts).subList(firstGlob, parts.length));
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + rest);
        int depth = rest.contains("**") ? Integer.MAX_VALUE : parts.length - firstGlob;
        TreeSet<Path> found = new TreeSet<>();
        try {
            // No FOLLOW_LINKS: the walk stays on this tree; a matched symlink is checked like any path.
            Files.walkFileTree(realBase, EnumSet.noneOf(FileVisitOption.class), depth, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    // Directories at the depth limit come here too; pins are regular files.
                    if (attrs.isDirectory() || !matcher.matches(realBase.relativize(file))) return FileVisitResult.CONTINUE;
                    if (attrs.isSymbolicLink() && !Files.exists(file)) return FileVisitResult.CONTINUE; // dangling: no pin
                    Path real = checked(file, pattern);
                    if (Files.isRegularFile(real)) {
                        found.add(real);
                        if (found.size() > MAX_MATCHES) throw refused(pattern, "matches more than " + MAX_MATCHES + " files");
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    // Another file system mounted inside bpffs is not walked into.
                    return dir.equals(realBase) || sameDevice(dir, realBase) ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // unpinned while walking
                }
            });
        } catch (IOException e) {
            throw new BpfchargeException(Exit.FAILED, "cannot list " + realBase + ": " + e.getMessage());
        }
        return List.copyOf(found);
    }

    /** The real path of {@code p} when it lies in a bpffs mount (same device as the mount); refused otherwise. */
    Path checked(Path p, String pattern) {
        Path real;
        try {
            real = p.toRealPath();
        } catch (NoSuchFileException e) {
            throw refused(pattern, "names " + p + ", a dangling symlink");
        } catch (IOException e) {
            throw refused(pattern, "names " + p + ", which cannot be resolved (" + e.getMessage() + ")");
        }
        if (inBpffs(real)) return real;
        String where = real.equals(p) ? "" : " (resolves to " + real + ")";
        throw refused(pattern, "names " + p + where + ", which is not in a bpffs mount");
    }

    /**
     * The real path of one pin a user names (e.g. {@code migrate --map}); otherwise one line saying what the path
     * is instead: missing or a directory, exit 5; a file elsewhere or a symlink out of bpffs, exit 6 (an unsafe
     * pin path, as the hook's rules say too).
     */
    public Path pin(Path p) {
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            throw notAPin(Files.isSymbolicLink(p) ? p + " is a dangling symlink" : "no such pin " + p);
        }
        String link = real.equals(p) ? "" : " (a symlink to " + real + ")";
        if (!inBpffs(real))
            throw new BpfchargeException(Exit.REFUSED, p + link + " is not in a bpffs mount: refused; give a map's pin "
                    + "path inside one (bpfcharge maps --pinned lists them) or id:N");
        if (Files.isDirectory(real)) throw notAPin(p + link + " is a directory, not a pin");
        return real;
    }

    private boolean inBpffs(Path real) {
        Object dev = dev(real);
        for (Pins.Mount m : bpfMounts)
            if (real.startsWith(m.point()) && dev != null && m.dev() == (Long) dev) return true;
        return false;
    }

    private static BpfchargeException notAPin(String what) {
        return new BpfchargeException(Exit.NOT_FOUND, what + ": give a map's pin path (bpfcharge maps --pinned lists "
                + "them) or id:N");
    }

    private static boolean sameDevice(Path a, Path b) {
        Object da = dev(a);
        return da != null && da.equals(dev(b));
    }

    private static Object dev(Path p) {
        try {
            return Files.getAttribute(p, "unix:dev");
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isGlob(String part) {
        return part.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    private static BpfchargeException refused(String pattern, String why) {
        return new BpfchargeException(Exit.REFUSED, "pin path " + BpfchargeException.clip(pattern) + " " + why
                + ": give absolute paths inside a bpffs mount (e.g. /sys/fs/bpf/app/*)");
    }
}
