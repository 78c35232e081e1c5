package dev.deputy.policy;

import java.util.Collection;
import java.util.Locale;

/**
 * The known name a typo most likely meant — one rule for the broker's config messages ({@code YamlFiles}: unknown
 * keys) and {@code deputy validate} ({@code ConfigCheck}: keys, folders, roles, resources), which both depend on this
 * module. Case-insensitive optimal string alignment distance; a name is a typo within 1 edit up to 4 characters, 2 up
 * to 8, 3 beyond.
 */
public final class NearestName {
    private NearestName() {
    }

    /** The known name {@code given} most likely meant, or null when none is close (or {@code given} is known). */
    public static String nearest(String given, Collection<String> known) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(given.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best != null && bestD <= typoLimit(given) && !best.equals(given) ? best : null;
    }

    /** {@code " (did you mean 'x'?)"} for the nearest known name, else "". */
    public static String suggest(String given, Collection<String> known) {
        String best = nearest(given, known);
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /** How many edits still look like a typo: 1 in a short name, 2 up to 8 characters, 3 beyond. */
    public static int typoLimit(String given) {
        return given.length() <= 4 ? 1 : given.length() <= 8 ? 2 : 3;
    }

    /** Optimal string alignment distance: Levenshtein edits, with a swap of two neighbours counted as one. */
    public static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
