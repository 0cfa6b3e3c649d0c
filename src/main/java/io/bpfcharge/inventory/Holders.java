package io.bpfcharge.inventory;

import io.bpfcharge.bpf.FdInfo;
import oshi.SystemInfo;
import oshi.software.os.OSProcess;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Processes that hold a map fd: a map they hold cannot be freed by unpinning it. */
final class Holders {
    /** Loaded on the first holder found: most scans find none, and OSHI takes a while to start. */
    private static final class Oshi {
        static final SystemInfo SYSTEM = new SystemInfo();
    }

    private Holders() {}

    /** Map id to the processes with an fd on it; this process is left out (it holds fds only while scanning). */
    static Map<Integer, List<MapRecord.ProcessHolder>> processes() {
        long self = ProcessHandle.current().pid();
        Map<Integer, List<MapRecord.ProcessHolder>> holders = new HashMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid == self) continue;
                List<Integer> mapIds = mapFds(proc, pid);
                if (mapIds.isEmpty()) continue;
                MapRecord.ProcessHolder h = new MapRecord.ProcessHolder(pid, comm(pid));
                for (int id : mapIds) {
                    List<MapRecord.ProcessHolder> l = holders.computeIfAbsent(id, k -> new ArrayList<>());
                    if (!l.contains(h)) l.add(h);
                }
            }
        } catch (IOException e) {
            return holders;
        }
        return holders;
    }

    private static List<Integer> mapFds(Path proc, long pid) {
        List<Integer> ids = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue;
                }
                if (!target.equals("anon_inode:bpf-map")) continue;
                FdInfo info = FdInfo.read(pid, Integer.parseInt(fd.getFileName().toString()));
                if (info != null) ids.add(info.mapId());
            }
        } catch (IOException e) {
            // process exited, or a kernel thread
        }
        return ids;
    }

    private static String comm(long pid) {
        OSProcess p = Oshi.SYSTEM.getOperatingSystem().getProcess((int) pid);
        return p == null ? "?" : p.getName();
    }
}
