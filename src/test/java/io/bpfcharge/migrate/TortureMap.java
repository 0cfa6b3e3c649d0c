package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.migrate.TortureChoice.Family;
import io.bpfcharge.migrate.TortureChoice.Writer;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.PinWriter;
import io.bpfcharge.testing.TestCgroups;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.bpfcharge.testing.MapMaker.spec;

/**
 * One iteration's map, created by a MapMaker child in the source memcg and filled (keys 0 to prefill - 1),
 * pinned in the private bpffs directory; an inner map also sits at key 0 of a pinned outer map. With
 * {@link Writer#PROGRAM} the outer map is test_counter's, whose program this process runs (one thread,
 * BPF_PROG_TEST_RUN: it takes a CPU) through that slot until {@link #stopProgram}. close() stops it and removes the pins.
 */
final class TortureMap implements AutoCloseable {
    private static final int NO_PREALLOC = 1, PROGRAM_REPEAT = 50;

    final Path pin, outerPin;
    final int oldId;
    final MapInfo info;
    private final BpfObject program;
    private final MapFd misses;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong runs = new AtomicLong();
    private Thread thread;

    private TortureMap(Path pin, Path outerPin, int oldId, MapInfo info, BpfObject program, MapFd misses) {
        this.pin = pin;
        this.outerPin = outerPin;
        this.oldId = oldId;
        this.info = info;
        this.program = program;
        this.misses = misses;
    }

    static TortureMap make(TestCgroups cg, String src, String name, TortureChoice c) throws Exception {
        Family f = c.family();
        Path pin = cg.pin(name), outerPin = f.inner() ? cg.pin(name + "_o") : null;
        boolean prog = c.writers().contains(Writer.PROGRAM);
        MapMaker.Spec map = spec(f.type, f == Family.LPM_TRIE ? 8 : 4, 8,
                prog ? TortureChoice.PROGRAM_INNER_ENTRIES : f.maxEntries, name).pin(pin);
        if (f == Family.LPM_TRIE) map = map.flags(NO_PREALLOC);
        int id;
        try (MapMaker.Maps m = f.inner() && !prog
                ? MapMaker.run(cg, src, false, map, spec(f.outer, 4, 4, 4, name + "_o").pin(outerPin).outerOfPrevious())
                : MapMaker.run(cg, src, false, map)) {
            id = m.id(0);
        }
        MapInfo info;
        try (MapFd fd = Kernel.open(pin)) {
            info = fd.info();
            fill(fd, c);
        }
        if (!prog) return new TortureMap(pin, outerPin, id, info, null, null);
        BpfObject obj = BpfObject.load("test_counter");
        try (MapFd outer = MapFd.byId(FdInfo.read(obj.mapFd("outer")).mapId()); MapFd inner = Kernel.open(pin)) {
            outer.setInnerMap(ByteBuffer.allocate(4), inner);
            outer.pin(outerPin);
            return new TortureMap(pin, outerPin, id, info, obj, MapFd.byId(FdInfo.read(obj.mapFd("misses")).mapId()));
        }
    }

    /** Keys 0 to prefill - 1 (an LPM trie: /32 prefixes); with zero keys every third value is 0. */
    private static void fill(MapFd map, TortureChoice c) {
        MapInfo info = map.info();
        ByteBuffer value = ByteBuffer.allocate(info.userValueSize()).order(ByteOrder.nativeOrder());
        for (int i = 0; i < c.prefill(); i++) {
            long v = c.zeroKeys() && i % 3 == 0 ? 0 : i * 1_000_003L + 7;
            for (int off = 0; off < value.capacity(); off += 8) value.putLong(off, v);
            map.update(PinWriter.key(info, i), value, MapFd.BPF_ANY);
        }
    }

    Map<String, String> dump() {
        try (MapFd fd = Kernel.open(pin)) {
            return Kernel.dump(fd);
        }
    }

    int idAtPin() { return Kernel.idAt(pin); }

    /** The map in the outer map's slot 0; for a standalone map, the one at the pin. */
    int idInSlot() { return outerPin == null ? idAtPin() : MigrateIT.slot0(outerPin); }

    void startProgram() {
        if (program == null) return;
        ByteBuffer packet = ByteBuffer.allocateDirect(64);
        thread = Thread.ofPlatform().daemon().start(() -> {
            while (!stop.get()) {
                program.testRun("count", PROGRAM_REPEAT, packet, null);
                runs.addAndGet(PROGRAM_REPEAT);
            }
        });
    }

    /** Stops the program's thread; returns how many runs counted (each adds 1 to a counter). */
    long stopProgram() throws InterruptedException {
        stop.set(true);
        if (thread != null) thread.join();
        return runs.get();
    }

    /** Runs of the program that found no map in the slot: a swap readers could see. */
    long programMisses() {
        if (misses == null) return 0;
        ByteBuffer v = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        return misses.lookup(ByteBuffer.allocate(4), v) ? v.getLong(0) : 0;
    }

    @Override
    public void close() throws Exception {
        stopProgram();
        if (misses != null) misses.close();
        if (program != null) program.close();
        Files.deleteIfExists(pin);
        if (outerPin != null) Files.deleteIfExists(outerPin);
    }
}
