package io.bpfcharge.inventory;

import oshi.SystemInfo;
import oshi.software.os.OSProcess;

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

    /**
     * Names the processes of the map_holders iterator's pairs (map id to pids). This process is left out:
     * it holds fds only while scanning.
     */
    static Map<Integer, List<MapRecord.ProcessHolder>> processes(Map<Integer, List<Long>> pidsByMap) {
        long self = ProcessHandle.current().pid();
        Map<Long, MapRecord.ProcessHolder> named = new HashMap<>();
        Map<Integer, List<MapRecord.ProcessHolder>> holders = new HashMap<>();
        pidsByMap.forEach((mapId, pids) -> {
            List<MapRecord.ProcessHolder> l = new ArrayList<>(pids.size());
            for (long pid : pids)
                if (pid != self) l.add(named.computeIfAbsent(pid, p -> new MapRecord.ProcessHolder(p, comm(p))));
            if (!l.isEmpty()) holders.put(mapId, l);
        });
        return holders;
    }

    private static String comm(long pid) {
        OSProcess p = Oshi.SYSTEM.getOperatingSystem().getProcess((int) pid);
        return p == null ? "?" : p.getName();
    }
}
