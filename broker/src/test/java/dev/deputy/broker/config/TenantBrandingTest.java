package dev.deputy.broker.config;

import org.junit.jupiter.api.Test;

import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tenant.yml {@code branding:}: colours go into a style sheet and the logo into an img src, so both are strict. */
class TenantBrandingTest {
    static TenantFile.BrandingFile b(String logo, String primary) {
        return new TenantFile.BrandingFile(logo, primary, null, null);
    }

    @Test
    void acceptsRgbHexColoursHttpsLogosAndDataImages() {
        b("https://cdn.acme.example/logo.svg", "#0b5394");
        b("data:image/png;base64," + Base64.getEncoder().encodeToString(new byte[300]), "#ABCDEF");
        b("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", null);
    }

    @Test
    void refusesAnythingElse() {
        for (String colour : new String[]{"red", "#fff", "#12345g", "#123456;}body{display:none", "rgb(1,2,3)", "#1234567"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b(null, colour), colour);
            assertTrue(e.getMessage().startsWith("branding.primary_color"), e.getMessage());
        }
        for (String logo : new String[]{"http://cdn.acme.example/logo.png", "javascript:alert(1)", "//cdn.acme.example/x.png",
                "data:text/html;base64,PGI+", "data:image/svg+xml,<svg onload=alert(1)>", "https://user:pw@cdn.example/x.png",
                "https:///nohost", "https://cdn.example/a b.png"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b(logo, null), logo);
            assertTrue(e.getMessage().startsWith("branding.logo_url"), e.getMessage());
        }
    }

    @Test
    void aBadBrandingStopsTheConfigLoadWithFileAndKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> YamlFiles.read(
                write("display_name: Acme\nbranding:\n  primary_color: blue\n"), TenantFile.class));
        assertTrue(e.getMessage().contains("primary_color"), e.getMessage());
        assertEquals("#0b5394", YamlFiles.read(write("display_name: Acme\nbranding:\n  primary_color: \"#0b5394\"\n"),
                TenantFile.class).branding().primaryColor());
    }

    static java.nio.file.Path write(String yaml) {
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("tenant", ".yml");
            java.nio.file.Files.writeString(f, yaml);
            f.toFile().deleteOnExit();
            return f;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
