package dev.deputy.broker.console;

import java.util.ArrayList;
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
        if (acceptLanguage != null && !acceptLanguage.isBlank() && acceptLanguage.length() < 500) {
            try {
                List<Locale.LanguageRange> ranges = Locale.LanguageRange.parse(acceptLanguage);
                List<Locale.LanguageRange> byLanguage = new ArrayList<>();
                for (Locale.LanguageRange r : ranges) {
                    String range = r.getRange();
                    int dash = range.indexOf('-');
                    byLanguage.add(new Locale.LanguageRange(dash > 0 ? range.substring(0, dash) : range, r.getWeight()));
                }
                Locale found = Locale.lookup(byLanguage, SUPPORTED);
                if (found != null) {
                    return found;
                }
            } catch (IllegalArgumentException malformed) {
                // a malformed header gets the default language
            }
        }
        return Locale.ENGLISH;
    }
}
