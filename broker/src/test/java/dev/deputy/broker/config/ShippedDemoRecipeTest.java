package dev.deputy.broker.config;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.deputy.broker.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo tenant's user-login recipe ({@code config/tenants/demo/connectors/mock-idp.yml} with {@code scripts/mock-idp})
 * holds together: the mock IdP is not on Deputy's own port, the client and resource the recipe names are registered,
 * and the roles its groups map to exist (each of these once broke the documented login).
 */
class ShippedDemoRecipeTest {
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private final Path demo = ConfigFixture.shipped().resolve("tenants/demo");

    @Test
    void mockIdpIssuerIsThePortScriptsMockIdpUsesAndNotDeputysOwn() throws IOException {
        URI issuer = URI.create((String) connector().get("issuer"));
        assertEquals("127.0.0.1", issuer.getHost(), "the script binds the mock to 127.0.0.1 (its issuer host)");
        assertEquals("/default", issuer.getPath());
        assertNotEquals(8080, issuer.getPort(), "8080 is Deputy's own default port");
        String script = Files.readString(ConfigFixture.shipped().resolveSibling("scripts").resolve("mock-idp"));
        Matcher m = Pattern.compile("(?m)^recipe_port=(\\d+)").matcher(script);
        assertTrue(m.find(), "scripts/mock-idp names the recipe's port");
        assertEquals(Integer.parseInt(m.group(1)), issuer.getPort());
    }

    @Test
    void mappedRolesExist() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> mapping = (Map<String, Object>) connector().get("role_mapping");
        assertFalse(mapping.isEmpty());
        Set<String> roles = names(demo.resolve("roles"));
        for (Object target : mapping.values()) {
            List<?> list = target instanceof List<?> l ? l : List.of(target);
            for (Object role : list) {
                assertTrue(roles.contains(role.toString()), "role_mapping names role '" + role + "'; roles: " + roles);
            }
        }
    }

    @Test
    void clientAndResourceOfTheDocumentedAuthorizeRequestAreRegistered() throws IOException {
        String recipe = Files.readString(demo.resolve("connectors/mock-idp.yml"));
        Matcher c = Pattern.compile("client_id=([A-Za-z0-9._-]+)").matcher(recipe);
        assertTrue(c.find(), recipe);
        Map<String, Object> client = read(demo.resolve("clients/" + c.group(1) + ".yml"));
        assertEquals(c.group(1), client.get("client_id"));
        assertEquals("none", client.get("token_endpoint_auth_method"), "a public client: the recipe sends no secret");
        Matcher r = Pattern.compile("redirect_uri=(http://127\\.0\\.0\\.1):\\d+(/[^&\\s]*)").matcher(recipe);
        assertTrue(r.find(), recipe);
        // loopback: the port is ignored (RFC 8252 §7.3), the rest must match a registered URI
        assertTrue(((List<?>) client.get("redirect_uris")).contains(r.group(1) + r.group(2)), client.toString());

        Matcher res = Pattern.compile("resource=(\\S+?)(?:&|\\s|$)").matcher(recipe);
        assertTrue(res.find(), recipe);
        Matcher scope = Pattern.compile("scope=(\\S+?)(?:&|\\s|$)").matcher(recipe);
        assertTrue(scope.find(), recipe);
        boolean found = false;
        for (Path f : files(demo.resolve("resources"))) {
            Map<String, Object> resource = read(f);
            if (res.group(1).equals(resource.get("uri"))) {
                found = true;
                assertTrue(((List<?>) resource.get("scopes")).contains(scope.group(1)), resource.toString());
            }
        }
        assertTrue(found, "resource " + res.group(1) + " is registered");
    }

    private Map<String, Object> connector() throws IOException {
        return read(demo.resolve("connectors/mock-idp.yml"));
    }

    private static Map<String, Object> read(Path file) throws IOException {
        return YamlFiles.mapper().readValue(file.toFile(), MAP);
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
        }
    }

    private static Set<String> names(Path dir) throws IOException {
        return files(dir).stream().map(p -> p.getFileName().toString().replaceFirst("\\.yml$", ""))
                .collect(Collectors.toSet());
    }
}
