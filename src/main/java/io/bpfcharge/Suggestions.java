package io.bpfcharge;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * "Did you mean": the known word closest to a typo, for the messages about keys in the rules file and the web
 * config (picocli does the same for commands and options, with its own code that it does not export).
 */
public final class Suggestions {
    private Suggestions() {}

    /**
     * The known word within a third of its length in edits (at least one) of {@code typo}, the closest first;
     * empty when nothing is that close, since a far-fetched guess misleads more than the list of known words.
     */
    public static Optional<String> closest(String typo, Collection<String> known) {
        String t = typo.toLowerCase(java.util.Locale.ROOT);
        return known.stream()
                .filter(k -> distance(t, k.toLowerCase(java.util.Locale.ROOT)) <= Math.max(1, k.length() / 3))
                .min(Comparator.comparingInt((String k) -> distance(t, k.toLowerCase(java.util.Locale.ROOT)))
                        .thenComparing(Comparator.naturalOrder()));
    }

    /**
     * Edits between two words: insertions, deletions, substitutions and swaps of two neighbours (the commonest
     * typo: "mpas" is one edit from "maps", not two).
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++)
            for (int j = 1; j <= b.length(); j++) {
                int same = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j], d[i][j - 1]) + 1, d[i - 1][j - 1] + same);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1))
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        return d[a.length()][b.length()];
    }
}
