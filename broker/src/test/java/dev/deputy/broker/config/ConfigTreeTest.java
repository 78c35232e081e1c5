package dev.deputy.broker.config;

import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.testing.ConfigFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading the operator's config tree: defaults, overrides, and bad files reported by path, line and reason. */
class ConfigTreeTest {
    @TempDir
    Path tmp;

    ConfigFixture tree() {
        return ConfigFixture.at(tmp.resolve("config"));
    }

    /** Loads a tree with one tenant file and expects a ConfigException naming that file. */
    ConfigException badTenant(String yaml) {
        Path root = tree().broker("default_tenant: demo\n").tenant("demo", yaml).root();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.load(root));
        Path file = root.resolve("tenants/demo/tenant.yml");
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file + ":"), e.getMessage());
        return e;
    }

    static void assertLine(ConfigException e, int line, String reasonPart) {
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(":" + line + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(reasonPart), e.getMessage());
    }

    @Test
    void shippedConfigLoads() {
        ConfigTree t = ConfigTree.load(ConfigFixture.shipped());
        assertEquals("demo", t.broker().defaultTenant());
        Tenant demo = t.tenants().get("demo");
        assertEquals("Demo tenant", demo.displayName());
        assertEquals("ES256", demo.signingAlg());
        assertEquals(Duration.ofMinutes(5), demo.accessTokenTtl());
        assertEquals(Duration.ofDays(30), demo.keyRotationPeriod());
        assertEquals(Duration.ofDays(1), demo.keyPrepublish());
    }

    @Test
    void tenantsTakeBrokerDefaultsUnlessTheyOverride() {
        Path root = tree()
                .broker("defaults:\n  signing_alg: RS256\n  access_token_ttl: 10m\n  key_rotation_period: 7d\n  key_prepublish: 12h\n")
                .tenant("plain", "display_name: Plain\n")
                .tenant("own", "display_name: Own\nsigning_alg: EdDSA\naccess_token_ttl: PT90S\nkey_rotation_period: 48h\nkey_prepublish: 3600s\n")
                .root();
        ConfigTree t = ConfigTree.load(root);
        Tenant plain = t.tenants().get("plain");
        assertEquals("RS256", plain.signingAlg());
        assertEquals(Duration.ofMinutes(10), plain.accessTokenTtl());
        assertEquals(Duration.ofDays(7), plain.keyRotationPeriod());
        assertEquals(Duration.ofHours(12), plain.keyPrepublish());
        Tenant own = t.tenants().get("own");
        assertEquals("EdDSA", own.signingAlg());
        assertEquals(Duration.ofSeconds(90), own.accessTokenTtl());
        assertEquals(Duration.ofHours(48), own.keyRotationPeriod());
        assertEquals(Duration.ofHours(1), own.keyPrepublish());
        assertEquals(root.resolve("tenants/own"), own.configDir());
        assertEquals("demo", t.broker().defaultTenant(), "default_tenant defaults to demo");
    }

    @Test
    void brokerYmlIsOptional() {
        Path root = tree().tenant("solo", "display_name: Solo\n").root();
        assertEquals(Duration.ofMinutes(5), ConfigTree.load(root).tenants().get("solo").accessTokenTtl());
    }

    @Test
    void unknownKey() {
        assertLine(badTenant("display_name: Demo\nsigning_alg: ES256\ncolour: blue\n"), 3, "unknown key 'colour'");
    }

    @Test
    void wrongType() {
        assertLine(badTenant("display_name: Demo\nsigning_alg:\n  - ES256\n  - RS256\n"), 2, "signing_alg");
    }

    @Test
    void badDuration() {
        assertLine(badTenant("display_name: Demo\naccess_token_ttl: 5 minutes\n"), 2, "5 minutes");
        assertLine(badTenant("display_name: Demo\n\nkey_prepublish: 3w\n"), 3, "unknown duration unit");
    }

    @Test
    void missingDisplayName() {
        assertLine(badTenant("signing_alg: ES256\naccess_token_ttl: 5m\n"), 1, "display_name is required");
    }

    @Test
    void unsupportedAlgorithm() {
        assertLine(badTenant("display_name: Demo\nsigning_alg: HS256\naccess_token_ttl: 5m\n"), 2, "signing_alg 'HS256' is not supported");
    }

    @Test
    void invalidYamlSyntax() {
        assertLine(badTenant("display_name: Demo\n  signing_alg: ES256\n"), 2, "mapping values are not allowed here");
        assertLine(badTenant("display_name: Demo\n\tsigning_alg: ES256\n"), 2, "cannot start any token");
        assertLine(badTenant("display_name: Demo\nsigning_alg: \"ES256\naccess_token_ttl: 5m\n"), 4, "quoted scalar");
        ConfigException e = badTenant("display_name: Demo\n\tsigning_alg: ES256\n");
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
    }

    @Test
    void keyLinesAreFoundWhereverTheKeyIs() {
        assertLine(badTenant("display_name: Demo\ncolour: blue\nsigning_alg: ES256\n"), 2, "unknown key 'colour'");
        assertLine(badTenant("# comment\n\ncolour:\n  - a\n  - b\ndisplay_name: Demo\n"), 3, "unknown key 'colour'");
        assertLine(badTenant("display_name: Demo\nsigning_alg: HS256\n\n\n"), 2, "signing_alg 'HS256' is not supported");
        assertLine(badTenant("display_name:\n  nested: map\n"), 1, "display_name");
    }

    @Test
    void emptyFile() {
        assertTrue(badTenant("").getMessage().endsWith(": the file is empty"));
        assertTrue(badTenant("# only a comment\n\n").getMessage().endsWith(": the file is empty"));
    }

    @Test
    void tenantFolderWithoutTenantYml() throws Exception {
        Path root = tree().tenant("good", "display_name: Good\n").root();
        Files.createDirectories(root.resolve("tenants/lonely/agents"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.load(root));
        assertEquals(root.resolve("tenants/lonely/tenant.yml"), e.file());
        assertTrue(e.getMessage().startsWith(root.resolve("tenants/lonely/tenant.yml") + ": missing"), e.getMessage());
    }

    @Test
    void badTenantFolderName() {
        Path root = tree().tenant("Bad_Name", "display_name: Bad\n").root();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.load(root));
        assertTrue(e.getMessage().contains("Bad_Name") && e.getMessage().contains("must match"), e.getMessage());
    }

    @Test
    void noTenantsOrNoConfigDir() {
        Path root = tree().broker("default_tenant: demo\n").root();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.load(root));
        assertTrue(e.getMessage().contains("no tenants"), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigTree.load(tmp.resolve("nowhere")));
        assertTrue(missing.getMessage().contains("DEPUTY_CONFIG_DIR"), missing.getMessage());
    }

    @Test
    void badBrokerYml() {
        Path root = tree().broker("defaults:\n  signing_alg: ES256\n  access_tokn_ttl: 5m\n").tenant("demo", "display_name: D\n").root();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.load(root));
        assertEquals(root.resolve("broker.yml"), e.file());
        assertLine(e, 3, "unknown key 'access_tokn_ttl'");

        Path root2 = tmp.resolve("c2");
        ConfigFixture.at(root2).broker("defaults:\n  key_rotation_period: 1d\n  key_prepublish: 2d\n").tenant("demo", "display_name: D\n");
        ConfigException e2 = assertThrows(ConfigException.class, () -> ConfigTree.load(root2));
        assertLine(e2, 3, "key_prepublish must be shorter than key_rotation_period");

        Path root3 = tmp.resolve("c3");
        ConfigFixture.at(root3).broker("defaults:\n  access_token_ttl: 2d\n").tenant("demo", "display_name: D\n");
        ConfigException e3 = assertThrows(ConfigException.class, () -> ConfigTree.load(root3));
        assertLine(e3, 2, "access_token_ttl must be between 1s and 24h");
    }

    @ParameterizedTest
    @CsvSource({"300s,PT5M", "5m,PT5M", "24h,PT24H", "30d,PT720H", "PT5M,PT5M", "pt90s,PT1M30S", "0s,PT0S", " 7d ,PT168H"})
    void durationSyntax(String text, String iso) {
        assertEquals(Duration.parse(iso), DurationDeserializer.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"5", "5x", "-5m", "m", "five minutes", "''", "1.5h"})
    void badDurations(String text) {
        assertThrows(IllegalArgumentException.class, () -> DurationDeserializer.parse(text));
    }
}
