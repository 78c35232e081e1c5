package dev.deputy.broker.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker's own config messages (start-up and apply, issue 17): the operator's words, never a Java type; a typo'd
 * key with the nearest known one; the line of the offending key; UTF-8 text (§, quotes) kept as written.
 */
class ConfigMessagesTest {
    @TempDir
    Path tmp;

    private ConfigException refused(Class<?> type, String name, String yaml) throws Exception {
        Path f = tmp.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> YamlFiles.read(f, type));
        assertFalse(e.getMessage().contains("java.") || e.getMessage().contains("`") || e.getMessage().contains("Exception"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e;
    }

    @Test
    void typoInAKeyNamesTheNearestKnownOne() throws Exception {
        ConfigException e = refused(TenantFile.class, "tenant.yml", "display_name: Demo\n\nacess_token_ttl: 5m\n");
        assertEquals(3, e.line());
        assertTrue(e.getMessage().endsWith(": unknown key 'acess_token_ttl' (did you mean 'access_token_ttl'?)"), e.getMessage());
        e = refused(AgentFile.class, "agents/a.yml", "environment: dev\nauth_method: tls_client_auth\nrole: [x]\n");
        assertTrue(e.getMessage().endsWith("unknown key 'role' (did you mean 'roles'?)"), e.getMessage());
        // nothing close: the known keys, without brackets
        e = refused(RoleFile.class, "roles/r.yml", "scopes: [a]\ncolour: blue\n");
        assertTrue(e.getMessage().endsWith("unknown key 'colour' (known keys: description, environments, name, privileged, scopes)"), e.getMessage());
    }

    @Test
    void wrongTypesInPlainWords() throws Exception {
        ConfigException e = refused(AgentFile.class, "agents/a.yml", "environment: dev\nauth_method: tls_client_auth\nroles: deploy-reader\n");
        assertEquals(3, e.line());
        assertTrue(e.getMessage().endsWith(": expected a list, not a string (at roles)"), e.getMessage());
        e = refused(TenantFile.class, "tenant.yml", "display_name: Demo\nsigning_alg:\n  - ES256\n");
        assertTrue(e.getMessage().endsWith(": expected a string, not a list (at signing_alg)"), e.getMessage());
        e = refused(TenantFile.class, "tenant.yml", "display_name: Demo\ndormancy: 90d\n");
        assertTrue(e.getMessage().contains("expected a mapping (key: value)"), e.getMessage());
        e = refused(TenantFile.class, "tenant.yml", "display_name: Demo\ndormancy:\n  auto_suspend: [yes]\n");
        assertTrue(e.getMessage().contains("expected true or false, not a list (at dormancy.auto_suspend)"), e.getMessage());
    }

    @Test
    void ownReasonsKeepTheirWordsWithoutJacksonsPreamble() throws Exception {
        ConfigException e = refused(TenantFile.class, "tenant.yml", "display_name: Demo\naccess_token_ttl: 5 minutes\n");
        assertEquals(2, e.line());
        assertTrue(e.getMessage().endsWith(": not a duration: '5 minutes' (use e.g. 300s, 5m, 24h or 30d) (at access_token_ttl)"),
                e.getMessage());
        e = refused(dev.deputy.broker.policy.PolicyFile.class, "policies/p.yml",
                "delegation:\n  - id: r\n    effect: maybe\n    agents: [a]\n    resources: ['*']\n");
        assertTrue(e.getMessage().contains("'maybe' is not one of [allow, deny]"), e.getMessage());
    }

    @Test
    void utf8TextIsKeptAsWritten() throws Exception {
        ConfigException e = refused(TenantFile.class, "tenant.yml", "display_name: \"Zoë's tenant\"\nsigning_alg: \"HS256 § “x”\"\n");
        assertTrue(e.getMessage().contains(":2: signing_alg 'HS256 § “x”' is not supported"), e.getMessage());
    }

    @Test
    void yamlSyntaxErrorsOfAnyFileKindHaveFileAndLine() throws Exception {
        // connectors are read as maps: the same one-line syntax report as every record-typed file
        ConfigException e = refused(Map.class, "connectors/okta.yml", "id: okta\ntype: okta\n  issuer: https://x\n");
        assertEquals(tmp.resolve("connectors/okta.yml"), e.file());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("mapping values are not allowed here"), e.getMessage());
    }

    @Test
    void unknownKeySuggestionsAreTyposNotGuesses() {
        assertEquals("unknown key 'rol_mapping' (did you mean 'role_mapping'?)",
                YamlFiles.unknownKey("rol_mapping", List.of("role_mapping", "scopes", "claims")));
        assertEquals("unknown key 'scpoes' (did you mean 'scopes'?)", YamlFiles.unknownKey("scpoes", List.of("role_mapping", "scopes")));
        assertEquals("unknown key 'flavour' (known keys: name, owner)", YamlFiles.unknownKey("flavour", List.of("name", "owner")));
    }
}
