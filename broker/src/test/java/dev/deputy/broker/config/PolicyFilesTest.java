package dev.deputy.broker.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strict parsing of agent, role and resource files: every refusal names the file and the line. */
class PolicyFilesTest {
    @TempDir
    Path dir;

    private Path write(String rel, String yaml) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, yaml);
        return p;
    }

    private ConfigException refused() {
        return assertThrows(ConfigException.class, () -> PolicyFiles.load(dir));
    }

    @Test
    void shippedDemoFilesLoad() {
        Path demo = Path.of("../config/tenants/demo").toAbsolutePath().normalize();
        PolicyFiles f = PolicyFiles.load(demo);
        assertEquals(2, f.agents().size());
        assertEquals("billing-bot", f.agents().get(0).id());
        assertEquals("private_key_jwt", f.agents().get(0).value().authMethod());
        assertEquals("deploy-reader", f.roles().get(0).id());
        assertTrue(f.resources().get(0).value().isDefault());
    }

    @Test
    void unknownKeyInAgentFile() throws IOException {
        Path p = write("agents/a.yml", "environment: dev\nauth_method: private_key_jwt\ncolour: blue\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("unknown key 'colour'"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p + ":3: "), e.getMessage());
    }

    @Test
    void badAuthMethod() throws IOException {
        Path p = write("agents/a.yml", "environment: dev\nauth_method: client_secret_basic\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertTrue(e.line() > 0);
        assertTrue(e.getMessage().contains("auth_method must be one of"), e.getMessage());
    }

    @Test
    void tlsAgentWithKeys() throws IOException {
        write("agents/a.yml", "environment: dev\nauth_method: tls_client_auth\njwks_uri: https://x.example.com/j\n");
        assertTrue(refused().getMessage().contains("agent CA"));
    }

    @Test
    void badIdFromFileName() throws IOException {
        Path p = write("agents/Bad_Name.yml", "environment: dev\nauth_method: private_key_jwt\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("file name"), e.getMessage());
    }

    @Test
    void duplicateIds() throws IOException {
        write("agents/a.yml", "environment: dev\nauth_method: private_key_jwt\n");
        Path b = write("agents/b.yml", "id: a\nenvironment: dev\nauth_method: private_key_jwt\n");
        ConfigException e = refused();
        assertEquals(b, e.file());
        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("already defined"), e.getMessage());
    }

    @Test
    void roleWithoutScopesAndWrongType() throws IOException {
        Path p = write("roles/r.yml", "description: x\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("scopes is required"), e.getMessage());
        Files.writeString(p, "scopes:\n  - a\nenvironments: production\n");
        e = refused();
        assertEquals(3, e.line(), e.getMessage());
    }

    @Test
    void resourceUnknownKeyAndDuplicateUri() throws IOException {
        Path p = write("resources/r.yml", "uri: https://a.example.com\nscope: [a]\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertEquals(2, e.line());
        Files.writeString(p, "uri: https://a.example.com\n");
        Path q = write("resources/s.yml", "uri: https://a.example.com/\n");
        e = refused();
        assertEquals(q, e.file());
        assertEquals(1, e.line());
    }

    @Test
    void brokenYaml() throws IOException {
        Path p = write("agents/a.yml", "environment: dev\nauth_method: [\n");
        ConfigException e = refused();
        assertEquals(p, e.file());
        assertTrue(e.line() >= 2, e.getMessage());
    }
}
