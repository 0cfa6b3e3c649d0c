package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.PausePoints;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** What the migration tests read back from the kernel, and how they run the CLI with a private run directory. */
final class Kernel {
    private Kernel() {}

    static Cli.Result migrate(Path runDir, String crashAt, String... args) throws IOException, InterruptedException {
        return Cli.exec(migrateCommand(runDir, crashAt, args), null);
    }

    static List<String> migrateCommand(Path runDir, String crashAt, String... args) {
        return migrateCommand(runDir, crashAt == null ? List.of() : List.of("BPFCHARGE_CRASH_AT=" + crashAt), args);
    }

    /** The migration pauses at {@code step} (see {@link PausePoints}) until released. */
    static Cli.Result migratePausedAt(Path runDir, PausePoints pause, String step, String... args)
            throws IOException, InterruptedException {
        return Cli.exec(migrateCommand(runDir, pause.env(step), args), null);
    }

    private static List<String> migrateCommand(Path runDir, List<String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
        cmd.addAll(env);
        cmd.addAll(Cli.command(Stream.concat(Stream.of("migrate"), Stream.of(args)).toArray(String[]::new)));
        return cmd;
    }

    static MapFd open(Path pin) { return (MapFd) BpfFd.openPin(pin); }

    static int idAt(Path pin) {
        try (MapFd m = open(pin)) {
            return m.info().id();
        }
    }

    /** Every entry, key hex to value hex (per-CPU values: all CPUs' copies). */
    static Map<String, String> dump(MapFd map) {
        MapInfo info = map.info();
        Map<String, String> out = new TreeMap<>();
        try (MapBatch batch = MapBatch.of(info, 1024)) {
            boolean more = true;
            while (more) {
                more = map.lookupElements(batch);
                for (int i = 0; i < batch.size(); i++)
                    out.put(hex(batch.key(i)), info.type().isMapOfMaps() ? "map" : hex(batch.value(i)));
            }
        }
        return out;
    }

    /** Writes n deterministic entries (arrays: indices below max_entries; LPM: /32 prefixes). */
    static void fill(MapFd map, int n, long seed) {
        MapInfo info = map.info();
        ByteBuffer key = ByteBuffer.allocate(info.keySize()).order(ByteOrder.nativeOrder()),
                val = ByteBuffer.allocate(info.userValueSize()).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            key.put(0, new byte[info.keySize()]);
            if (info.type().name().equals("lpm_trie")) {
                key.putInt(0, 32);
                key.putInt(4, i * 7919 + 1);
            } else {
                key.putInt(0, i);
            }
            for (int off = 0; off + 8 <= val.capacity(); off += 8) val.putLong(off, seed * 31 + i * 1_000_003L + off);
            map.update(key, val, MapFd.BPF_ANY);
        }
    }

    static long chargedTo(int mapId) {
        try (InventoryIterators it = InventoryIterators.open()) {
            MapCharge c = it.maps().get(mapId);
            return c == null ? -1 : c.cgroupId();
        }
    }

    static boolean alive(int mapId) {
        try (MapFd ignored = MapFd.byId(mapId)) {
            return true;
        } catch (io.bpfcharge.bpf.BpfException e) {
            return false;
        }
    }

    /** Temporary pins a migration left in a directory. */
    static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(Journal.TEMP_PREFIX) || n.startsWith(Journal.KEEP_PREFIX)).toList();
        }
    }

    /**
     * Files a migration left in a private run directory that is also its state directory: journals, and baselines
     * (in baselines/BOOT_ID below it). The history stays.
     */
    static List<Path> runFilesLeft(Path runDir) throws IOException {
        try (Stream<Path> s = Files.walk(runDir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("migrations.jsonl")).toList();
        }
    }

    static String hex(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.get(b.position(), bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** A u32 key as {@link #dump} writes it. */
    static String hex4(int v) {
        return HexFormat.of().formatHex(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array());
    }

    /** A u64 value as {@link #dump} writes it. */
    static String hex8(long v) {
        return HexFormat.of().formatHex(ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(v).array());
    }
}
