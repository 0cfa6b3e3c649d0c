package io.bpfcharge.cli;

import picocli.CommandLine.Option;

/** The output options of every command that prints a table ({@code maps}, {@code cgroups}, {@code oom}). */
final class TableOutput {
    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Option(names = "--wide", description = "Whole cells in a terminal too (by default long columns give way to fit its width).")
    boolean wide;

    /** The width the table must fit: the terminal's, or none. */
    int width() { return wide ? Integer.MAX_VALUE : Terminal.columns(); }
}
