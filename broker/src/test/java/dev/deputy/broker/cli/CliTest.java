package dev.deputy.broker.cli;

import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.admin.ManageBroker;
import dev.deputy.broker.admin.TestKeys;
import dev.deputy.broker.agent.AgentChanges;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Cli} run in-process against a started broker (and, for {@code agent cert}, a stand-in CA endpoint). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {
    ManageBroker broker;
    Map<String, String> env;
    final List<String> changes = new CopyOnWriteArrayList<>();

    record Run(int code, String out, String err) {
    }

    Run cli(String... args) {
        return cli(env, args);
    }

    static Run cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    void start() {
        broker = ManageBroker.start(false);
        broker.bean(AgentChanges.class).listen((t, a) -> changes.add(t + "/" + a));
        env = Map.of("DEPUTY_DATA_DIR", broker.dataDir().toString(), "DEPUTY_URL", broker.url());
        assertEquals(201, broker.post("/admin/t/demo/roles", "{\"name\":\"reader\",\"scopes\":[\"r\"]}").statusCode());
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @Test
    void createListSuspendShowRevoke(@TempDir Path tmp) throws Exception {
        Path jwks = Files.writeString(tmp.resolve("jwks.json"), TestKeys.publicJwks());
        Run r = cli("agent", "create", "cli-bot", "--env", "staging", "--role", "reader", "--auth-method", "private_key_jwt",
                "--jwks", jwks.toString(), "--owner", "alice@example.com", "--metadata", "team=ops");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("created agent cli-bot"), r.out());
        assertTrue(r.out().contains("jwks"), r.out());

        r = cli("agent", "list");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("cli-bot") && l.contains("active") && l.contains("reader")), r.out());

        r = cli("agent", "suspend", "cli-bot", "--reason", "testing");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("suspended agent cli-bot"), r.out());

        r = cli("--json", "agent", "show", "cli-bot");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> shown = ManageBroker.json(r.out());
        assertEquals("suspended", shown.get("status"));
        assertEquals(Map.of("team", "ops"), shown.get("metadata"));

        r = cli("agent", "list", "--status", "suspended", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"cli-bot\""), r.out());

        changes.clear();
        r = cli("agent", "revoke", "cli-bot");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("status        revoked"), r.out());
        assertTrue(changes.contains("demo/cli-bot"), "revoking through the CLI fires AgentChanges");
        assertTrue(broker.lastAudit("demo", "agent.revoked", "cli-bot").details().contains("\"actor\":\"admin:admin\""));

        // refused by the broker: exit 1 with its description; bad usage: exit 2
        r = cli("agent", "revoke", "cli-bot");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is revoked") && r.err().contains("conflict"), r.err());
        assertEquals(1, cli("agent", "show", "nope").code());
        assertEquals(2, cli("agent", "frobnicate", "x").code());
        assertEquals(2, cli("agent", "show").code());
        assertEquals(2, cli("agent", "list", "--colour", "red").code());
        assertEquals(2, cli().code());
        assertEquals(0, cli("--help").code());

        // nothing printed ever holds the admin secret or a token
        String secret = broker.adminCredentials().get("client_secret");
        for (Run x : List.of(cli("agent", "list"), cli("--json", "agent", "show", "cli-bot"), cli("agent", "show", "nope"))) {
            assertFalse(x.out().contains(secret) || x.err().contains(secret));
            assertFalse(x.out().contains("dpa_") || x.err().contains("dpa_"));
        }
    }

    @Test
    void rolesAndResources() {
        Run r = cli("role", "create", "ops", "--scope", "ops:read", "--scope", "ops:write", "--description", "Ops");
        assertEquals(0, r.code(), r.err());
        r = cli("role", "list");
        assertTrue(r.out().contains("ops:read ops:write"), r.out());
        r = cli("resource", "add", "https://mcp.example.com/ops", "--id", "ops", "--scope", "ops:read", "--default");
        assertEquals(0, r.code(), r.err());
        r = cli("resource", "list");
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("ops") && l.contains("yes")), r.out());
        assertEquals(0, cli("resource", "remove", "ops").code());
        assertEquals(0, cli("role", "remove", "ops").code());
        assertEquals(1, cli("role", "remove", "ops").code());
    }

    /** Issue 13: identifiers the former secret guard refused go through the CLI with their audit entries. */
    @Test
    void hostileIdentifiersThroughTheCli(@TempDir Path tmp) throws Exception {
        String role = "payments.settlement.approvers";
        String agent = "payments.settlement.reconciler";
        String owner = "00u/ä+ |x";
        Run r = cli("role", "create", role, "--scope", "inventory.warehouse.read", "--description", "approvers of " + owner);
        assertEquals(0, r.code(), r.err());
        r = cli("resource", "add", "https://inventory.warehouse.example/mcp", "--id", "inventory.warehouse.example",
                "--scope", "inventory.warehouse.read");
        assertEquals(0, r.code(), r.err());
        Path jwks = Files.writeString(tmp.resolve("jwks.json"), TestKeys.publicJwks());
        r = cli("agent", "create", agent, "--env", "staging", "--role", role, "--auth-method", "private_key_jwt",
                "--jwks", jwks.toString(), "--owner", owner, "--metadata", "team=jonathan.christopher.williams");
        assertEquals(0, r.code(), r.err());
        r = cli("agent", "suspend", agent, "--reason", "owner jonathan.christopher.williams left");
        assertEquals(0, r.code(), r.err());
        r = cli("agent", "show", agent);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(owner), r.out());

        // the trail, as text: details printed as JSON, identifiers as they are
        Run q = cli("audit", "query", "--agent", agent);
        assertEquals(0, q.code(), q.err());
        String created = q.out().lines().filter(l -> l.contains("agent.created")).findFirst().orElseThrow(() -> new AssertionError(q.out()));
        assertTrue(created.contains("agent=" + agent), created);
        assertTrue(created.contains("\"owner\":\"" + owner + "\""), created);
        assertTrue(q.out().lines().anyMatch(l -> l.contains("agent.suspended")
                && l.contains("\"reason\":\"owner jonathan.christopher.williams left\"")), q.out());
        // and as JSON: details is an object, every field present
        r = cli("audit", "query", "--agent", agent, "--json");
        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) ManageBroker.json(r.out()).get("entries");
        Map<String, Object> first = entries.get(0);
        assertEquals("agent.created", first.get("type"));
        assertTrue(first.containsKey("subject") && first.get("subject") == null, first.toString());
        assertEquals(List.of(), first.get("actor_chain"));
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) ((Map<String, Object>) first.get("details")).get("after");
        assertEquals(owner, after.get("owner"));
        assertEquals(List.of(role), after.get("roles"));
        assertEquals(0, cli("resource", "remove", "inventory.warehouse.example").code());
        assertEquals(0, cli("agent", "revoke", agent).code());
        r = cli("audit", "query", "--type", "resource.deleted,agent.revoked", "--json");
        assertTrue(r.out().contains("inventory.warehouse.example") && r.out().contains(agent), r.out());
        assertEquals(0, cli("audit", "verify").code());
    }

    @Test
    void applyDryRunAndApply(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("tenants/demo");
        ManageBroker.write(dir.resolve("broker.yml"), "default_tenant: demo\n");
        ManageBroker.write(t.resolve("roles/viewer.yml"), "scopes: [v:read]\n");
        ManageBroker.write(t.resolve("agents/apply-bot.yml"), "environment: dev\nauth_method: tls_client_auth\nroles: [viewer]\n");
        Run r = cli("apply", "--dry-run", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("create role viewer"), r.out());
        assertTrue(r.out().contains("create agent apply-bot"), r.out());
        assertTrue(r.out().contains("dry run: nothing changed"), r.out());
        assertEquals(404, broker.get("/admin/t/demo/agents/apply-bot").statusCode());

        r = cli("apply", t.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("applied"), r.out());
        assertEquals(200, broker.get("/admin/t/demo/agents/apply-bot").statusCode());

        ManageBroker.write(t.resolve("agents/broken.yml"), "environment: dev\nauth_method: nope\n");
        r = cli("apply", "--dry-run", t.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("agents/broken.yml:"), r.err());
    }

    @Test
    void credentialsFromEnvironmentAndErrors() {
        Map<String, String> creds = broker.adminCredentials();
        Map<String, String> e = new HashMap<>();
        e.put("DEPUTY_URL", broker.url());
        e.put("DEPUTY_ADMIN_CLIENT_ID", creds.get("client_id"));
        e.put("DEPUTY_ADMIN_CLIENT_SECRET", creds.get("client_secret"));
        e.put("DEPUTY_DATA_DIR", "/nonexistent");
        assertEquals(0, cli(e, "agent", "list").code());
        e.put("DEPUTY_ADMIN_CLIENT_SECRET", "Zq9-not-the-secret");
        Run r = cli(e, "agent", "list");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("admin login failed"), r.err());
        assertFalse(r.err().contains("Zq9-not-the-secret"));
        r = cli(Map.of("DEPUTY_DATA_DIR", "/nonexistent"), "agent", "list");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no admin credentials"), r.err());
        // the url from the credentials file, when DEPUTY_URL is unset
        assertEquals(0, cli(Map.of("DEPUTY_DATA_DIR", broker.dataDir().toString()), "agent", "list").code());
    }

    /** agent cert: key pair and CSR here, POST to the runtime's certificates endpoint (a stand-in), files written. */
    @Test
    void agentCertWritesKeyAndCertificates(@TempDir Path out) throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        HttpServer ca = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String pem = TestKeys.pem(TestKeys.selfSigned("stand-in"));
        ca.createContext("/admin/token", x -> {
            byte[] b = "{\"access_token\":\"dpa_x\",\"token_type\":\"Bearer\",\"expires_in\":900}".getBytes();
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        ca.createContext("/admin/t/demo/agents/", x -> {
            seen.set(x.getRequestMethod() + " " + x.getRequestURI().getPath() + " "
                    + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            String body = ManageBroker.JSON.writeValueAsString(Map.of("certificate", pem, "ca", pem, "serial", "0a1b",
                    "not_after", "2030-01-01T00:00:00Z", "thumbprint", "abc"));
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.getBytes().length);
            x.getResponseBody().write(body.getBytes());
            x.close();
        });
        ca.start();
        try {
            Map<String, String> e = Map.of("DEPUTY_URL", "http://127.0.0.1:" + ca.getAddress().getPort(),
                    "DEPUTY_ADMIN_CLIENT_ID", "admin", "DEPUTY_ADMIN_CLIENT_SECRET", "s");
            Run r = cli(e, "agent", "cert", "deploy-bot", "--out", out.toString(), "--ttl", "24h");
            assertEquals(0, r.code(), r.err());
            assertTrue(seen.get().startsWith("POST /admin/t/demo/agents/deploy-bot/certificates "), seen.get());
            Map<String, Object> req = ManageBroker.json(seen.get().substring(seen.get().indexOf('{')));
            assertEquals("24h", req.get("ttl"));
            assertEquals(false, req.get("rotate"));
            PKCS10CertificationRequest csr = new PKCS10CertificationRequest(
                    new PemReader(new StringReader((String) req.get("csr"))).readPemObject().getContent());
            assertEquals("CN=deploy-bot", csr.getSubject().toString());
            Path key = out.resolve("deploy-bot.key");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
            assertEquals(pem, Files.readString(out.resolve("deploy-bot.crt")));
            assertTrue(Files.exists(out.resolve("ca.crt")));
            assertTrue(r.out().contains("0a1b") && !r.out().contains("PRIVATE KEY"), r.out());
        } finally {
            ca.stop(0);
        }
    }
}
