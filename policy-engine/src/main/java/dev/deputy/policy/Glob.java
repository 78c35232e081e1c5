package dev.deputy.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Names with wildcards: {@code *} any run of characters (dots included), {@code ?} one character; everything else is
 * literal (dots, unicode, spaces). Exact names are a set lookup; patterns are compiled once, at load.
 */
final class Glob {
    private final Set<String> exact = new HashSet<>();
    /** Globs with one {@code *} and no {@code ?} ({@code get_*}, {@code *.read}, {@code a*b}): a prefix and a suffix. */
    private final List<String[]> affixes = new ArrayList<>();
    private final List<Pattern> patterns = new ArrayList<>();
    private final boolean any;
    private final List<String> written;

    Glob(List<String> globs, String key) {
        this.written = List.copyOf(globs);
        boolean star = false;
        for (String g : globs) {
            if (g == null || g.isEmpty()) {
                throw new IllegalArgumentException(key + ": names must not be empty");
            }
            if (g.length() > 512) {
                throw new IllegalArgumentException(key + ": name longer than 512 characters");
            }
            if (g.equals("*")) {
                star = true;
            } else if (g.indexOf('?') < 0 && g.indexOf('*') >= 0 && g.indexOf('*') == g.lastIndexOf('*')) {
                // the usual shapes, matched without a regex (no Matcher per call on the decision path)
                int at = g.indexOf('*');
                affixes.add(new String[]{g.substring(0, at), g.substring(at + 1)});
            } else if (g.indexOf('*') >= 0 || g.indexOf('?') >= 0) {
                patterns.add(compile(g));
            } else {
                exact.add(g);
            }
        }
        this.any = star;
    }

    private static Pattern compile(String glob) {
        StringBuilder re = new StringBuilder();
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < glob.length(); ) {
            int cp = glob.codePointAt(i);
            if (cp == '*' || cp == '?') {
                if (!lit.isEmpty()) {
                    re.append(Pattern.quote(lit.toString()));
                    lit.setLength(0);
                }
                re.append(cp == '*' ? ".*" : ".");
            } else {
                lit.appendCodePoint(cp);
            }
            i += Character.charCount(cp);
        }
        if (!lit.isEmpty()) {
            re.append(Pattern.quote(lit.toString()));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    boolean matches(String name) {
        if (name == null) {
            return false;
        }
        if (any || exact.contains(name)) {
            return true;
        }
        for (String[] a : affixes) {
            if (name.length() >= a[0].length() + a[1].length() && name.startsWith(a[0]) && name.endsWith(a[1])) {
                return true;
            }
        }
        for (Pattern p : patterns) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return written.isEmpty();
    }

    @Override
    public String toString() {
        return written.size() == 1 ? written.get(0) : written.toString();
    }
}
