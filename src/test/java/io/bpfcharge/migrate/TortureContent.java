package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.testing.PinWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the map at the pin must hold after an iteration, whatever its outcome: every entry there before, and
 * every write a writer saw succeed. Inserts (merge overwrite): each key holds the last value written to it,
 * byte for byte. Counters (merge sum): each key's total over its u64 copies (per-CPU maps: one per CPU) is its
 * total before plus the increments made to it; a BPF program's increments land on random counters, so with one
 * only their sum over the counters is known.
 */
final class TortureContent {
    /** One writer process's key range and the writes it made. */
    record Writes(PinWriter.Keys keys, long count) {}

    /** What differs: a line per kind of difference, and how many entries or increments are lost. */
    record Diff(List<String> problems, long lost) {
        boolean clean() { return problems.isEmpty(); }
    }

    private static final int EXAMPLES = 3;

    private TortureContent() {}

    static Diff check(MapInfo info, boolean counting, Map<String, String> before, Map<String, String> after,
                      List<Writes> writers, long programRuns) {
        return counting ? counters(info, before, after, writers, programRuns) : inserts(info, before, after, writers);
    }

    private static Diff inserts(MapInfo info, Map<String, String> before, Map<String, String> after, List<Writes> writers) {
        Map<String, String> expected = new TreeMap<>(before);
        for (Writes w : writers)
            for (long n = 0; n < w.count(); n++)
                expected.put(Kernel.hex(PinWriter.key(info, w.keys().index(n))), Kernel.hex(PinWriter.value(info, n)));
        List<String> missing = new ArrayList<>(), wrong = new ArrayList<>(), extra = new ArrayList<>();
        expected.forEach((k, v) -> {
            String now = after.get(k);
            if (now == null) missing.add(k + "=" + v);
            else if (!now.equals(v)) wrong.add(k + ": " + v + " expected, " + now + " found");
        });
        after.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> extra.add(k + "=" + after.get(k)));
        List<String> problems = new ArrayList<>();
        report(problems, "missing", missing, expected.size());
        report(problems, "wrong value", wrong, expected.size());
        report(problems, "unexpected", extra, expected.size());
        return new Diff(problems, missing.size() + wrong.size());
    }

    private static Diff counters(MapInfo info, Map<String, String> before, Map<String, String> after,
                                 List<Writes> writers, long programRuns) {
        Map<String, Long> expected = new TreeMap<>();
        before.forEach((k, v) -> expected.put(k, total(v)));
        List<String> counterKeys = new ArrayList<>();
        for (int c = 0; c < PinWriter.COUNTERS; c++) counterKeys.add(Kernel.hex(PinWriter.key(info, c)));
        for (Writes w : writers)
            for (int c = 0; c < PinWriter.COUNTERS; c++) {
                long adds = w.count() / PinWriter.COUNTERS + (c < w.count() % PinWriter.COUNTERS ? 1 : 0);
                if (adds > 0) expected.merge(counterKeys.get(c), adds, Long::sum);
            }
        List<String> missing = new ArrayList<>(), wrong = new ArrayList<>(), extra = new ArrayList<>();
        long lost = 0;
        for (var e : expected.entrySet()) {
            String now = after.get(e.getKey());
            boolean counter = counterKeys.contains(e.getKey());
            if (now == null) {
                if (counter && programRuns > 0) continue; // the counters' sum below tells
                missing.add(e.getKey() + "=" + e.getValue());
                lost += Math.max(1, e.getValue());
            } else if (!(counter && programRuns > 0) && total(now) != e.getValue()) {
                wrong.add(e.getKey() + ": " + e.getValue() + " expected, " + total(now) + " found");
                lost += Math.max(0, e.getValue() - total(now));
            }
        }
        for (String k : after.keySet())
            if (!expected.containsKey(k) && !(programRuns > 0 && counterKeys.contains(k))) extra.add(k + "=" + after.get(k));
        List<String> problems = new ArrayList<>();
        report(problems, "missing", missing, expected.size());
        report(problems, "wrong total", wrong, expected.size());
        report(problems, "unexpected", extra, expected.size());
        if (programRuns > 0) {
            long want = programRuns, got = 0;
            for (String k : counterKeys) {
                want += expected.getOrDefault(k, 0L);
                got += after.containsKey(k) ? total(after.get(k)) : 0;
            }
            if (want != got) {
                problems.add("the 16 counters sum to " + got + ", expected " + want + " (" + programRuns + " program runs)");
                lost += Math.max(0, want - got);
            }
        }
        return new Diff(problems, lost);
    }

    private static void report(List<String> problems, String what, List<String> keys, int of) {
        if (keys.isEmpty()) return;
        problems.add(keys.size() + " of " + of + " keys " + what + ", e.g. " + String.join("; ", keys.subList(0, Math.min(EXAMPLES, keys.size()))));
    }

    /** A value's u64 words added up (per-CPU values: every CPU's copy). */
    private static long total(String hex) {
        ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(hex)).order(ByteOrder.nativeOrder());
        long sum = 0;
        while (b.remaining() >= 8) sum += b.getLong();
        return sum;
    }
}
