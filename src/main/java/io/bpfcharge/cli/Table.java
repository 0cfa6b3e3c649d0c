package io.bpfcharge.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table: columns padded to their widest cell; columns named with a leading '>' align right. */
final class Table {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    /** The column that gives way when a line would exceed {@link #width}; -1: none. */
    private int elastic = -1, width = Integer.MAX_VALUE;

    Table(String... header) { this.header = List.of(header); }

    Table row(Object... cells) {
        rows.add(java.util.Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toList());
        return this;
    }

    /**
     * Keeps lines within {@code width} characters by shortening the cells of one column from the left ("…" and
     * their end: the end of a cgroup path names the container), down to its header's width.
     */
    Table fit(int column, int width) {
        this.elastic = column;
        this.width = width;
        return this;
    }

    void print(PrintWriter out) {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) w[i] = name(i).length();
        for (List<String> r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
        if (elastic >= 0) {
            int total = 2 * (w.length - 1);
            for (int x : w) total += x;
            w[elastic] = Math.max(name(elastic).length(), w[elastic] - Math.max(0, total - width));
        }
        line(out, header.stream().map(h -> h.replace(">", "")).toList(), w);
        for (List<String> r : rows) line(out, r, w);
        out.flush();
    }

    private static String clip(String c, int w) {
        return c.length() <= w ? c : "…" + c.substring(c.length() - (w - 1));
    }

    private String name(int i) { return header.get(i).replace(">", ""); }

    private void line(PrintWriter out, List<String> cells, int[] w) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = clip(cells.get(i), w[i]);
            String pad = " ".repeat(w[i] - c.length());
            b.append(header.get(i).startsWith(">") ? pad + c : c + (i == w.length - 1 ? "" : pad));
            if (i < w.length - 1) b.append("  ");
        }
        out.println(b.toString().stripTrailing());
    }

    /** 28.3M style sizes, as ls -h and bpftool print them. */
    static String bytes(long n) {
        if (n < 1024) return n + "B";
        String units = "KMGTPE";
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length() - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, v >= 100 ? "%.0f%c" : "%.1f%c", v, units.charAt(u));
    }
}
