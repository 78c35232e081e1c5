package dev.deputy.broker.admin;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.audit.AuditAlarms;
import dev.deputy.broker.audit.AuditEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, finding 3: identifiers the former secret guard took for JWTs (three dot-separated labels of 8+
 * characters) and a unicode/space/slash upstream-style sub go through every admin mutation and the token endpoint
 * with their audit entry and no 500; then the database state is compared with the trail: every object that exists
 * has its creation entry, every mutation that answered 2xx has its entry, and the last entry about each object
 * describes its current state. Runs on the embedded default and on MariaDB + Redis (subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class HostileIdentifiersContract {
    static final String T = "/admin/t/demo";
    static final String AGENT = "payments.settlement.reconciler";
    static final String OWNER = "jonathan.christopher.williams";
    static final String RESOURCE_HOST = "inventory.warehouse.example";
    static final String CLIENT = "frontend.dashboard.production";
    static final String ROLE = "payments.settlement.approvers";
    static final String SUB = "00u/ä+ |x";
    static final String SCOPE = "inventory.warehouse.read";

    ManageBroker broker;
    final ECKey key = TestKeys.ecJwk();
    final List<AuditAlarms.Alarm> alarms = new CopyOnWriteArrayList<>();
    AutoCloseable alarmHook;
    /** Every 2xx mutation: the entry type it must have produced and how to recognise that entry. */
    final List<Expected> expected = new ArrayList<>();

    record Expected(String what, String type, Predicate<AuditEntry> about) {
    }

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        broker = ManageBroker.start(ManageBroker.newRoot(), mariadbAndRedis(), Map.of());
        alarmHook = AuditAlarms.listen(alarms::add);
    }

    @AfterAll
    void stop() throws Exception {
        if (alarmHook != null) {
            alarmHook.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    HttpResponse<String> ok(String what, HttpResponse<String> r, int status, String type, Predicate<AuditEntry> about) {
        assertNotEquals(500, r.statusCode(), what + ": " + r.body());
        assertEquals(status, r.statusCode(), () -> what + ": " + r.body() + " " + broker.audit("demo").stream()
                .filter(e -> e.type().endsWith("rejected")).reduce((x, y) -> y).map(AuditEntry::details).orElse(""));
        expected.add(new Expected(what, type, about));
        return r;
    }

    static Predicate<AuditEntry> agent(String id) {
        return e -> id.equals(e.agentId());
    }

    static Predicate<AuditEntry> detail(String key, String value) {
        return e -> value.equals(ManageBroker.json(e.details()).get(key));
    }

    static Predicate<AuditEntry> client(String id) {
        return e -> id.equals(e.clientId());
    }

    static String json(String s) {
        return ManageBroker.JSON.valueToTree(s).toString();
    }

    @Test
    void everyIdentifierThroughEveryMutationWithItsEntryAndTheTrailMatchesTheState() throws Exception {
        // resources: a host of three long labels, as id and inside the URI
        ok("create resource", broker.post(T + "/resources", """
                {"id":"%s","uri":"https://%s/mcp","name":%s,"scopes":["%s"],"default":true}"""
                .formatted(RESOURCE_HOST, RESOURCE_HOST, json("Inventory " + SUB), SCOPE)), 201, "resource.created",
                detail("resource_id", RESOURCE_HOST));
        ok("update resource", broker.put(T + "/resources/" + RESOURCE_HOST, """
                {"uri":"https://%s/mcp","name":"Inventory","scopes":["%s","%s.write"],"default":true}"""
                .formatted(RESOURCE_HOST, SCOPE, SCOPE)), 200, "resource.updated", detail("resource_id", RESOURCE_HOST));
        ok("create second resource", broker.post(T + "/resources", """
                {"id":"warehouse.reporting.archive","uri":"https://warehouse.reporting.archive/","scopes":["r"]}"""),
                201, "resource.created", detail("resource_id", "warehouse.reporting.archive"));
        ok("delete second resource", broker.delete(T + "/resources/warehouse.reporting.archive"), 204,
                "resource.deleted", detail("resource_id", "warehouse.reporting.archive"));

        // roles
        ok("create role", broker.post(T + "/roles", """
                {"name":"%s","description":%s,"scopes":["%s"]}""".formatted(ROLE, json("approvers of " + SUB), SCOPE)),
                201, "role.created", detail("role", ROLE));
        ok("update role", broker.put(T + "/roles/" + ROLE, """
                {"description":"approvers","scopes":["%s"]}""".formatted(SCOPE)), 200, "role.updated", detail("role", ROLE));
        ok("create second role", broker.post(T + "/roles", "{\"name\":\"payments.settlement.observers\",\"scopes\":[\"r\"]}"),
                201, "role.created", detail("role", "payments.settlement.observers"));
        ok("delete second role", broker.delete(T + "/roles/payments.settlement.observers"), 204, "role.deleted",
                detail("role", "payments.settlement.observers"));

        // agents: the dotted id, the dotted owner, the unicode owner
        String jwks = new JWKSet(key.toPublicJWK()).toString(true);
        ok("create agent", broker.post(T + "/agents", """
                {"id":"%s","name":%s,"owner":"%s","environment":"staging","roles":["%s"],
                 "auth_method":"private_key_jwt","metadata":{"team":"%s","contact":%s},"jwks":%s}"""
                .formatted(AGENT, json("Reconciler " + SUB), OWNER, ROLE, RESOURCE_HOST, json(SUB), jwks)),
                201, "agent.created", agent(AGENT));
        ok("create agent owned by a unicode sub", broker.post(T + "/agents", """
                {"id":"%s","owner":%s,"environment":"dev","auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(OWNER, json(SUB), TestKeys.publicJwks())), 201, "agent.created", agent(OWNER));
        ok("update agent", broker.patch(T + "/agents/" + AGENT, "{\"owner\":" + json(SUB) + ",\"name\":\"" + CLIENT + "\"}"),
                200, "agent.updated", agent(AGENT));
        ok("suspend agent", broker.post(T + "/agents/" + OWNER + "/suspend", "{\"reason\":" + json("owner " + SUB + " left") + "}"),
                200, "agent.suspended", agent(OWNER));
        ok("resume agent", broker.post(T + "/agents/" + OWNER + "/resume", null), 200, "agent.resumed", agent(OWNER));
        ok("rotate agent", broker.post(T + "/agents/" + OWNER + "/rotate", "{\"jwks\":" + TestKeys.publicJwks()
                + ",\"overlap\":\"10m\"}"), 200, "agent.rotated", agent(OWNER));
        ok("revoke agent", broker.post(T + "/agents/" + OWNER + "/revoke", "{\"reason\":\"" + RESOURCE_HOST + "\"}"),
                200, "agent.revoked", agent(OWNER));

        // clients
        ok("create client", broker.post(T + "/clients", """
                {"client_id":"%s","name":%s,"redirect_uris":["https://%s/cb"],"internal":true}"""
                .formatted(CLIENT, json(SUB), RESOURCE_HOST)), 201, "client.created", client(CLIENT));
        ok("update client", broker.patch(T + "/clients/" + CLIENT, """
                {"redirect_uris":["https://%s/cb2"]}""".formatted(RESOURCE_HOST)), 200, "client.updated", client(CLIENT));
        ok("create second client", broker.post(T + "/clients", """
                {"client_id":"frontend.dashboard.staging","redirect_uris":["https://frontend.dashboard.example/cb"]}"""),
                201, "client.created", client("frontend.dashboard.staging"));
        ok("delete second client", broker.delete(T + "/clients/frontend.dashboard.staging"), 204, "client.deleted",
                client("frontend.dashboard.staging"));

        // the token endpoint: the dotted agent gets a token, and the entry's subject is the agent id (finding 5)
        String issuer = (String) ManageBroker.json(broker.send(HttpRequest.newBuilder(
                URI.create(broker.url() + "/.well-known/oauth-authorization-server/t/demo")).GET()).body()).get("issuer");
        HttpResponse<String> tr = token("grant_type=client_credentials&scope=" + SCOPE
                + "&client_assertion_type=" + enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                + "&client_assertion=" + assertion(AGENT, issuer));
        ok("client_credentials", tr, 200, "token.issued", agent(AGENT).and(e -> AGENT.equals(e.subject())));
        AuditEntry issued = broker.lastAudit("demo", "token.issued", AGENT);
        assertEquals(AGENT, issued.subject(), "an agent acting alone: subject is the agent id");
        assertNull(issued.subjectIss());
        assertEquals("https://" + RESOURCE_HOST + "/mcp", issued.resource());

        // a refused request whose client_id is a JWT: 401, and token.rejected with the value redacted, not dropped
        String jwtLike = assertion(AGENT, issuer);
        int before = alarms.size();
        HttpResponse<String> refused = token("grant_type=client_credentials&client_id=" + enc(jwtLike)
                + "&client_secret=nope");
        assertEquals(401, refused.statusCode(), refused.body());
        assertEquals("invalid_client", ManageBroker.json(refused.body()).get("error"));
        AuditEntry rejected = lastOf("token.rejected");
        assertEquals("[redacted:jwt]", rejected.clientId());
        assertFalse(String.valueOf(rejected.details()).contains(jwtLike));
        assertTrue(alarms.size() > before, "the redaction raised an alarm");
        assertTrue(alarms.subList(before, alarms.size()).stream().allMatch(a -> a.reason().equals("jwt")), alarms::toString);
        Map<String, Object> counts = ManageBroker.json(broker.get(T + "/audit/alarms").body());
        assertTrue(((Number) counts.get("total")).longValue() >= alarms.size(), counts::toString);
        assertTrue(((Number) ((Map<?, ?>) counts.get("by_reason")).get("jwt")).longValue() >= 1, counts::toString);

        // a refused request naming the dotted client: its id is kept as it is
        HttpResponse<String> unknown = token("grant_type=client_credentials&client_id=" + CLIENT + "&client_secret=wrong");
        assertEquals(401, unknown.statusCode(), unknown.body());
        assertEquals(CLIENT, lastOf("token.rejected").clientId());

        // ---- the trail against the state ----
        List<AuditEntry> trail = broker.audit("demo");
        for (Expected x : expected) {
            assertTrue(trail.stream().anyMatch(e -> e.type().equals(x.type()) && x.about().test(e)),
                    () -> x.what() + ": no " + x.type() + " entry");
        }
        // every object that exists has its creation entry, and the last entry about it states what it is now
        for (Map<String, Object> a : list(broker.get(T + "/agents"), "agents")) {
            String id = (String) a.get("id");
            assertTrue(trail.stream().anyMatch(e -> e.type().equals("agent.created") && id.equals(e.agentId())), id);
            AuditEntry last = lastAbout(trail, e -> e.type().startsWith("agent.") && id.equals(e.agentId())
                    && ManageBroker.json(e.details()).get("after") != null);
            @SuppressWarnings("unchecked")
            Map<String, Object> after = (Map<String, Object>) ManageBroker.json(last.details()).get("after");
            assertEquals(a.get("status"), after.get("status"), id);
            assertEquals(a.get("owner"), after.get("owner"), id);
            assertEquals(a.get("roles"), after.get("roles"), id);
        }
        for (Map<String, Object> r : list(broker.get(T + "/roles"), "roles")) {
            String name = (String) r.get("name");
            AuditEntry last = lastAbout(trail, e -> e.type().startsWith("role.") && detail("role", name).test(e));
            assertNotEquals("role.deleted", last.type(), name);
            @SuppressWarnings("unchecked")
            Map<String, Object> after = (Map<String, Object>) ManageBroker.json(last.details()).get("after");
            assertEquals(r.get("scopes"), after.get("scopes"), name);
        }
        for (Map<String, Object> r : list(broker.get(T + "/resources"), "resources")) {
            String id = (String) r.get("id");
            AuditEntry last = lastAbout(trail, e -> e.type().startsWith("resource.") && detail("resource_id", id).test(e));
            assertNotEquals("resource.deleted", last.type(), id);
            @SuppressWarnings("unchecked")
            Map<String, Object> after = (Map<String, Object>) ManageBroker.json(last.details()).get("after");
            assertEquals(r.get("uri"), after.get("uri"), id);
            assertEquals(r.get("scopes"), after.get("scopes"), id);
        }
        Set<String> clientsNow = new TreeSet<>();
        for (Map<String, Object> c : list(broker.get(T + "/clients"), "clients")) {
            String id = (String) c.get("client_id");
            clientsNow.add(id);
            AuditEntry last = lastAbout(trail, e -> e.type().startsWith("client.") && !e.type().endsWith("_rejected")
                    && !e.type().endsWith("_denied") && id.equals(e.clientId()));
            assertNotEquals("client.deleted", last.type(), id);
            assertEquals(c.get("redirect_uris"), ManageBroker.json(last.details()).get("redirect_uris"), id);
        }
        assertTrue(clientsNow.contains(CLIENT), clientsNow::toString);
        assertFalse(clientsNow.contains("frontend.dashboard.staging"));
        // deleted objects: gone from the state, and their last entry is the deletion
        assertEquals(404, broker.get(T + "/roles/payments.settlement.observers").statusCode());
        assertEquals("role.deleted", lastAbout(trail, e -> e.type().startsWith("role.")
                && detail("role", "payments.settlement.observers").test(e)).type());
        assertEquals(404, broker.get(T + "/resources/warehouse.reporting.archive").statusCode());
        assertEquals("resource.deleted", lastAbout(trail, e -> e.type().startsWith("resource.")
                && detail("resource_id", "warehouse.reporting.archive").test(e)).type());
        // identifiers are in the trail byte for byte, and no alarm was raised for any of them
        AuditEntry updated = broker.lastAudit("demo", "agent.updated", AGENT);
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) ManageBroker.json(updated.details()).get("after");
        assertEquals(SUB, after.get("owner"));
        assertEquals(CLIENT, after.get("name"));
        assertTrue(alarms.stream().allMatch(a -> a.type().equals("token.rejected") && a.path().equals("client_id")
                || a.path().equals("agent_id")), () -> "unexpected alarms: " + alarms);
        // the chain verifies
        Map<String, Object> verify = ManageBroker.json(broker.get(T + "/audit/verify").body());
        assertEquals(true, verify.get("ok"), verify.toString());
    }

    /** Long identifiers: 40 scopes of 60 characters (2,400 characters of granted scopes) on one token. */
    @Test
    void longScopeListsAndLongIdentifiersKeepTheirEntries() throws Exception {
        List<String> scopes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            scopes.add("inventory.warehouse.example.scope.number." + i + ".read." + "x".repeat(14));
        }
        String scopeJson = ManageBroker.JSON.writeValueAsString(scopes);
        String resourceId = "long." + "segment-".repeat(14) + "end";
        ok("create long resource", broker.post(T + "/resources", """
                {"id":"%s","uri":"https://%s.example/mcp","scopes":%s}""".formatted(resourceId, resourceId, scopeJson)),
                201, "resource.created", detail("resource_id", resourceId));
        String role = "long.role." + "r".repeat(100);
        ok("create long role", broker.post(T + "/roles", """
                {"name":"%s","scopes":%s}""".formatted(role, scopeJson)), 201, "role.created", detail("role", role));
        String agentId = "long.agent." + "a".repeat(110);
        ok("create long agent", broker.post(T + "/agents", """
                {"id":"%s","owner":%s,"environment":"dev","roles":["%s"],"auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(agentId, json("owner " + "ü".repeat(200)), role, new JWKSet(key.toPublicJWK()).toString(true))),
                201, "agent.created", agent(agentId));
        String issuer = (String) ManageBroker.json(broker.send(HttpRequest.newBuilder(
                URI.create(broker.url() + "/.well-known/oauth-authorization-server/t/demo")).GET()).body()).get("issuer");
        HttpResponse<String> tr = token("grant_type=client_credentials&resource=" + enc("https://" + resourceId + ".example/mcp")
                + "&client_assertion_type=" + enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                + "&client_assertion=" + assertion(agentId, issuer));
        assertNotEquals(500, tr.statusCode(), tr.body());
        assertEquals(200, tr.statusCode(), tr.body());
        AuditEntry issued = broker.lastAudit("demo", "token.issued", agentId);
        assertEquals(String.join(" ", scopes), issued.scopes(), "every granted scope is in the entry");
        Map<String, Object> verify = ManageBroker.json(broker.get(T + "/audit/verify").body());
        assertEquals(true, verify.get("ok"), verify.toString());
    }

    @Test
    void entriesApiServesEveryDocumentedFieldAndDetailsAsAnObject() {
        assertEquals(201, broker.post(T + "/roles", "{\"name\":\"fidelity.check.role\",\"scopes\":[\"x\"]}").statusCode());
        HttpResponse<String> r = broker.get(T + "/audit/entries?type=role.created&limit=1000");
        assertEquals(200, r.statusCode(), r.body());
        List<Map<String, Object>> entries = list(r, "entries");
        Map<String, Object> e = entries.stream().filter(x -> "fidelity.check.role".equals(
                ((Map<?, ?>) x.get("details")).get("role"))).findFirst().orElseThrow(() -> new AssertionError(r.body()));
        assertEquals(List.of("tenant", "seq", "time", "type", "outcome", "subject", "subject_iss", "actor", "actor_chain",
                "agent_id", "client_id", "resource", "scopes", "correlation_id", "request_id", "source_ip", "details",
                "prev_hash", "hash", "canon"), List.copyOf(e.keySet()), "every documented field, in order, nulls included");
        assertNull(e.get("subject"));
        assertNull(e.get("actor"));
        assertEquals(List.of(), e.get("actor_chain"));
        assertTrue(e.get("details") instanceof Map, "details is a JSON object");
        assertEquals("admin:admin", ((Map<?, ?>) e.get("details")).get("actor"));
        // the served entry is the stored one: re-encoding details canonically gives back the hashed form
        AuditEntry stored = broker.lastAudit("demo", "role.created", null);
        assertEquals(stored.hash(), e.get("hash"));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(HttpResponse<String> r, String key) {
        assertEquals(200, r.statusCode(), r.body());
        Object body = r.body().trim().startsWith("[") ? null : ManageBroker.json(r.body()).get(key);
        if (body == null) {
            try {
                return ManageBroker.JSON.readValue(r.body(), List.class);
            } catch (Exception ex) {
                throw new AssertionError(r.body(), ex);
            }
        }
        return (List<Map<String, Object>>) body;
    }

    static AuditEntry lastAbout(List<AuditEntry> trail, Predicate<AuditEntry> p) {
        for (int i = trail.size() - 1; i >= 0; i--) {
            if (p.test(trail.get(i))) {
                return trail.get(i);
            }
        }
        throw new AssertionError("no entry");
    }

    AuditEntry lastOf(String type) {
        return broker.lastAudit("demo", type, null);
    }

    HttpResponse<String> token(String form) {
        return broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/t/demo/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    String assertion(String clientId, String audience) {
        return dev.deputy.broker.oauth.TestKeys.sign(key, dev.deputy.broker.oauth.TestKeys.claims(clientId, audience).build());
    }

    static Map<String, Object> copy(Map<String, Object> m) {
        return new LinkedHashMap<>(m);
    }
}
