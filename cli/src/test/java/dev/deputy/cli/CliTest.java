package dev.deputy.cli;

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

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.io.BufferedReader;
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

/** {@link Deputy} run in-process against a started broker (and, for {@code agent cert}, a stand-in CA endpoint). */
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
        int code = Deputy.run(args, new Io(env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), null, false));
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
    void leastPrivilegeTableShowsScopesAndToolsGrantedVersusUsedAndTheChange(@TempDir Path tmp) throws Exception {
        String id = "lp.reconciler.bot";
        assertEquals(201, broker.post("/admin/t/demo/roles", "{\"name\":\"lp.reader\",\"scopes\":[\"files:read\",\"files:list\"]}")
                .statusCode());
        Path jwks = Files.writeString(tmp.resolve("jwks.json"), TestKeys.publicJwks());
        assertEquals(0, cli("agent", "create", id, "--env", "prod", "--role", "lp.reader", "--auth-method", "private_key_jwt",
                "--jwks", jwks.toString(), "--owner", "zoë.ångström@example.com").code());
        Path policies = Files.createDirectories(tmp.resolve("policies"));
        Files.writeString(policies.resolve("tools.yml"), """
                tools:
                  rules:
                    - {id: read-only, effect: permit, tools: ["get_*", "überweisung_prüfen"]}
                    - {id: bot-transfers, effect: permit, tools: [transfer_funds, refund], actors: {agents: [lp.reconciler.bot]}}
                    - {id: someone-else, effect: permit, tools: [delete_everything], actors: {agents: [other.bot]}}
                """);
        dev.deputy.broker.policy.Policies ps = broker.bean(dev.deputy.broker.policy.Policies.class);
        dev.deputy.policy.ToolPolicy before = ps.tools("demo");
        ps.replaceTools("demo", dev.deputy.broker.policy.Policies.loadTools(policies));
        try {
            dev.deputy.broker.audit.AuditLog log = broker.bean(dev.deputy.broker.audit.AuditLog.class);
            log.appendAll(List.of(
                    ev("token.issued", dev.deputy.broker.audit.AuditEvent.Outcome.SUCCESS).agent(id).client(id)
                            .scopes("files:read").build(),
                    ev("tool.call", dev.deputy.broker.audit.AuditEvent.Outcome.SUCCESS).agent(id)
                            .detail("tool", "überweisung_prüfen").detail("status", "ok").build(),
                    ev("policy.decision", dev.deputy.broker.audit.AuditEvent.Outcome.ALLOW).agent(id).actors(List.of(id))
                            .subject("jonathan.christopher.williams", "https://idp.example.com/").detail("kind", "tool")
                            .detail("tool", "transfer_funds").detail("effect", "permit").build(),
                    ev("policy.decision", dev.deputy.broker.audit.AuditEvent.Outcome.DENY).agent(id).actors(List.of(id))
                            .subject("jonathan.christopher.williams", "https://idp.example.com/").detail("kind", "tool")
                            .detail("tool", "refund").detail("effect", "deny").build()));
            Run r = cli("agent", "least-privilege", id, "--since", "1h");
            assertEquals(0, r.code(), r.err());
            List<String> lines = r.out().lines().toList();
            assertEquals(2, lines.size(), r.out());
            assertEquals(List.of("AGENT", "SCOPES GRANTED", "SCOPES USED", "SCOPES UNUSED", "TOOLS GRANTED", "TOOLS USED",
                    "TOOLS UNUSED", "CHANGE"), List.of(lines.get(0).trim().split(" {2,}")), r.out());
            assertEquals(List.of(id, "files:list files:read", "files:read", "files:list",
                    "get_* überweisung_prüfen transfer_funds refund", "transfer_funds überweisung_prüfen", "get_* refund",
                    "narrow lp.reader to files:read; narrow tool rule read-only to überweisung_prüfen; narrow tool rule"
                            + " bot-transfers to transfer_funds"), List.of(lines.get(1).trim().split(" {2,}")), r.out());
            // the admin API's answer as it is
            Run json = cli("agent", "least-privilege", id, "--since", "1h", "--output", "json");
            assertEquals(0, json.code(), json.err());
            Map<String, Object> m = ManageBroker.json(json.out());
            assertEquals(List.of("get_*", "refund"), m.get("tools_unused"));
        } finally {
            ps.replaceTools("demo", before);
        }
    }

    static dev.deputy.broker.audit.AuditEvent.Builder ev(String type, dev.deputy.broker.audit.AuditEvent.Outcome o) {
        return dev.deputy.broker.audit.AuditEvent.of("demo", type, o);
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
        assertEquals(2, r.code(), "no terminal and no --yes: refused");
        assertTrue(r.err().contains("pass --yes"), r.err());
        assertTrue(changes.isEmpty(), "nothing revoked without confirmation");
        r = cli("agent", "revoke", "cli-bot", "--yes");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("status        revoked"), r.out());
        assertTrue(changes.contains("demo/cli-bot"), "revoking through the CLI fires AgentChanges");
        assertTrue(broker.lastAudit("demo", "agent.revoked", "cli-bot").details().contains("\"actor\":\"admin:admin\""));

        // refused by the broker: its description in the one error format, exit 4 (conflict) / 3 (not found)
        r = cli("agent", "revoke", "cli-bot", "-y");
        assertEquals(4, r.code(), r.err());
        assertTrue(r.err().startsWith("deputy: ") && r.err().contains("is revoked") && r.err().contains("(conflict, HTTP 409)"), r.err());
        r = cli("agent", "show", "nope");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().startsWith("deputy: ") && r.err().contains("HTTP 404)"), r.err());
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
        assertEquals(0, cli("resource", "remove", "ops", "--yes").code());
        assertEquals(0, cli("role", "remove", "ops", "--yes").code());
        assertEquals(3, cli("role", "remove", "ops", "--yes").code());
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
        assertEquals(0, cli("resource", "remove", "inventory.warehouse.example", "--yes").code());
        assertEquals(0, cli("agent", "revoke", agent, "--yes").code());
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
        // the problem on stdout as file:line: reason, the file in the operator's folder; the summary on stderr
        assertTrue(r.out().startsWith(t.resolve("agents/broken.yml") + ":"), r.out());
        assertTrue(r.err().contains("1 problem in the files of " + t), r.err());

        // a plan that revokes: shown, then refused without a terminal and without --yes; applied with --yes
        Files.delete(t.resolve("agents/broken.yml"));
        Files.delete(t.resolve("agents/apply-bot.yml"));
        r = cli("apply", t.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("revoke agent apply-bot") && r.err().contains("pass --yes"), r.err());
        assertEquals("active", ManageBroker.json(broker.get("/admin/t/demo/agents/apply-bot").body()).get("status"));
        r = cli("apply", t.toString(), "--yes");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("revoked", ManageBroker.json(broker.get("/admin/t/demo/agents/apply-bot").body()).get("status"));
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
        assertTrue(r.err().contains("admin sign-in failed"), r.err());
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

    Run cliTty(String answer, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Deputy.run(args, new Io(env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new BufferedReader(new StringReader(answer + "\n")), true));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void confirmationAtATerminal(@TempDir Path tmp) throws Exception {
        assertEquals(0, cli("resource", "add", "https://mcp.example.com/%C3%BCn%C3%AFcode/ops.v2", "--id", "confirm.me", "--scope", "c:r").code());
        Run r = cliTty("n", "resource", "remove", "confirm.me");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("remove resource confirm.me? [y/N]") && r.err().contains("not confirmed"), r.err());
        assertEquals(200, broker.get("/admin/t/demo/resources/confirm.me").statusCode(), "still there");
        r = cliTty("yes", "resource", "remove", "confirm.me");
        assertEquals(0, r.code(), r.err());
        assertEquals(404, broker.get("/admin/t/demo/resources/confirm.me").statusCode());
    }

    @Test
    void outputFormatsParse() throws Exception {
        assertEquals(0, cli("role", "create", "fmt.role", "--scope", "fmt:read fmt:write").code());
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (String[] cmd : List.of(new String[]{"agent", "list"}, new String[]{"role", "list"}, new String[]{"role", "show", "fmt.role"},
                new String[]{"resource", "list"}, new String[]{"client", "list"}, new String[]{"connector", "list"},
                new String[]{"consent", "list"}, new String[]{"audit", "query", "--limit", "5"}, new String[]{"audit", "verify"},
                new String[]{"audit", "checkpoints"})) {
            List<String> args = new java.util.ArrayList<>(List.of(cmd));
            args.addAll(List.of("-o", "json"));
            Run j = cli(args.toArray(String[]::new));
            assertEquals(0, j.code(), List.of(cmd) + j.err());
            Map<String, Object> asJson = ManageBroker.JSON.readValue(j.out(), new TypeReference<>() {
            });
            args.set(args.size() - 1, "yaml");
            Run y = cli(args.toArray(String[]::new));
            assertEquals(0, y.code(), List.of(cmd) + y.err());
            Map<String, Object> asYaml = yaml.readValue(y.out(), new TypeReference<>() {
            });
            assertEquals(asJson.keySet(), asYaml.keySet(), List.of(cmd).toString());
            Run t = cli(cmd);
            assertEquals(0, t.code(), List.of(cmd) + t.err());
            assertFalse(t.out().trim().startsWith("{"), "table by default: " + t.out());
        }
        Map<String, Object> role = ManageBroker.json(cli("role", "show", "fmt.role", "--output", "json").out());
        assertEquals(List.of("fmt:read", "fmt:write"), role.get("scopes"));
    }

    @Test
    void keygenMakesAKeyTheBrokerAccepts(@TempDir Path tmp) throws Exception {
        for (String alg : List.of("ES256", "RS256", "EdDSA")) {
            Path dir = tmp.resolve(alg);
            Run r = cli("agent", "keygen", "kg." + alg.toLowerCase(), "--alg", alg, "--out", dir.toString());
            assertEquals(0, r.code(), r.err());
            Path key = dir.resolve("kg." + alg.toLowerCase() + ".key");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
            JWKSet set = JWKSet.parse(Files.readString(dir.resolve("kg." + alg.toLowerCase() + ".jwks.json")));
            assertEquals(1, set.getKeys().size());
            JWK pub = set.getKeys().get(0);
            assertFalse(pub.isPrivate(), "the JWK Set holds the public key only");
            assertEquals(alg, pub.getAlgorithm().getName());
            assertEquals(pub.computeThumbprint().toString(), pub.getKeyID());
            assertFalse(r.out().contains("PRIVATE KEY"));
            // no overwrite without --force: exit 4
            assertEquals(4, cli("agent", "keygen", "kg." + alg.toLowerCase(), "--alg", alg, "--out", dir.toString()).code());
        }
        // ES256: register it and authenticate with the private key (private_key_jwt, RFC 7523)
        Path dir = tmp.resolve("ES256");
        assertEquals(0, cli("resource", "add", "https://mcp.example.com/keygen", "--id", "kg.res", "--scope", "r").code());
        Run r = cli("agent", "create", "kg.es256", "--env", "dev", "--role", "reader", "--auth-method", "private_key_jwt",
                "--jwks", dir.resolve("kg.es256.jwks.json").toString());
        assertEquals(0, r.code(), r.err());
        String pem = Files.readString(dir.resolve("kg.es256.key"));
        java.security.PrivateKey priv = java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
                java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""))));
        ECKey pub = (ECKey) JWKSet.parse(Files.readString(dir.resolve("kg.es256.jwks.json"))).getKeys().get(0);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(pub.getKeyID()).build(),
                new JWTClaimsSet.Builder().issuer("kg.es256").subject("kg.es256").audience(broker.url().replace("127.0.0.1", "localhost") + "/t/demo") // the issuer (public URL unset: localhost)
                        .jwtID(java.util.UUID.randomUUID().toString()).issueTime(new java.util.Date())
                        .expirationTime(new java.util.Date(System.currentTimeMillis() + 60_000)).build());
        jwt.sign(new ECDSASigner(priv, Curve.P_256));
        java.net.http.HttpResponse<String> t = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(broker.url() + "/t/demo/token")).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_assertion_type="
                        + "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&resource=https%3A%2F%2Fmcp.example.com%2Fkeygen"
                        + "&client_assertion=" + jwt.serialize())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, t.statusCode(), t.body() + " " + broker.audit("demo").get(broker.audit("demo").size() - 1));
    }

    @Test
    void auditVerifyExportVerifyFileAndWitness(@TempDir Path tmp) throws Exception {
        assertEquals(0, cli("role", "create", "audit.role", "--scope", "a:r").code());
        Run r = cli("audit", "checkpoint");
        assertEquals(0, r.code(), r.err());
        r = cli("audit", "verify");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("OK  tenant demo:"), r.out());
        assertTrue(r.err().contains("verifying the audit chain"), "progress on stderr: " + r.err());
        r = cli("audit", "query", "--type", "role.created");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("role.created"), r.out());
        Path export = tmp.resolve("export.jsonl");
        Path jwks = tmp.resolve("jwks.json");
        r = cli("audit", "export", "--out", export.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("wrote ") && Files.size(export) > 0, r.err());
        assertEquals(0, cli("audit", "jwks", "--out", jwks.toString()).code());
        // offline: no broker, no credentials
        Run off = cli(Map.of(), "audit", "verify-file", export.toString(), "--jwks", jwks.toString());
        assertEquals(0, off.code(), off.out() + off.err());
        assertTrue(off.out().startsWith("OK  tenant demo:"), off.out());
        Run offJson = cli(Map.of(), "audit", "verify-file", export.toString(), "--jwks", jwks.toString(), "-o", "json");
        assertEquals(true, ManageBroker.json(offJson.out()).get("ok"));
        // an edited line: exit 1, the entry named
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(export));
        int i = 0;
        while (!(lines.get(i).contains("role.created") && lines.get(i).contains("audit.role"))) {
            i++;
        }
        String editedLine = lines.get(i).replace("audit.role", "audit.r0le");
        assertFalse(editedLine.equals(lines.get(i)));
        lines.set(i, editedLine);
        Path edited = Files.write(tmp.resolve("edited.jsonl"), lines);
        Run bad = cli(Map.of(), "audit", "verify-file", edited.toString(), "--jwks", jwks.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().startsWith("FAIL "), bad.out());
        // against the witness the broker keeps in its data dir
        Path witness = broker.dataDir().resolve("audit-witness").resolve("demo.jsonl");
        assertTrue(Files.exists(witness), "the embedded broker witnesses its checkpoints");
        r = cli("audit", "verify", "--witness", witness.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("witnessed checkpoints agree"), r.out());
        r = cli("audit", "export", "--format", "ocsf");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"class_uid\""), r.out());
    }

    @Test
    void connectorErrorsAndConsents() {
        Run r = cli("connector", "test", "no.such-connector");
        assertEquals(3, r.code(), r.err());
        r = cli("connector", "remove", "no.such-connector", "--yes");
        assertEquals(3, r.code(), r.err());
        r = cli("consent", "revoke", "usr_nobody", "some-client", "mcp", "--yes");
        assertEquals(3, r.code(), r.err());
        r = cli("consent", "list");
        assertEquals(0, r.code(), r.err());

        // a stored consent, listed in the admin API's JSON style (snake_case, ISO-8601), then revoked
        long now = System.currentTimeMillis();
        String user = "usr_cli.consent";
        broker.bean(dev.deputy.broker.federation.UserStore.class).insert(new dev.deputy.broker.federation.User("demo", user,
                "okta", "https://idp.example.com/oauth2/default", "00u consent.ü", "consent@example.com", "Con Sent",
                List.of("devs"), List.of("reader"), dev.deputy.broker.federation.User.Status.ACTIVE, now, now));
        long granted = 1_780_000_000_123L;
        broker.bean(dev.deputy.broker.authorize.ConsentStore.class).save(new dev.deputy.broker.authorize.Consent("demo", user,
                "ext.app-ü", "mcp", List.of("tools:read", "tools:write"), granted));
        r = cli("consent", "list", "--user", user, "-o", "json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> listed = ManageBroker.json(r.out());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) listed.get("consents");
        assertEquals(1, rows.size(), r.out());
        assertEquals(user, rows.get(0).get("user_id"));
        assertEquals("ext.app-ü", rows.get(0).get("client_id"));
        assertEquals("2026-05-28T20:26:40.123Z", rows.get(0).get("granted_at"), r.out());
        assertEquals(java.time.Instant.ofEpochMilli(granted).toString(), rows.get(0).get("granted_at"));
        r = cli("consent", "list", "--user", user);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2026-05-28T20:26:40.123Z") && r.out().contains("ext.app-ü"), r.out());
        r = cli("consent", "revoke", user, "ext.app-ü", "mcp", "--yes");
        assertEquals(0, r.code(), r.err());
        assertTrue(broker.bean(dev.deputy.broker.authorize.ConsentStore.class).list("demo", user).isEmpty());
    }

    @Test
    void usersByEmailOrUpstreamSubAndSigningKeys() {
        long now = System.currentTimeMillis();
        String sub = "00u1 Ünïcode.sub/with+odd=chars";
        broker.bean(dev.deputy.broker.federation.UserStore.class).insert(new dev.deputy.broker.federation.User("demo", "usr_cli.lookup",
                "okta", "https://idp.example.com/oauth2/default", sub, "Jane.Doe@Example.COM", "Jane Doe", List.of("devs"),
                List.of("reader"), dev.deputy.broker.federation.User.Status.ACTIVE, now, now));
        Run r = cli("user", "find", "--email", "jane.doe@example.com", "-o", "json");
        assertEquals(0, r.code(), r.err());
        List<Map<String, Object>> users = Lists.maps(ManageBroker.json(r.out()).get("users"));
        assertEquals(1, users.size(), r.out());
        assertEquals("usr_cli.lookup", users.get(0).get("id"));
        assertEquals(sub, users.get(0).get("upstream_sub"), "the upstream sub byte for byte");
        r = cli("user", "find", "--sub", sub);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("usr_cli.lookup"), r.out());
        r = cli("user", "find", "--sub", sub.toLowerCase());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("no users"), "sub matches exactly: " + r.out());
        assertEquals(0, cli("user", "show", "usr_cli.lookup").code());
        assertEquals(3, cli("user", "show", "usr_nobody").code());

        r = cli("key", "list", "-o", "json");
        assertEquals(0, r.code(), r.err());
        List<Map<String, Object>> before = Lists.maps(ManageBroker.json(r.out()).get("keys"));
        String active = before.stream().filter(k -> "active".equals(k.get("state"))).map(k -> (String) k.get("kid")).findFirst().orElseThrow();
        assertFalse(r.out().contains("private") || r.out().contains("\"d\""), "no private key material: " + r.out());
        assertEquals(2, cli("key", "rotate").code(), "no terminal, no --yes");
        r = cli("key", "rotate", "--yes", "-o", "json");
        assertEquals(0, r.code(), r.err());
        String now2 = (String) ManageBroker.json(r.out()).get("active_kid");
        assertFalse(active.equals(now2), "a new active key");
        List<Map<String, Object>> after = Lists.maps(ManageBroker.json(cli("key", "list", "-o", "json").out()).get("keys"));
        assertTrue(after.stream().anyMatch(k -> active.equals(k.get("kid")) && "retired".equals(k.get("state"))), after.toString());
        assertEquals(200, broker.get("/t/demo/jwks.json").statusCode());
        assertTrue(broker.get("/t/demo/jwks.json").body().contains(active), "the old key stays published");
    }

    @Test
    void breakGlassStatusAndRotation() {
        Run r = cli("break-glass", "status", "-o", "json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> status = ManageBroker.json(r.out());
        assertEquals(true, status.get("enabled"));
        assertTrue(status.get("last_used_at") != null, "this CLI call itself used it: " + r.out());
        assertEquals(2, cli("break-glass", "rotate").code(), "no terminal, no --yes");
        assertEquals(2, cli("break-glass", "disable").code(), "no terminal, no --yes");
        String before = (String) broker.adminCredentials().get("client_secret");
        r = cli("break-glass", "rotate", "--yes", "-o", "json");
        assertEquals(0, r.code(), r.err());
        String fresh = (String) ManageBroker.json(r.out()).get("client_secret");
        assertFalse(fresh.equals(before), "a new secret");
        assertEquals(fresh, broker.adminCredentials().get("client_secret"), "the credentials file follows");
        assertEquals(0, cli("break-glass", "status").code(), "the CLI signs in with the new secret");
    }

    @Test
    void planWaitsForASecondAdminThenApplies(@TempDir Path dir) throws Exception {
        noConfigObjects(dir);
        Path t = dir.resolve("tenants/demo");
        ManageBroker.write(t.resolve("roles/payments.settlement.yml"), "scopes: [payments:settle]\nprivileged: true\n");
        ManageBroker.write(t.resolve("agents/treasury.settlement.reconciler.yml"),
                "environment: prod\nauth_method: tls_client_auth\nroles: [payments.settlement]\nmetadata: {owner_name: zoë}\n");
        Run r = cli("plan", dir.toString());
        assertEquals(5, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("new agent treasury.settlement.reconciler gets privileged role [payments.settlement]"), r.out());
        assertFalse(r.out().contains("\u001b["), "no colours without a terminal");
        String id = (String) ManageBroker.json(cli("plan", dir.toString(), "-o", "json").out()).get("plan_id");
        assertTrue(r.err().contains("deputy plan approve " + id), r.err());
        assertEquals(5, cli("apply", dir.toString(), "--yes").code(), "apply refuses without the approval");
        assertEquals(3, cli("agent", "show", "treasury.settlement.reconciler").code());

        // the submitter cannot approve; a second admin can
        r = cli("plan", "approve", id, "--yes");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("cannot approve it") && r.err().contains("HTTP 403"), r.err());
        String secret = "second-admin-" + "s".repeat(32);
        broker.bean(dev.deputy.broker.admin.AdminCredentialStore.class).createIfAbsent(
                new dev.deputy.broker.admin.AdminCredentialStore.AdminCredential("jonathan.christopher.williams",
                        java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                .digest(secret.getBytes(StandardCharsets.UTF_8))), System.currentTimeMillis(), false,
                        new dev.deputy.broker.admin.AdminCredentialStore.Scope(dev.deputy.broker.admin.AdminRole.SUPER_ADMIN,
                                java.util.List.of(), true, false)));
        Map<String, String> second = new HashMap<>(env);
        second.put("DEPUTY_ADMIN_CLIENT_ID", "jonathan.christopher.williams");
        second.put("DEPUTY_ADMIN_CLIENT_SECRET", secret);
        r = cli(second, "plan", "list", "--status", "pending");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(id), r.out());
        assertEquals(2, cli(second, "plan", "approve", id).code(), "asks first; no terminal, no --yes");
        r = cli(second, "plan", "approve", id, "--yes");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(cli("plan", "show", id).out().contains("jonathan.christopher.williams"));

        r = cli("plan", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("approval: approved (by jonathan.christopher.williams"), r.out());
        r = cli("apply", dir.toString(), "--yes");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(cli("agent", "show", "treasury.settlement.reconciler", "-o", "json").out().contains("payments.settlement"));
        assertEquals(0, cli("plan", dir.toString()).code(), "nothing left that needs approval");
        noConfigObjects(dir);
    }

    /** Revokes and deletes every config-managed object (other tests' applies leave theirs), so plans are exact. */
    void noConfigObjects(Path tmp) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty-" + System.nanoTime()));
        Run r = cli("apply", empty.toString(), "--yes");
        assertEquals(0, r.code(), r.out() + r.err());
    }

    @Test
    void colouredPlanAtATerminal(@TempDir Path dir) throws Exception {
        noConfigObjects(dir);
        Path t = dir.resolve("tenants/demo");
        ManageBroker.write(t.resolve("roles/colour.role.yml"), "scopes: [c:r]\n");
        Run r = cliTty("n", "plan", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\u001b[32m  + create role colour.role"), r.out());
        assertEquals(0, cli("apply", dir.toString()).code());
        Files.delete(t.resolve("roles/colour.role.yml"));
        r = cliTty("n", "apply", dir.toString());
        assertEquals(1, r.code(), "not confirmed");
        assertTrue(r.err().contains("\u001b[31m  - delete role colour.role"), r.err());
        assertEquals(0, cli("role", "show", "colour.role").code(), "not confirmed: nothing changed");
        assertEquals(0, cli("apply", dir.toString(), "--yes").code());
        assertEquals(3, cli("role", "show", "colour.role").code());
        noConfigObjects(dir);
    }

    @Test
    void tenantsAndDelegationRulesThroughTheWholeTree(@TempDir Path dir) throws Exception {
        noConfigObjects(dir);
        Run r = cli("tenant", "list");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("demo"), r.out());
        Map<String, Object> shown = ManageBroker.json(cli("tenant", "show", "-o", "json").out());
        assertEquals("demo", shown.get("id"));
        assertEquals(3, cli("tenant", "show", "no-such-tenant").code());

        // the broker's own tenant folder plus one delegation rule: the plan is that rule, and every node serves it
        Path t = dir.resolve("tenants/demo");
        copy(broker.configDir().resolve("tenants/demo"), t);
        ManageBroker.write(t.resolve("policies/zz-cli.yml"), """
                delegation:
                  - id: cli.reconciler-for-devs
                    agents: [payments.settlement.reconciler]
                    users: {groups: [devs]}
                    resources: ["*"]
                """);
        r = cli("plan", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("+ create policy zz-cli"), r.out());
        assertTrue(r.out().contains("1 change"), r.out());
        r = cli("apply", dir.toString(), "--yes");
        assertEquals(0, r.code(), r.out() + r.err());
        r = cli("policy", "list");
        assertTrue(r.out().contains("cli.reconciler-for-devs"), r.out());
        r = cli("policy", "show", "cli.reconciler-for-devs", "-o", "json");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("devs"), ((Map<?, ?>) ManageBroker.json(r.out()).get("users")).get("groups"));
        assertEquals(3, cli("policy", "show", "no.such.rule").code());

        // a broken rule: the plan names the file, nothing changes
        ManageBroker.write(t.resolve("policies/zz-cli.yml"), "delegation:\n  - id: broken\n    agents: [x]\n");
        r = cli("plan", dir.toString());
        assertTrue(r.code() != 0, r.out());
        assertTrue((r.out() + r.err()).contains("policies/zz-cli.yml"), r.out() + r.err());
        // the operator's own path, never the broker's temporary folder of the upload
        assertFalse((r.out() + r.err()).contains("deputy-apply-"), "no server temp paths: " + r.err());
        Files.delete(t.resolve("policies/zz-cli.yml"));
        assertEquals(0, cli("apply", dir.toString(), "--yes").code());
        assertFalse(cli("policy", "list").out().contains("cli.reconciler-for-devs"));
        noConfigObjects(dir);
    }

    @Test
    void roleResourceClientAndAgentUpdates() throws Exception {
        assertEquals(0, cli("role", "create", "upd.role", "--scope", "u:r").code());
        assertEquals(0, cli("role", "update", "upd.role", "--scope", "u:r u:w", "--description", "Updäted").code());
        Map<String, Object> role = ManageBroker.json(cli("role", "show", "upd.role", "-o", "json").out());
        assertEquals(List.of("u:r", "u:w"), role.get("scopes"));
        assertEquals(0, cli("resource", "add", "https://mcp.example.com/upd", "--id", "upd.res", "--scope", "u:r").code());
        assertEquals(0, cli("resource", "update", "upd.res", "--uri", "https://mcp.example.com/upd/v2", "--scope", "u:w").code());
        Map<String, Object> res = ManageBroker.json(cli("resource", "show", "upd.res", "-o", "json").out());
        assertEquals("https://mcp.example.com/upd/v2", res.get("uri"));
        assertEquals(3, cli("resource", "show", "no.such.res").code());

        Run r = cli("client", "create", "upd-client", "--name", "Upd Client", "--redirect-uri", "http://127.0.0.1:7777/cb");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, cli("client", "update", "upd-client", "--name", "Renamed Client", "--internal", "true").code());
        Map<String, Object> client = ManageBroker.json(cli("client", "show", "upd-client", "-o", "json").out());
        assertEquals("Renamed Client", client.get("name"));
        assertTrue(cli("client", "list").out().contains("upd-client"));
        assertEquals(0, cli("client", "remove", "upd-client", "--yes").code());
        assertEquals(3, cli("client", "show", "upd-client").code());

        assertEquals(0, cli("agent", "create", "upd.agent", "--env", "dev", "--auth-method", "tls_client_auth").code());
        assertEquals(0, cli("agent", "update", "upd.agent", "--role", "upd.role", "--owner", "jonathan.christopher.williams").code());
        Map<String, Object> agent = ManageBroker.json(cli("agent", "show", "upd.agent", "-o", "json").out());
        assertEquals(List.of("upd.role"), agent.get("roles"));
        assertEquals(0, cli("agent", "suspend", "upd.agent").code());
        assertEquals(0, cli("agent", "resume", "upd.agent").code());
        assertEquals("active", ManageBroker.json(cli("agent", "show", "upd.agent", "-o", "json").out()).get("status"));

        assertEquals(0, cli("audit", "checkpoint").code());
        r = cli("audit", "checkpoints", "-o", "json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("seq"), r.out());
        assertEquals(0, cli("audit", "archives").code());
    }

    static void copy(Path from, Path to) throws java.io.IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
