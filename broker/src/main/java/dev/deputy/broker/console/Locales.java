package dev.deputy.broker.console;

import java.util.List;
import java.util.Locale;

/**
 * The pages' language: the first supported tag of OIDC {@code ui_locales} (OIDC Core §3.1.2.1, space-separated
 * BCP 47 tags), else the best of {@code Accept-Language} (RFC 9110 §12.5.4), else English. A language is supported
 * when the message bundle has it ({@code i18n/messages_<lang>.properties}).
 */
public final class Locales {
    public static final List<Locale> SUPPORTED = List.of(Locale.ENGLISH, Locale.GERMAN);

    private Locales() {
    }

    public static Locale choose(String uiLocales, String acceptLanguage) {
        if (uiLocales != null) {
            for (String tag : uiLocales.trim().split("\\s+")) {
                Locale wanted = Locale.forLanguageTag(tag);
                for (Locale l : SUPPORTED) {
                    if (!wanted.getLanguage().isEmpty() && l.getLanguage().equals(wanted.getLanguage())) {
                        return l;
                    }
                }
            }
        }
        if (acceptLanguage != null && acceptLanguage.length() < 500) {
            // RFC 9110 §12.5.4, read leniently (browsers send e.g. "de-DE,de;q=0.9,de;q=0.9;q=0.8"): the highest
            // weight wins, then the order given; a part that cannot be read is skipped
            Locale best = null;
            double bestQ = 0;
            for (String part : acceptLanguage.split(",")) {
                String[] fields = part.split(";");
                String tag = fields[0].trim();
                double q = 1;
                for (int i = 1; i < fields.length; i++) {
                    String f = fields[i].trim();
                    if (f.startsWith("q=")) {
                        try {
                            q = Double.parseDouble(f.substring(2));
                        } catch (NumberFormatException e) {
                            q = 0;
                        }
                        break;
                    }
                }
                String language = Locale.forLanguageTag(tag).getLanguage();
                for (Locale l : SUPPORTED) {
                    if (q > bestQ && l.getLanguage().equals(language)) {
                        best = l;
                        bestQ = q;
                    }
                }
            }
            if (best != null) {
                return best;
            }
        }
        return Locale.ENGLISH;
    }
}
