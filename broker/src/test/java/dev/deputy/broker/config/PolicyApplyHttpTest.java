package dev.deputy.broker.config;

import dev.deputy.broker.admin.ManageBroker;
import dev.deputy.broker.admin.TestKeys;
import dev.deputy.broker.audit.AuditEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Policy-as-code on a started broker: the shipped demo files are applied at start; the apply endpoint plans
 * create / change / revoke, a dry run changes nothing, API-created agents are never touched, bad files answer
 * with path and line, and a bad file refuses the start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyApplyHttpTest {
    static final String T = "/admin/t/demo";
    ManageBroker broker;

    @BeforeAll
    void start() throws IOException {
        Path root = ManageBroker.newRoot();
        copyShippedDemo(root.resolve("config/tenants/demo"));
        broker = ManageBroker.start(root, false, Map.of());
        HttpResponse<String> r = broker.post(T + "/agents",
                "{\"id\":\"api-bot\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\"}");
        assertEquals(201, r.statusCode(), r.body());
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    static void copyShippedDemo(Path tenantDir) throws IOException {
        Path shipped = Path.of("../config/tenants/demo").toAbsolutePath().normalize();
        for (String folder : PolicyFiles.FOLDERS) {
            try (Stream<Path> s = Files.list(shipped.resolve(folder))) {
                for (Path p : s.toList()) {
                    Files.createDirectories(tenantDir.resolve(folder));
                    Files.copy(p, tenantDir.resolve(folder).resolve(p.getFileName()));
                }
            }
        }
    }

    static Map<String, String> shippedFiles() throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        Path shipped = Path.of("../config/tenants/demo").toAbsolutePath().normalize();
        for (String folder : PolicyFiles.FOLDERS) {
            try (Stream<Path> s = Files.list(shipped.resolve(folder))) {
                for (Path p : s.sorted().toList()) {
                    files.put(folder + "/" + p.getFileName(), Files.readString(p));
                }
            }
        }
        return files;
    }

    Map<String, Object> agent(String id) {
        HttpResponse<String> r = broker.get(T + "/agents/" + id);
        assertEquals(200, r.statusCode(), r.body());
        return ManageBroker.json(r.body());
    }

    HttpResponse<String> apply(Map<String, String> files, boolean dryRun) {
        return broker.post(T + "/apply?dry_run=" + dryRun, ManageBroker.JSON.valueToTree(Map.of("files", files)).toString());
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> changes(HttpResponse<String> r) {
        return (List<Map<String, Object>>) ManageBroker.json(r.body()).get("changes");
    }

    static boolean has(List<Map<String, Object>> changes, String action, String kind, String id) {
        return changes.stream().anyMatch(c -> c.get("action").equals(action) && c.get("kind").equals(kind) && c.get("id").equals(id));
    }

    @Test
    void a_demoFilesAppliedAtStart() {
        Map<String, Object> billing = agent("billing-bot");
        assertEquals("config", billing.get("managed_by"));
        assertEquals("private_key_jwt", billing.get("auth_method"));
        assertEquals(1, ((List<?>) billing.get("credentials")).size());
        assertEquals("tls_client_auth", agent("deploy-bot").get("auth_method"));
        assertEquals(200, broker.get(T + "/roles/deploy-reader").statusCode());
        Map<String, Object> res = ManageBroker.json(broker.get(T + "/resources/deploy").body());
        assertEquals("https://mcp.example.com/deploy", res.get("uri"));
        assertEquals(true, res.get("default"));
        AuditEntry created = broker.lastAudit("demo", "agent.created", "billing-bot");
        assertTrue(created.details().contains("\"actor\":\"config\""), created.details());
        // the same files again: nothing to do
        HttpResponse<String> r = apply(Map.of(), true);
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void b_planDryRunThenApply() throws IOException {
        Map<String, String> files = shippedFiles();
        files.remove("agents/deploy-bot.yml");
        files.put("agents/billing-bot.yml", files.get("agents/billing-bot.yml").replace("name: Billing bot", "name: Billing bot 2"));
        files.put("agents/new-bot.yml", "environment: staging\nauth_method: private_key_jwt\nroles: [deploy-reader, ops]\n"
                + "jwks: " + TestKeys.publicJwks() + "\n");
        files.put("roles/ops.yml", "scopes: [ops:read]\n");
        files.put("resources/deploy.yml", files.get("resources/deploy.yml").replace("name: Deploy MCP server", "name: Deploy"));

        HttpResponse<String> dry = apply(files, true);
        assertEquals(200, dry.statusCode(), dry.body());
        List<Map<String, Object>> plan = changes(dry);
        assertTrue(has(plan, "create", "role", "ops"), dry.body());
        assertTrue(has(plan, "update", "resource", "deploy"), dry.body());
        assertTrue(has(plan, "update", "agent", "billing-bot"), dry.body());
        assertTrue(has(plan, "create", "agent", "new-bot"), dry.body());
        assertTrue(has(plan, "revoke", "agent", "deploy-bot"), dry.body());
        assertFalse(plan.stream().anyMatch(c -> "api-bot".equals(c.get("id"))), "API-created agents are not in the plan");
        String text = (String) ManageBroker.json(dry.body()).get("plan");
        assertTrue(text.contains("revoked, not deleted"), text);
        assertTrue(text.indexOf("role ops") < text.indexOf("agent new-bot"), "roles before agents:\n" + text);
        // the dry run changed nothing
        assertEquals("active", agent("deploy-bot").get("status"));
        assertEquals("Billing bot", agent("billing-bot").get("name"));
        assertEquals(404, broker.get(T + "/agents/new-bot").statusCode());
        assertEquals(404, broker.get(T + "/roles/ops").statusCode());

        HttpResponse<String> applied = apply(files, false);
        assertEquals(200, applied.statusCode(), applied.body());
        assertEquals(true, ManageBroker.json(applied.body()).get("applied"));
        assertEquals("revoked", agent("deploy-bot").get("status"));
        assertEquals("Billing bot 2", agent("billing-bot").get("name"));
        assertEquals("config", agent("new-bot").get("managed_by"));
        assertEquals("active", agent("api-bot").get("status"));
        assertTrue(broker.lastAudit("demo", "agent.revoked", "deploy-bot").details().contains("\"actor\":\"admin:admin\""));
        assertNotNull(broker.lastAudit("demo", "config.apply", null));

        // second run: nothing left to do; a revoked config agent cannot come back under its id
        HttpResponse<String> again = apply(files, true);
        assertEquals(200, again.statusCode(), again.body());
        assertEquals(List.of(), changes(again));
        files.put("agents/deploy-bot.yml", "environment: production\nauth_method: tls_client_auth\n");
        HttpResponse<String> back = apply(files, true);
        assertEquals(409, back.statusCode(), back.body());
        assertTrue(ManageBroker.json(back.body()).get("error_description").toString().startsWith("agents/deploy-bot.yml"));
        assertTrue(ManageBroker.json(back.body()).get("error_description").toString()
                .contains("delete agents/deploy-bot.yml (or give the agent a new id in it)"), back.body());
        // the same leftover file never blocks a broker start: the start's plan (actor config) skips it
        Path tree = Files.createTempDirectory("deputy-leftover-");
        for (Map.Entry<String, String> f : files.entrySet()) {
            ManageBroker.write(tree.resolve(f.getKey()), f.getValue());
        }
        PolicyApply.Plan atStart = broker.bean(PolicyApply.class).plan("demo", PolicyFiles.load(tree),
                dev.deputy.broker.agent.Actor.CONFIG);
        assertTrue(atStart.ok(), atStart.render(Object::toString));
        assertEquals(List.of(), atStart.changes());
        files.remove("agents/deploy-bot.yml");

        // a key change in the file rotates the credential, the old one limited by the overlap
        files.put("agents/new-bot.yml", "environment: staging\nauth_method: private_key_jwt\nroles: [deploy-reader, ops]\n"
                + "rotation_overlap: 5m\njwks: " + TestKeys.publicJwks() + "\n");
        HttpResponse<String> rot = apply(files, false);
        assertEquals(200, rot.statusCode(), rot.body());
        assertTrue(has(changes(rot), "rotate-credential", "agent", "new-bot"), rot.body());
        assertTrue(broker.lastAudit("demo", "agent.rotated", "new-bot").details().contains("\"overlap_seconds\":300"));
    }

    @Test
    void c_conflictsAndBadFiles() throws IOException {
        Map<String, String> files = shippedFiles();
        files.put("agents/api-bot.yml", "environment: dev\nauth_method: private_key_jwt\n");
        HttpResponse<String> r = apply(files, true);
        assertEquals(409, r.statusCode(), r.body());
        Map<String, Object> body = ManageBroker.json(r.body());
        assertEquals("conflict", body.get("error"));
        assertTrue(body.get("error_description").toString().contains("managed by api"), r.body());
        assertEquals("active", agent("api-bot").get("status"));

        files = shippedFiles();
        files.put("agents/x.yml", "environment: dev\nauth_method: private_key_jwt\nroles: [nope]\n");
        r = apply(files, false);
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains("agents/x.yml:3"), r.body());
        assertEquals(404, broker.get(T + "/agents/x").statusCode());

        files = shippedFiles();
        files.put("agents/x.yml", "environment: dev\nauth_method: private_key_jwt\nowner: a\nflavour: x\n");
        r = apply(files, true);
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("invalid_request", ManageBroker.json(r.body()).get("error"));
        assertTrue(ManageBroker.json(r.body()).get("error_description").toString().startsWith("agents/x.yml:4: unknown key 'flavour'"),
                r.body());

        r = apply(Map.of("../../etc/passwd.yml", "x: 1"), true);
        assertEquals(400, r.statusCode(), r.body());
        files = shippedFiles();
        files.put("agents/p.yml", "environment: dev\nauth_method: private_key_jwt\njwks: " + TestKeys.privateJwks() + "\n");
        r = apply(files, true);
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains("public keys only"), r.body());

        // a resource URI error names its file and the line of uri (issue 17)
        files = shippedFiles();
        files.put("resources/plain.yml", "# a plain-http MCP server\nname: Plain\nuri: http://mcp.example.com/plain\n");
        r = apply(files, true);
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains("resources/plain.yml:3: uri must use https"), r.body());
    }

    @Test
    void d_badFileRefusesStart() throws IOException {
        Path root = ManageBroker.newRoot();
        Path bad = ManageBroker.write(root.resolve("config/tenants/demo/roles/r.yml"), "scopes: [a]\nenvironmentz: [dev]\n");
        RuntimeException e = assertThrows(RuntimeException.class, () -> ManageBroker.start(root, false, Map.of()));
        ConfigException ce = null;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ConfigException x) {
                ce = x;
            }
        }
        assertNotNull(ce, "a ConfigException reaches Application.main");
        assertEquals(bad, ce.file());
        assertEquals(2, ce.line());

        Path root2 = ManageBroker.newRoot();
        Path agentFile = ManageBroker.write(root2.resolve("config/tenants/demo/agents/a.yml"),
                "environment: dev\nauth_method: private_key_jwt\nroles: [missing]\n");
        e = assertThrows(RuntimeException.class, () -> ManageBroker.start(root2, false, Map.of()));
        ce = null;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ConfigException x) {
                ce = x;
            }
        }
        assertNotNull(ce);
        assertEquals(agentFile, ce.file());
        assertEquals(3, ce.line());
    }
}
