package dev.deputy.broker.console;

import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LocalesTest {
    @Test
    void uiLocalesFirstSupportedTagWins() {
        assertEquals(Locale.GERMAN, Locales.choose("fr-CA de-AT en", "en"));
        assertEquals(Locale.ENGLISH, Locales.choose("en-GB de", "de"));
    }

    @Test
    void acceptLanguageByWeightThenEnglish() {
        assertEquals(Locale.GERMAN, Locales.choose(null, "fr;q=1, de-CH;q=0.8, en;q=0.3"));
        assertEquals(Locale.ENGLISH, Locales.choose(null, "fr, it"));
        assertEquals(Locale.ENGLISH, Locales.choose("  ", null));
        assertEquals(Locale.ENGLISH, Locales.choose("x-bogus-#", ";;;q=abc"));
        assertEquals(Locale.ENGLISH, Locales.choose(null, "de;q=0"));
        // what headless Chromium sends for --accept-lang=de-DE,de;q=0.9: a repeated q, read leniently
        assertEquals(Locale.GERMAN, Locales.choose(null, "de-DE,de;q=0.9,de;q=0.9;q=0.8"));
        assertEquals(Locale.ENGLISH, Locales.choose(null, "fr;q=0.9, en;q=0.8, de;q=0.7"));
    }
}
