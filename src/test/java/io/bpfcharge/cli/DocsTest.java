package io.bpfcharge.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The user documentation (README.md and docs/) names every command, option and metric the code has. */
class DocsTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir"));

    static String docs() {
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            StringBuilder all = new StringBuilder(Files.readString(ROOT.resolve("README.md")));
            for (Path f : files.filter(p -> p.toString().endsWith(".md")).sorted().toList()) all.append('\n').append(Files.readString(f));
            return all.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyCommandAndOptionInHelpIsDocumented() {
        String docs = docs();
        List<String> missing = new ArrayList<>();
        for (CommandLine sub : Main.commandLine().getSubcommands().values()) {
            CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
            if (spec.usageMessage().hidden() || spec.name().equals("help")) continue;
            if (!docs.contains("bpfcharge " + spec.name())) missing.add("command " + spec.name());
            for (OptionSpec o : spec.options()) {
                if (o.hidden() || o.usageHelp() || o.versionHelp()) continue;
                if (!docs.contains(o.longestName())) missing.add(spec.name() + " " + o.longestName());
            }
        }
        assertEquals(List.of(), missing, "in --help but not in README.md or docs/");
    }

    /** The README's exit code table and the one every --help prints are the same list. */
    @Test
    void theReadmesExitCodesAreThoseOfHelp() throws IOException {
        List<String> readme = new ArrayList<>();
        Matcher row = Pattern.compile("(?m)^\\| (\\d) \\| (.*) \\|$").matcher(Files.readString(ROOT.resolve("README.md")));
        while (row.find()) readme.add(row.group(1) + ":" + row.group(2));
        assertEquals(List.of(Main.class.getAnnotation(CommandLine.Command.class).exitCodeList()), readme);
    }

    /** Metric names are string literals in the exporter's code; counters are documented with _total. */
    @Test
    void everyMetricTheExporterCanEmitIsInTheMetricsReference() throws IOException {
        String reference = Files.readString(ROOT.resolve("docs/monitoring.md"));
        Pattern name = Pattern.compile("\"(bpfcharge_[a-z_]*[a-z])\"");
        List<String> missing = new ArrayList<>();
        int found = 0;
        try (Stream<Path> sources = Files.walk(ROOT.resolve("src/main/java/io/bpfcharge"))) {
            for (Path f : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = name.matcher(Files.readString(f));
                while (m.find()) {
                    found++;
                    if (!reference.contains(m.group(1))) missing.add(m.group(1) + " (" + ROOT.relativize(f) + ")");
                }
            }
        }
        assertTrue(found >= 10, "metric names found in the sources: " + found);
        assertEquals(List.of(), missing, "emitted but not in docs/monitoring.md");
    }
}
