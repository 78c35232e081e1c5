package dev.deputy.cli;

import dev.deputy.broker.admin.ManageBroker;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.cli.CliTest.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands no other test ran against a broker (issue 17's audit): whoami and scoped admin credentials, break-glass
 * disable/enable, agent credential / rotate / cert against the broker's own CA, policy dry-run, audit alarms, witness,
 * tail, archive and archives, and plan/apply refusals that keep the operator's path and UTF-8 text. One broker of its
 * own (archive and break-glass change broker-wide state).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliCoverageTest {
    ManageBroker broker;
    Map<String, String> env;

    /** The CLI run in-process, as CliTest runs it. */
    Run cli(String... args) {
        return CliTest.cli(env, args);
    }

    static Run cli(Map<String, String> env, String... args) {
        return CliTest.cli(env, args);
    }

    static Map<String, Object> json(Run r) {
        assertEquals(0, r.code(), r.out() + r.err());
        return ManageBroker.json(r.out());
    }

    Map<String, String> as(String clientId, String secret) {
        Map<String, String> e = new HashMap<>(env);
        e.put("DEPUTY_ADMIN_CLIENT_ID", clientId);
        e.put("DEPUTY_ADMIN_CLIENT_SECRET", secret);
        return e;
    }

    @BeforeAll
    void start() {
        broker = ManageBroker.start(false);
        env = Map.of("DEPUTY_DATA_DIR", broker.dataDir().toString(), "DEPUTY_URL", broker.url());
        assertEquals(0, cli("role", "create", "cov.reader", "--scope", "cov:read").code());
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @Test
    void whoamiAndScopedAdminCredentials() {
        Map<String, Object> me = json(cli("whoami", "-o", "json"));
        assertEquals("admin", me.get("admin"));
        assertEquals("break_glass", me.get("kind"));
        Run table = cli("whoami");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains(String.format("%-15s %s%n", "kind", "break_glass"))
                && table.out().contains(String.format("%-15s %s%n", "broker", broker.url())), table.out());

        Run created = cli("admin-credential", "create", "ci.payments-pipeline", "--role", "tenant_admin", "--tenants", "demo",
                "-o", "json");
        Map<String, Object> cred = json(created);
        String secret = (String) cred.get("client_secret");
        assertTrue(secret != null && secret.length() >= 32, created.out());
        assertEquals(List.of("demo"), cred.get("tenants"));
        Run listed = cli("admin-credential", "list");
        assertEquals(0, listed.code(), listed.err());
        assertTrue(listed.out().lines().anyMatch(l -> l.startsWith("ci.payments-pipeline") && l.contains("tenant_admin")
                && l.contains("demo")), listed.out());
        assertFalse(listed.out().contains(secret), "never the secret again");

        // the CLI signed in as the new credential: its grants, and what a tenant admin may not do
        Map<String, String> ci = as("ci.payments-pipeline", secret);
        Map<String, Object> who = json(cli(ci, "whoami", "-o", "json"));
        assertEquals("credential", who.get("kind"));
        assertEquals(List.of(Map.of("role", "tenant_admin", "tenants", List.of("demo"))), who.get("grants"));
        assertEquals(0, cli(ci, "role", "list").code());
        Run refused = cli(ci, "admin-credential", "list");
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().startsWith("deputy: ") && refused.err().contains("HTTP 403)"), refused.err());

        // refused input: the broker's words, exit 1 (400) and 4 (409)
        Run noTenants = cli("admin-credential", "create", "ci.no-tenants", "--role", "auditor");
        assertEquals(1, noTenants.code(), noTenants.err());
        assertTrue(noTenants.err().contains("tenants is required for role auditor") && noTenants.err().contains("HTTP 400)"),
                noTenants.err());
        assertEquals(4, cli("admin-credential", "create", "ci.payments-pipeline", "--role", "tenant_admin", "--tenants", "demo")
                .code());
        assertEquals(2, cli("admin-credential", "create", "ci.no-role").code(), "--role is required");
    }

    @Test
    void breakGlassDisabledAndEnabledByAnotherSuperAdmin() {
        String secret = (String) json(cli("admin-credential", "create", "ops.rescue", "--role", "super_admin", "--privileged",
                "-o", "json")).get("client_secret");
        Map<String, String> rescue = as("ops.rescue", secret);
        Run off = cli(rescue, "break-glass", "disable", "--yes", "-o", "json");
        assertEquals(false, json(off).get("enabled"));
        Run refused = cli("whoami");
        assertEquals(1, refused.code(), "the break-glass credential no longer signs in: " + refused.out());
        assertTrue(refused.err().contains("admin sign-in failed"), refused.err());
        assertEquals(true, json(cli(rescue, "break-glass", "enable", "-o", "json")).get("enabled"));
        assertEquals(0, cli("whoami").code(), "signs in again");
    }

    @Test
    void agentCredentialAndRotation(@TempDir Path tmp) throws Exception {
        // private_key_jwt: a second credential (a JWKS URL), then a rotation to a new key set that limits the others
        assertEquals(0, cli("agent", "keygen", "cov.jwt-bot", "--out", tmp.toString()).code());
        assertEquals(0, cli("agent", "keygen", "cov.jwt-bot.next", "--out", tmp.toString()).code());
        assertEquals(0, cli("agent", "create", "cov.jwt-bot", "--env", "dev", "--role", "cov.reader", "--auth-method",
                "private_key_jwt", "--jwks", tmp.resolve("cov.jwt-bot.jwks.json").toString()).code());
        Run added = cli("agent", "credential", "cov.jwt-bot", "--jwks-uri", "https://keys.example.com/cov/jwks.json", "-o", "json");
        Map<String, Object> credential = json(added);
        assertEquals("jwks_uri", credential.get("kind"), added.out());
        assertEquals("https://keys.example.com/cov/jwks.json", credential.get("jwks_uri"), added.out());
        Run addedTable = cli("agent", "credential", "cov.jwt-bot", "--jwks-uri", "https://keys.example.com/cov/second.json");
        assertEquals(0, addedTable.code(), addedTable.err());
        assertTrue(addedTable.out().startsWith("added credential ") && addedTable.out().contains("(jwks_uri) to agent cov.jwt-bot")
                && addedTable.out().contains("id            cov.jwt-bot"), addedTable.out());
        List<Map<String, Object>> creds = Lists.maps(json(cli("agent", "show", "cov.jwt-bot", "-o", "json")).get("credentials"));
        assertEquals(List.of("jwks", "jwks_uri", "jwks_uri"), creds.stream().map(c -> String.valueOf(c.get("kind"))).sorted().toList());
        assertTrue(creds.stream().allMatch(c -> c.get("valid_until") == null), creds.toString());
        Run rotated = cli("agent", "rotate", "cov.jwt-bot", "--jwks", tmp.resolve("cov.jwt-bot.next.jwks.json").toString(),
                "--overlap", "10m", "-o", "json");
        creds = Lists.maps(json(rotated).get("credentials"));
        assertEquals(4, creds.size(), rotated.out());
        assertEquals(3, creds.stream().filter(c -> c.get("valid_until") != null).count(), "the older ones end: " + rotated.out());
        assertEquals(1, creds.stream().filter(c -> c.get("valid_until") == null).count(), rotated.out());
        Run table = cli("agent", "rotate", "cov.jwt-bot", "--jwks", tmp.resolve("cov.jwt-bot.jwks.json").toString());
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().startsWith("rotated credentials of agent cov.jwt-bot; the previous ones keep working for 1h"),
                table.out());
        Run noKey = cli("agent", "rotate", "cov.jwt-bot");
        assertEquals(2, noKey.code());
        assertTrue(noKey.err().contains("needs --jwks FILE or --jwks-uri URL"), noKey.err());

        // tls_client_auth: a certificate from the tenant's CA, then a rotation to a new one (the old one limited)
        assertEquals(0, cli("agent", "create", "cov.tls-bot", "--env", "dev", "--role", "cov.reader").code());
        Path first = tmp.resolve("first");
        Run cert = cli("agent", "cert", "cov.tls-bot", "--out", first.toString(), "--ttl", "24h");
        assertEquals(0, cert.code(), cert.out() + cert.err());
        X509Certificate issued = pem(first.resolve("cov.tls-bot.crt"));
        X509Certificate ca = pem(first.resolve("ca.crt"));
        issued.verify(ca.getPublicKey());
        assertTrue(issued.getSubjectAlternativeNames().toString().contains("/agent/cov.tls-bot"), issued.getSubjectAlternativeNames().toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.resolve("cov.tls-bot.key"))));
        Path second = tmp.resolve("second");
        Run rot = cli("agent", "rotate", "cov.tls-bot", "--out", second.toString(), "--overlap", "5m");
        assertEquals(0, rot.code(), rot.out() + rot.err());
        X509Certificate next = pem(second.resolve("cov.tls-bot.crt"));
        assertFalse(next.getSerialNumber().equals(issued.getSerialNumber()), "a new certificate");
        List<Map<String, Object>> certs = Lists.maps(json(cli("agent", "show", "cov.tls-bot", "-o", "json")).get("credentials"));
        assertEquals(2, certs.size(), certs.toString());
        Map<String, Object> old = certs.stream().filter(c -> c.get("serial") != null
                && new java.math.BigInteger(String.valueOf(c.get("serial")), 16).equals(issued.getSerialNumber())).findFirst().orElse(null);
        assertNotNull(old, "the first certificate is listed by its serial: " + certs);
        assertNotNull(old.get("valid_until"), "the first certificate ends after the overlap: " + certs);
    }

    static X509Certificate pem(Path p) throws Exception {
        try (var in = Files.newInputStream(p)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void policyDryRunOnRecentDecisions(@TempDir Path tmp) throws Exception {
        broker.bean(AuditLog.class).append(AuditEvent.of("demo", EventTypes.POLICY_DECISION, AuditEvent.Outcome.ALLOW)
                .subject("zoë.müller@example.com", null).actors(List.of("cov.reconciler"))
                .resource("https://mcp.example.com/payments/ledger").detail("kind", "tool").detail("tool", "transfer_funds")
                .detail("effect", "permit").detail("rule", "payments-transfers").detail("subject_type", "user")
                .detail("arguments", Map.of("amount", 25000)).build());
        Path policies = Files.createDirectories(tmp.resolve("policies"));
        Files.writeString(policies.resolve("tools.yml"), """
                tools:
                  default: permit
                  rules:
                    - id: small-limit
                      effect: deny
                      tools: [transfer_funds]
                      when: ["amount > 100"]
                """);
        Run r = cli("policy", "dry-run", policies.toString(), "--since", "1h", "-o", "json");
        Map<String, Object> report = json(r);
        assertTrue(r.out().contains("small-limit") && r.out().contains("transfer_funds"), r.out());
        Run table = cli("policy", "dry-run", policies.resolve("tools.yml").toString(), "--since", "1h");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("would change") && table.out().contains("transfer_funds")
                && table.out().contains("small-limit"), table.out());
        assertTrue(((Number) report.get("changed")).intValue() >= 1, r.out());
        Files.writeString(policies.resolve("tools.yml"), "tools: [not, a, map\n");
        Run bad = cli("policy", "dry-run", policies.toString());
        assertEquals(2, bad.code(), "checked offline first, a usage error: " + bad.out() + bad.err());
        assertTrue(bad.err().startsWith("deputy: "), bad.err());
    }

    @Test
    void auditAlarmsWitnessTailAndArchive() throws Exception {
        Map<String, Object> alarms = json(cli("audit", "alarms", "-o", "json"));
        assertTrue(alarms.get("total") instanceof Number && alarms.get("by_reason") instanceof Map, alarms.toString());
        Run alarmsTable = cli("audit", "alarms");
        assertEquals(0, alarmsTable.code(), alarmsTable.err());
        assertTrue(alarmsTable.out().startsWith("alarms: "), alarmsTable.out());
        assertTrue(json(cli("audit", "witness", "-o", "json")).containsKey("sinks"));
        assertEquals(0, cli("audit", "witness").code());

        // tail: follows from the head; a change made meanwhile shows up as a line
        long head = ((Number) Lists.maps(json(cli("audit", "query", "--limit", "1", "-o", "json")).get("entries")).get(0).get("seq"))
                .longValue();
        ByteArrayOutputStream tailOut = new ByteArrayOutputStream();
        AtomicInteger tailCode = new AtomicInteger(-1);
        Thread tail = Thread.ofVirtual().start(() -> tailCode.set(Deputy.run(new String[]{"audit", "tail", "--after",
                Long.toString(head)}, new Io(env, new PrintStream(tailOut, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), null, false))));
        assertEquals(0, cli("role", "create", "cov.tailed-role", "--scope", "t:r").code());
        long until = System.nanoTime() + 20_000_000_000L;
        while (!tailOut.toString(StandardCharsets.UTF_8).contains("cov.tailed-role") && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        String tailed = tailOut.toString(StandardCharsets.UTF_8);
        assertTrue(tailed.lines().anyMatch(l -> l.contains("role.created") && l.contains("cov.tailed-role")), tailed);
        assertTrue(tail.isAlive() && tailCode.get() == -1, "tail keeps following");

        // archive the oldest entries; the archive is listed and the chain still verifies
        assertEquals(0, cli("audit", "checkpoint").code());
        Run archived = cli("audit", "archive", "--through-seq", "2", "-o", "json");
        Map<String, Object> a = json(archived);
        assertEquals(2, ((Number) a.get("to_seq")).intValue(), archived.out());
        assertTrue(archived.err().contains("archiving"), "progress on stderr: " + archived.err());
        List<Map<String, Object>> listed = Lists.maps(json(cli("audit", "archives", "-o", "json")).get("archives"));
        assertTrue(listed.stream().anyMatch(x -> ((Number) x.get("to_seq")).intValue() == 2), listed.toString());
        Run nothing = cli("audit", "archive", "--through-seq", "1");
        assertEquals(4, nothing.code(), "nothing left to archive there (409): " + nothing.err());
        assertTrue(nothing.err().contains("nothing to archive") && nothing.err().contains("(archive_refused, HTTP 409)"), nothing.err());
        Run verify = cli("audit", "verify");
        assertEquals(0, verify.code(), verify.out() + verify.err());
    }

    /**
     * Refused plans print each problem as {@code file:line: reason} with the operator's own path (not the broker's
     * temporary folder) and the value as written — § and quotes intact, where the error_description is ASCII only
     * (RFC 6749 §5.2) — and change nothing: a file that does not parse (400, exit 1) and a plan with errors (409, exit 4).
     */
    @Test
    void planAndApplyRefusalsKeepThePathAndTheText(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("tenants/demo");
        ManageBroker.write(t.resolve("roles/cov.plan-role.yml"), "scopes: [p:r]\n");
        ManageBroker.write(t.resolve("agents/cov.bad.yml"), "environment: dev\nauth_method: \"nöpe § “x”\"\n");
        for (List<String> cmd : List.of(List.of("plan", dir.toString()), List.of("apply", dir.toString(), "--yes"))) {
            Run r = cli(cmd.toArray(String[]::new));
            assertEquals(1, r.code(), cmd + ": " + r.out() + r.err());
            assertEquals(List.of(t.resolve("agents/cov.bad.yml") + ":2: auth_method must be one of tls_client_auth, "
                    + "self_signed_tls_client_auth, private_key_jwt, not 'nöpe § “x”'"), r.out().lines().toList(), r.err());
            // progress first (stderr, so stdout stays the problems), then the one error line
            assertEquals(List.of("planning 2 files for tenant demo ...", "deputy: 1 problem in the files of " + t
                    + ": nothing planned (invalid_request, HTTP 400)"), r.err().lines().toList(), r.err());
        }
        Map<String, Object> body = ManageBroker.json(cli("plan", dir.toString(), "-o", "json").out());
        Map<String, Object> problem = Lists.maps(body.get("errors")).get(0);
        assertEquals("agents/cov.bad.yml", problem.get("file"));
        assertEquals(2, problem.get("line"));
        assertTrue(((String) problem.get("reason")).endsWith("not 'nöpe § “x”'"), body.toString());
        assertTrue(((String) body.get("error_description")).matches("[\\x20-\\x7e]*"), "RFC 6749 §5.2 charset: " + body);
        assertEquals(3, cli("role", "show", "cov.plan-role").code(), "nothing applied");

        // the whole tenant, whose tenant.yml names an unsupported algorithm: the plan and its one error (409)
        Files.delete(t.resolve("agents/cov.bad.yml"));
        ManageBroker.write(t.resolve("tenant.yml"), "display_name: \"Zoë's tenant\"\nsigning_alg: \"HS256 § “x”\"\n");
        for (List<String> cmd : List.of(List.of("plan", dir.toString()), List.of("apply", dir.toString(), "--yes"))) {
            Run r = cli(cmd.toArray(String[]::new));
            assertEquals(4, r.code(), cmd + ": " + r.out() + r.err());
            assertTrue(r.out().contains("  ! tenant.yml:2: ") && r.out().contains("'HS256 § “x”'"), r.out());
            List<String> err = r.err().lines().toList();
            String last = err.get(err.size() - 1);
            assertTrue(last.startsWith("deputy: the plan cannot be applied: " + t.resolve("tenant.yml") + ":2: ")
                    && last.contains("'HS256 § “x”'") && last.endsWith("(conflict, HTTP 409)"), r.err());
            assertFalse((r.out() + r.err()).contains("deputy-apply-"), "no server temp path: " + r.out() + r.err());
            assertFalse((r.out() + r.err()).contains("java.") || (r.out() + r.err()).contains("Exception"), r.out() + r.err());
        }
        assertEquals(3, cli("role", "show", "cov.plan-role").code(), "nothing applied");

        // a connector file of an unknown type: named by its path in the folder, never by the broker's upload folder
        ManageBroker.write(t.resolve("tenant.yml"), "display_name: Demo\n");
        ManageBroker.write(t.resolve("connectors/corp.yml"), "id: corp\ntype: nöpe\nissuer: https://sso.corp.example\n"
                + "client_id: deputy\nenabled: false\n");
        Run r = cli("plan", dir.toString());
        assertEquals(4, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("  ! connectors/corp.yml") && r.err().contains(t.resolve("connectors/corp.yml").toString()),
                r.out() + r.err());
        assertFalse((r.out() + r.err()).contains("deputy-apply-"), "no server temp path: " + r.out() + r.err());
        assertFalse((r.out() + r.err()).contains("java.") || (r.out() + r.err()).contains("Exception"), r.out() + r.err());
    }
}
