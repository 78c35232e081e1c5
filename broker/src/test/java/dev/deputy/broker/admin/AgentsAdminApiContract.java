package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.audit.AuditEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API for agents, roles and resources over real HTTP, with the audit entry of every change.
 * Runs on the embedded default and on MariaDB + Redis (subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AgentsAdminApiContract {
    static final String T = "/admin/t/demo";
    ManageBroker broker;
    final List<String> changes = new CopyOnWriteArrayList<>();

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/tenants/demo/tenant.yml"),
                "display_name: Demo\ndormancy:\n  period: 1d\n  auto_suspend: true\n");
        broker = ManageBroker.start(root, mariadbAndRedis(), Map.of("deputy.agents.allow-http-loopback-jwks-uri", "true"));
        broker.bean(AgentChanges.class).listen((t, a) -> changes.add(t + "/" + a));
        HttpResponse<String> r = broker.post(T + "/roles",
                "{\"name\":\"deploy-reader\",\"description\":\"read deploys\",\"scopes\":[\"mcp:tool:deploy.read\"]}");
        assertEquals(201, r.statusCode(), r.body());
        r = broker.post(T + "/roles", "{\"name\":\"prod-only\",\"scopes\":[\"x\"],\"environments\":[\"production\"]}");
        assertEquals(201, r.statusCode(), r.body());
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    Map<String, Object> createJwtAgent(String id) {
        HttpResponse<String> r = broker.post(T + "/agents", """
                {"id":"%s","name":"Bot %s","owner":"alice@example.com","environment":"staging",
                 "roles":["deploy-reader"],"auth_method":"private_key_jwt","metadata":{"team":"billing"},
                 "jwks":%s}""".formatted(id, id, TestKeys.publicJwks()));
        assertEquals(201, r.statusCode(), r.body());
        return ManageBroker.json(r.body());
    }

    static Map<String, Object> details(AuditEntry e) {
        return ManageBroker.json(e.details());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    static void assertError(HttpResponse<String> r, int status, String error) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        Map<String, Object> body = ManageBroker.json(r.body());
        assertEquals(error, body.get("error"), r.body());
        assertNotNull(body.get("error_description"), r.body());
    }

    @Test
    void withoutAdminTokenIs401() {
        var noToken = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + T + "/agents")).GET());
        assertEquals(401, noToken.statusCode());
        var badToken = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + T + "/agents"))
                .header("Authorization", "Bearer dpa_nope").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"x\"}")));
        assertEquals(401, badToken.statusCode());
        assertEquals(401, broker.send(HttpRequest.newBuilder(URI.create(broker.url() + T + "/apply?dry_run=true"))
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
    }

    @Test
    void createShowListAudited() {
        Map<String, Object> a = createJwtAgent("create-1");
        assertEquals("active", a.get("status"));
        assertEquals("api", a.get("managed_by"));
        assertEquals(List.of("deploy-reader"), a.get("roles"));
        Map<String, Object> cred = list(a.get("credentials")).get(0);
        assertEquals("jwks", cred.get("kind"));
        assertFalse(broker.get(T + "/agents/create-1").body().contains("\"d\""), "no private material");

        AuditEntry e = broker.lastAudit("demo", "agent.created", "create-1");
        assertEquals("success", e.outcome());
        assertEquals("admin", e.clientId());
        Map<String, Object> d = details(e);
        assertEquals("admin:admin", d.get("actor"));
        assertEquals("staging", map(d.get("after")).get("environment"));
        assertEquals("jwks", map(d.get("credential")).get("kind"));
        assertTrue(changes.contains("demo/create-1"));

        var shown = ManageBroker.json(broker.get(T + "/agents/create-1").body());
        assertEquals("Bot create-1", shown.get("name"));
        assertEquals(Map.of("team", "billing"), shown.get("metadata"));
        var all = list(ManageBroker.json(broker.get(T + "/agents").body()).get("agents"));
        assertTrue(all.stream().anyMatch(x -> x.get("id").equals("create-1")));
        var revoked = list(ManageBroker.json(broker.get(T + "/agents?status=revoked").body()).get("agents"));
        assertTrue(revoked.stream().noneMatch(x -> x.get("id").equals("create-1")));
    }

    @Test
    void badInputIs400WithJson() {
        assertError(broker.post(T + "/agents", "{\"id\":\"Bad Id\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\"}"),
                400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"nenv\",\"auth_method\":\"private_key_jwt\"}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"nmeth\",\"environment\":\"dev\",\"auth_method\":\"client_secret_basic\"}"),
                400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"nrole\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"roles\":[\"nope\"]}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"envrole\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"roles\":[\"prod-only\"]}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"priv\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"jwks\":" + TestKeys.privateJwks() + "}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"unk\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"colour\":\"red\"}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{not json"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "[]"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"http\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"jwks_uri\":\"http://keys.example.com/jwks\"}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"ssrf\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"jwks_uri\":\"https://10.0.0.8/jwks\"}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents", "{\"id\":\"tlsc\",\"environment\":\"dev\",\"auth_method\":\"tls_client_auth\","
                + "\"certificate\":\"x\"}"), 400, "invalid_request");
        assertError(broker.get(T + "/agents?status=sleeping"), 400, "invalid_request");
        assertError(broker.get(T + "/agents?dormant=maybe"), 400, "invalid_request");
        assertError(broker.get(T + "/agents/nope"), 404, "not_found");
        assertError(broker.post(T + "/agents/nope/suspend", null), 404, "not_found");
        assertError(broker.get("/admin/t/nosuch/agents"), 404, "not_found");
        assertError(broker.patch(T + "/agents/nope", "{\"name\":\"x\"}"), 404, "not_found");
        // refusals are audited too, with the admin
        AuditEntry rejected = broker.lastAudit("demo", "admin.request.rejected", null);
        assertEquals("admin", rejected.clientId());
        for (String id : List.of("nenv", "nmeth", "nrole", "envrole", "priv", "unk", "http", "ssrf", "tlsc")) {
            assertEquals(404, broker.get(T + "/agents/" + id).statusCode(), id + " must not exist");
        }
    }

    @Test
    void duplicateIs409() {
        createJwtAgent("dup-1");
        assertError(broker.post(T + "/agents", "{\"id\":\"dup-1\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\"}"),
                409, "conflict");
    }

    @Test
    void patchAudited() {
        createJwtAgent("patch-1");
        var r = broker.patch(T + "/agents/patch-1", "{\"name\":\"Renamed\",\"roles\":[]}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("Renamed", ManageBroker.json(r.body()).get("name"));
        Map<String, Object> d = details(broker.lastAudit("demo", "agent.updated", "patch-1"));
        assertEquals("Bot patch-1", map(d.get("before")).get("name"));
        assertEquals("Renamed", map(d.get("after")).get("name"));
        assertEquals(List.of(), map(d.get("after")).get("roles"));
        assertError(broker.patch(T + "/agents/patch-1", "{\"auth_method\":\"tls_client_auth\"}"), 400, "invalid_request");
    }

    /**
     * A lifecycle change and its audit entry are one transaction: when the entry cannot be written (here a row in
     * the audit_agents side index already holds the next sequence numbers for this agent, so every insert of the
     * entry fails on the primary key), the status change is rolled back with it and the caller gets a 503.
     */
    @Test
    void aFailedAuditAppendRollsTheStateChangeBack() {
        createJwtAgent("tx-1");
        var db = broker.bean(dev.deputy.broker.storage.Database.class);
        var store = broker.bean(dev.deputy.broker.audit.AuditStore.class);
        long head = store.head("demo").orElseThrow().seq();
        for (long s = head + 1; s <= head + 20; s++) {
            db.dsl().execute("INSERT INTO audit_agents (tenant_id, agent_id, seq, event_type) VALUES (?, ?, ?, ?)",
                    "demo", "tx-1", s, "forged");
        }
        try {
            var r = broker.post(T + "/agents/tx-1/suspend", "{\"reason\":\"must not stick\"}");
            assertError(r, 503, "temporarily_unavailable");
            assertEquals("active", ManageBroker.json(broker.get(T + "/agents/tx-1").body()).get("status"),
                    "the suspension was rolled back with its audit entry");
            assertTrue(broker.audit("demo").stream().noneMatch(e -> e.type().equals("agent.suspended")
                    && "tx-1".equals(e.agentId())));
            assertTrue(store.range("demo", head + 1, 1000).stream().noneMatch(e -> "tx-1".equals(e.agentId())),
                    "no entry about tx-1 after the failed change");
        } finally {
            db.dsl().execute("DELETE FROM audit_agents WHERE tenant_id = ? AND agent_id = ? AND event_type = ?",
                    "demo", "tx-1", "forged");
        }
        // the same change goes through once the store accepts the entry; the chain has no gap
        var ok = broker.post(T + "/agents/tx-1/suspend", "{\"reason\":\"now\"}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("suspended", ManageBroker.json(broker.get(T + "/agents/tx-1").body()).get("status"));
        assertEquals("now", details(broker.lastAudit("demo", "agent.suspended", "tx-1")).get("reason"));
        assertTrue(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("demo").ok());
    }

    @Test
    void suspendResumeRevokeAudited() {
        createJwtAgent("life-1");
        changes.clear();
        var r = broker.post(T + "/agents/life-1/suspend", "{\"reason\":\"investigating\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("suspended", ManageBroker.json(r.body()).get("status"));
        AuditEntry e = broker.lastAudit("demo", "agent.suspended", "life-1");
        assertEquals("active", map(details(e).get("before")).get("status"));
        assertEquals("suspended", map(details(e).get("after")).get("status"));
        assertEquals("investigating", details(e).get("reason"));
        assertEquals("admin:admin", details(e).get("actor"));
        assertTrue(changes.contains("demo/life-1"));
        assertError(broker.post(T + "/agents/life-1/suspend", null), 409, "conflict");

        r = broker.post(T + "/agents/life-1/resume", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("active", ManageBroker.json(r.body()).get("status"));
        assertEquals("active", map(details(broker.lastAudit("demo", "agent.resumed", "life-1")).get("after")).get("status"));

        changes.clear();
        r = broker.post(T + "/agents/life-1/revoke", "{\"reason\":\"compromised\"}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> revoked = ManageBroker.json(r.body());
        assertEquals("revoked", revoked.get("status"));
        for (Map<String, Object> c : list(revoked.get("credentials"))) {
            assertEquals("revoked", c.get("status"));
            assertEquals(false, c.get("usable"));
        }
        assertTrue(changes.contains("demo/life-1"), "AgentChanges fired on revoke");
        assertEquals("revoked", map(details(broker.lastAudit("demo", "agent.revoked", "life-1")).get("after")).get("status"));
        // rows stay; revoked is final and its id is not reused
        assertEquals(200, broker.get(T + "/agents/life-1").statusCode());
        assertError(broker.post(T + "/agents/life-1/resume", null), 409, "conflict");
        assertError(broker.post(T + "/agents/life-1/revoke", null), 409, "conflict");
        assertError(broker.post(T + "/agents", "{\"id\":\"life-1\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\"}"),
                409, "conflict");
        var revokedList = list(ManageBroker.json(broker.get(T + "/agents?status=revoked").body()).get("agents"));
        assertTrue(revokedList.stream().anyMatch(x -> x.get("id").equals("life-1")));
    }

    @Test
    void rotateJwksLimitsOldCredential() {
        Map<String, Object> a = createJwtAgent("rot-1");
        String oldId = (String) list(a.get("credentials")).get(0).get("id");
        var r = broker.post(T + "/agents/rot-1/rotate", "{\"jwks\":" + TestKeys.publicJwks() + ",\"overlap\":\"10m\"}");
        assertEquals(200, r.statusCode(), r.body());
        List<Map<String, Object>> creds = list(ManageBroker.json(r.body()).get("credentials"));
        assertEquals(2, creds.size());
        Map<String, Object> old = creds.stream().filter(c -> c.get("id").equals(oldId)).findFirst().orElseThrow();
        Map<String, Object> fresh = creds.stream().filter(c -> !c.get("id").equals(oldId)).findFirst().orElseThrow();
        assertNotNull(old.get("valid_until"));
        assertEquals(true, old.get("usable"), "still usable during the overlap");
        assertNull(fresh.get("valid_until"));
        Map<String, Object> d = details(broker.lastAudit("demo", "agent.rotated", "rot-1"));
        assertEquals(List.of(oldId), d.get("limited_credentials"));
        assertEquals(600, ((Number) d.get("overlap_seconds")).intValue());
        assertEquals("admin:admin", d.get("actor"));
        assertError(broker.post(T + "/agents/rot-1/rotate", "{\"jwks\":" + TestKeys.publicJwks() + ",\"overlap\":\"soon\"}"),
                400, "invalid_request");
        assertError(broker.post(T + "/agents/rot-1/rotate", "{}"), 400, "invalid_request");
    }

    @Test
    void pinnedCertificatesAndJwksUri() {
        X509Certificate c1 = TestKeys.selfSigned("pin-1");
        var r = broker.post(T + "/agents", """
                {"id":"pin-1","environment":"production","auth_method":"self_signed_tls_client_auth","certificate":%s}"""
                .formatted(ManageBroker.JSON.valueToTree(TestKeys.pem(c1)).toString()));
        assertEquals(201, r.statusCode(), r.body());
        Map<String, Object> cred = list(ManageBroker.json(r.body()).get("credentials")).get(0);
        assertEquals("pinned_cert", cred.get("kind"));
        assertEquals(TestKeys.thumbprint(c1), cred.get("x5t#S256"));
        assertNotNull(cred.get("not_after"));
        assertEquals(TestKeys.thumbprint(c1),
                broker.bean(AgentStore.class).credentialByThumbprint("demo", TestKeys.thumbprint(c1)).orElseThrow().thumbprint());
        // the same certificate again: conflict; a key instead of a certificate: 400
        assertError(broker.post(T + "/agents/pin-1/credentials", "{\"certificate\":"
                + ManageBroker.JSON.valueToTree(TestKeys.pem(c1)) + "}"), 409, "conflict");
        assertError(broker.post(T + "/agents/pin-1/credentials", "{\"jwks\":" + TestKeys.publicJwks() + "}"),
                400, "invalid_request");
        assertError(broker.post(T + "/agents/pin-1/credentials", "{\"certificate\":\"-----BEGIN PRIVATE KEY-----\"}"),
                400, "invalid_request");
        X509Certificate c2 = TestKeys.selfSigned("pin-1b");
        r = broker.post(T + "/agents/pin-1/rotate", "{\"certificate\":" + ManageBroker.JSON.valueToTree(TestKeys.pem(c2)) + "}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(TestKeys.thumbprint(c2),
                map(details(broker.lastAudit("demo", "agent.rotated", "pin-1")).get("new_credential")).get("x5t#S256"));

        // tls_client_auth: certificates come from the CA endpoint, not from here
        r = broker.post(T + "/agents", "{\"id\":\"ca-1\",\"environment\":\"production\",\"auth_method\":\"tls_client_auth\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertError(broker.post(T + "/agents/ca-1/credentials", "{\"certificate\":"
                + ManageBroker.JSON.valueToTree(TestKeys.pem(TestKeys.selfSigned("x"))) + "}"), 400, "invalid_request");
        assertError(broker.post(T + "/agents/ca-1/rotate", "{\"jwks\":" + TestKeys.publicJwks() + "}"), 400, "invalid_request");

        // jwks_uri: https, or http on loopback when the broker allows it (this test broker does)
        r = broker.post(T + "/agents", "{\"id\":\"uri-1\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"jwks_uri\":\"https://keys.example.com/.well-known/jwks.json\"}");
        assertEquals(201, r.statusCode(), r.body());
        r = broker.post(T + "/agents/uri-1/credentials", "{\"jwks_uri\":\"http://127.0.0.1:9999/jwks\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("http://127.0.0.1:9999/jwks", ManageBroker.json(r.body()).get("jwks_uri"));
        assertEquals("jwks_uri", map(details(broker.lastAudit("demo", "agent.credential.added", "uri-1"))
                .get("credential")).get("kind"));
    }

    @Test
    void dormancyListedAndAutoSuspendedAsSystem() {
        createJwtAgent("dorm-old");
        createJwtAgent("dorm-new");
        long twoDaysAgo = System.currentTimeMillis() - 2 * 86_400_000L;
        broker.bean(AgentStore.class).touchLastSeen("demo", "dorm-old", twoDaysAgo);
        var listed = list(ManageBroker.json(broker.get(T + "/agents?dormant=true").body()).get("agents"));
        assertTrue(listed.stream().anyMatch(x -> x.get("id").equals("dorm-old")), listed.toString());
        assertTrue(listed.stream().noneMatch(x -> x.get("id").equals("dorm-new")), listed.toString());

        Map<String, List<String>> swept = broker.bean(DormancyJob.class).sweep(false);
        assertTrue(swept.get("demo").contains("dorm-old"), swept.toString());
        assertFalse(swept.get("demo").contains("dorm-new"));
        assertEquals("suspended", ManageBroker.json(broker.get(T + "/agents/dorm-old").body()).get("status"));
        AuditEntry e = broker.lastAudit("demo", "agent.dormant", "dorm-old");
        assertEquals("system:dormancy", details(e).get("actor"));
        assertNull(e.clientId());
        assertTrue(((String) details(e).get("reason")).startsWith("dormant"));
        // a resume restarts the dormancy clock
        assertEquals(200, broker.post(T + "/agents/dorm-old/resume", null).statusCode());
        assertFalse(broker.bean(DormancyJob.class).sweep(false).get("demo").contains("dorm-old"));
    }

    @Test
    void rolesAndResources() {
        var r = broker.post(T + "/roles", "{\"name\":\"tmp-role\",\"scopes\":[\"a\",\"b\"]}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals(List.of("a", "b"), map(details(broker.lastAudit("demo", "role.created", null)).get("after")).get("scopes"));
        assertError(broker.post(T + "/roles", "{\"name\":\"tmp-role\"}"), 409, "conflict");
        assertError(broker.post(T + "/roles", "{\"name\":\"bad scope\",\"scopes\":[\"a b\"]}"), 400, "invalid_request");
        assertError(broker.post(T + "/roles", "{\"name\":\"q\",\"scopes\":[\"a\\\"b\"]}"), 400, "invalid_request");
        r = broker.put(T + "/roles/tmp-role", "{\"scopes\":[\"c\"]}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> d = details(broker.lastAudit("demo", "role.updated", null));
        assertEquals(List.of("a", "b"), map(d.get("before")).get("scopes"));
        assertEquals(List.of("c"), map(d.get("after")).get("scopes"));
        broker.post(T + "/agents", "{\"id\":\"holder\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\","
                + "\"roles\":[\"tmp-role\"]}");
        assertError(broker.delete(T + "/roles/tmp-role"), 409, "conflict");
        assertEquals(200, broker.patch(T + "/agents/holder", "{\"roles\":[]}").statusCode());
        assertEquals(204, broker.delete(T + "/roles/tmp-role").statusCode());
        assertError(broker.delete(T + "/roles/tmp-role"), 404, "not_found");

        r = broker.post(T + "/resources", "{\"uri\":\"https://mcp.example.com/deploy/\",\"name\":\"Deploy\","
                + "\"scopes\":[\"mcp:tool:deploy.read\"],\"default\":true}");
        assertEquals(201, r.statusCode(), r.body());
        Map<String, Object> res = ManageBroker.json(r.body());
        assertEquals("https://mcp.example.com/deploy", res.get("uri"));
        assertEquals("mcp.example.com-deploy", res.get("id"));
        assertEquals(true, res.get("default"));
        assertEquals("https://mcp.example.com/deploy", broker.lastAudit("demo", "resource.created", null).resource());
        assertError(broker.post(T + "/resources", "{\"uri\":\"https://mcp.example.com/deploy\"}"), 409, "conflict");
        assertError(broker.post(T + "/resources", "{\"uri\":\"https://other.example.com\",\"default\":true}"), 409, "conflict");
        assertError(broker.post(T + "/resources", "{\"uri\":\"https://x.example.com/#frag\"}"), 400, "invalid_request");
        assertError(broker.post(T + "/resources", "{\"uri\":\"http://x.example.com\"}"), 400, "invalid_request");
        var listed = list(ManageBroker.json(broker.get(T + "/resources").body()).get("resources"));
        assertEquals(1, listed.size());
        assertEquals(204, broker.delete(T + "/resources/mcp.example.com-deploy").statusCode());
        assertEquals("resource.deleted", broker.lastAudit("demo", "resource.deleted", null).type());
    }
}
