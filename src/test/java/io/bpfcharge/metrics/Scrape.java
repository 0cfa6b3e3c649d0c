package io.bpfcharge.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A parsed Prometheus text scrape: every sample line as name, labels and value. */
public record Scrape(List<Sample> samples) {
    public record Sample(String name, Map<String, String> labels, double value) {}

    public static Scrape parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            int brace = line.indexOf('{'), space;
            Map<String, String> labels = new LinkedHashMap<>();
            String name;
            if (brace >= 0 && brace < line.indexOf(' ')) {
                name = line.substring(0, brace);
                int i = brace + 1;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq);
                    StringBuilder v = new StringBuilder();
                    int j = eq + 2; // past ="
                    for (; line.charAt(j) != '"'; j++) {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char n = line.charAt(++j);
                            v.append(n == 'n' ? '\n' : n);
                        } else v.append(c);
                    }
                    labels.put(key, v.toString());
                    i = j + 1;
                    if (line.charAt(i) == ',') i++;
                }
                space = line.indexOf(' ', i);
            } else {
                space = line.indexOf(' ');
                name = line.substring(0, space);
            }
            String value = line.substring(space + 1).trim().split(" ")[0];
            out.add(new Sample(name, labels, Double.parseDouble(value)));
        }
        return new Scrape(out);
    }

    public List<Sample> all(String name) { return samples.stream().filter(s -> s.name().equals(name)).toList(); }

    /** The one sample of a name whose labels include every given pair. */
    public Optional<Sample> find(String name, String... pairs) {
        List<Sample> hits = all(name).stream().filter(s -> {
            for (int i = 0; i < pairs.length; i += 2) if (!pairs[i + 1].equals(s.labels().get(pairs[i]))) return false;
            return true;
        }).toList();
        if (hits.size() > 1) throw new AssertionError("more than one " + name + " series with " + List.of(pairs) + ": " + hits);
        return hits.stream().findFirst();
    }

    public double value(String name, String... pairs) {
        return find(name, pairs).orElseThrow(() -> new AssertionError("no " + name + " series with " + List.of(pairs))).value();
    }
}
