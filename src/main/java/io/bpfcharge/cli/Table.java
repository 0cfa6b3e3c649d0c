package io.bpfcharge.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A plain text table: columns padded to their widest cell; columns named with a leading '>' align right. Given a
 * width ({@link #fit}), the columns marked {@link #elastic} give way, widest first, so that lines stay within it.
 */
final class Table {
    /** How a cell of an elastic column is shortened. */
    enum Clip {
        /** A path: "…" and its end, which names the container; container ids are first cut to 12 digits. */
        PATH,
        /** A list: its start and "…". */
        LIST;

        private static final Pattern CONTAINER_ID = Pattern.compile("([0-9a-f]{12})[0-9a-f]{52}");

        /** A path for people: 64-digit container ids cut to their first 12, as docker and crictl print them. */
        static String shortPath(String path) { return CONTAINER_ID.matcher(path).replaceAll("$1"); }

        String clip(String c, int w) {
            if (c.length() <= w) return c;
            if (this == LIST) return c.substring(0, w - 1) + "…";
            String s = shortPath(c);
            return s.length() <= w ? s : "…" + s.substring(s.length() - (w - 1));
        }
    }

    private final List<String> header;
    private final Clip[] clips;
    private final List<List<String>> rows = new ArrayList<>();
    private int width = Integer.MAX_VALUE;

    Table(String... header) {
        this.header = List.of(header);
        this.clips = new Clip[header.length];
    }

    Table row(Object... cells) {
        rows.add(Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toList());
        return this;
    }

    /** Marks a column (by its name) as one that gives way when a line would exceed the width. */
    Table elastic(String name, Clip clip) {
        int i = header.indexOf(name);
        if (i < 0) i = header.indexOf(">" + name);
        if (i < 0) throw new IllegalArgumentException("no column " + name);
        clips[i] = clip;
        return this;
    }

    /** Lines at most {@code width} characters long, as far as the elastic columns can give (down to their names). */
    Table fit(int width) {
        this.width = width;
        return this;
    }

    void print(PrintWriter out) {
        int[] w = widths();
        line(out, header.stream().map(h -> h.replace(">", "")).toList(), w);
        for (List<String> r : rows) line(out, r, w);
        out.flush();
    }

    /** Each column's width: its widest cell, less what the elastic columns give up, one character at a time from the widest. */
    private int[] widths() {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) w[i] = name(i).length();
        for (List<String> r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
        long excess = 2L * (w.length - 1) - width;
        for (int x : w) excess += x;
        for (; excess > 0; excess--) {
            int widest = -1;
            for (int i = 0; i < w.length; i++)
                if (clips[i] != null && w[i] > name(i).length() && (widest < 0 || w[i] > w[widest])) widest = i;
            if (widest < 0) break; // as narrow as the names: a terminal this narrow wraps
            w[widest]--;
        }
        return w;
    }

    private String name(int i) { return header.get(i).replace(">", ""); }

    private void line(PrintWriter out, List<String> cells, int[] w) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = clips[i] == null ? cells.get(i) : clips[i].clip(cells.get(i), w[i]);
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
