package dev.deputy.broker.oauth;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.audit.AuditCheckpoint;
import dev.deputy.broker.audit.AuditCheckpoints;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.storage.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, finding 1, end to end: a signing key planted in the database with plain JDBC (no master key) is not
 * served in {@code /t/<t>/jwks.json} nor in the audit JWKS, is not endorsed by a checkpoint, a token signed with it is
 * refused at introspection and at {@code POST /t/<t>/audit/tool-calls}, and one {@code key.integrity_failed} entry
 * names it; the same after a restart, while the broker's own keys and tokens keep working. Then edited key rows and
 * planted admin / agent credentials. Subclasses: the embedded default (H2) and MariaDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class KeyIntegrityHttpContract {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final String PLANTED = "planted.kid-" + UUID.randomUUID().toString().substring(0, 6);
    Path dir;
    String masterKey;
    AgentTestBroker broker;
    final JWK callerKey = TestKeys.ec();
    final JWK workerKey = TestKeys.ec();
    final ECKey attacker = ec(PLANTED);
    String legitToken;
    String forgedToken;

    /** Null for the embedded default, else the JDBC URL of a database of this test's own. */
    abstract String mysqlUrl();

    abstract void dropDatabase();

    static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).algorithm(JWSAlgorithm.ES256).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    AgentTestBroker start() {
        // a fixed public URL: the issuer (and so the tokens issued before a restart) survives the restart's new port
        AgentTestBroker.Builder b = AgentTestBroker.builder(dir).masterKey(masterKey)
                .property("deputy.public-url", "https://deputy.example");
        if (mysqlUrl() != null) {
            b.mysql(mysqlUrl());
        }
        return b.start();
    }

    @BeforeAll
    void startBroker() throws Exception {
        dir = Files.createTempDirectory("deputy-key-integrity");
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        masterKey = Base64.getEncoder().encodeToString(k);
        broker = start();
        broker.standardFixture();
        broker.agent("rs-caller", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("rs-caller", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(callerKey));
        broker.agent("worker", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("worker", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(workerKey));
    }

    @AfterAll
    void stop() {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            dropDatabase();
        }
    }

    // ---- helpers

    int jdbc(String sql, Object... args) {
        int[] n = new int[1];
        broker.bean(Database.class).dsl().connection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                n[0] = ps.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        });
        return n[0];
    }

    String tokenFor(JWK key, String id) {
        HttpResponse<String> r = broker.post("/t/demo/token",
                TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(id, broker.issuer()).build())));
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r).get("access_token");
    }

    Map<String, Object> introspect(String token) {
        Map<String, String> form = TestKeys.assertionForm(
                TestKeys.sign(callerKey, TestKeys.claims("rs-caller", broker.issuer()).build()));
        form.remove("grant_type");
        form.put("token", token);
        HttpResponse<String> r = broker.post("/t/demo/introspect", form);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    /** A tool-call report by the resource server (authenticated as rs-caller) about a call made with {@code token}. */
    HttpResponse<String> toolCall(String token) {
        Map<String, String> form = TestKeys.assertionForm(
                TestKeys.sign(callerKey, TestKeys.claims("rs-caller", broker.issuer()).build()));
        form.remove("grant_type");
        form.put("token", token);
        form.put("tool", "files.read");
        form.put("status", "ok");
        return broker.post("/t/demo/audit/tool-calls", form);
    }

    List<String> kids(String jwksJson) throws Exception {
        return JWKSet.parse(jwksJson).getKeys().stream().map(JWK::getKeyID).toList();
    }

    List<String> publishedKids() throws Exception {
        HttpResponse<String> r = broker.get("/t/demo/jwks.json");
        assertEquals(200, r.statusCode());
        return kids(r.body());
    }

    List<String> auditJwksKids() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/t/demo/audit/jwks"))
                .header("Authorization", "Bearer " + broker.adminToken()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return kids(r.body());
    }

    /** A token shaped exactly like the broker's, signed with the planted key. */
    String forge(String like) throws Exception {
        JWTClaimsSet c = new JWTClaimsSet.Builder(SignedJWT.parse(like).getJWTClaimsSet())
                .jwtID(UUID.randomUUID().toString()).issueTime(new Date()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("at+jwt"))
                .keyID(PLANTED).build(), c);
        jwt.sign(new ECDSASigner(attacker));
        return jwt.serialize();
    }

    List<AuditEntry> integrityEntries(String tenant, String row) {
        return broker.bean(dev.deputy.broker.audit.AuditStore.class).range(tenant, 0, 100_000).stream()
                .filter(e -> e.type().equals(EventTypes.KEY_INTEGRITY_FAILED))
                .filter(e -> row == null || row.equals(AgentTestBroker.details(e).get("row"))
                        || ClientSecrets.sha256Hex(row).equals(AgentTestBroker.details(e).get("row_sha256")))
                .toList();
    }

    List<AuditEntry> awaitIntegrityEntries(String tenant, String row, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        List<AuditEntry> found = integrityEntries(tenant, row);
        while (found.size() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(25);
            found = integrityEntries(tenant, row);
        }
        assertTrue(found.size() >= atLeast, "expected " + atLeast + " key.integrity_failed entries for " + row + ", got " + found);
        return found;
    }

    Map<String, Object> health() throws Exception {
        HttpResponse<String> r = broker.get("/health");
        return ManageJson.read(r.body());
    }

    static final class ManageJson {
        static Map<String, Object> read(String s) throws Exception {
            return AgentTestBroker.JSON.readValue(s, new TypeReference<>() {
            });
        }
    }

    // ---- the tests

    @Test
    @Order(1)
    void plantedSigningKeyIsNotPublishedEndorsedOrAccepted() throws Exception {
        legitToken = tokenFor(workerKey, "worker");
        assertEquals(true, introspect(legitToken).get("active"));
        assertEquals(201, toolCall(legitToken).statusCode());
        String activeKid = broker.bean(SigningKeys.class).keys("demo").activeKid();

        long now = System.currentTimeMillis();
        assertEquals(1, jdbc("INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at,"
                        + " activated_at, retired_at, publish_until) VALUES ('demo', ?, 'ES256', 'RETIRED', ?, 'not-sealed', ?, ?, ?, ?)",
                PLANTED, attacker.toPublicJWK().toJSONString(), now - 1000, now - 1000, now, now + 3_600_000));
        broker.bean(SigningKeys.class).reload("demo"); // what the 30 s refresh (or any node's restart) does

        assertEquals(List.of(activeKid), publishedKids());
        assertFalse(auditJwksKids().contains(PLANTED));
        AuditCheckpoint cp = broker.bean(AuditCheckpoints.class).checkpoint("demo").orElseThrow();
        assertEquals(activeKid, cp.kid());
        @SuppressWarnings("unchecked")
        List<String> endorsed = (List<String>) SignedJWT.parse(cp.jws()).getJWTClaimsSet().getClaim("keys");
        assertFalse(endorsed.contains(attacker.computeThumbprint().toString()), "the checkpoint does not endorse it");

        // the rest of the finding's attack: a checkpoint over the current head signed by the planted key (as if the
        // entries had been rewritten and re-sealed) is not accepted by the online verify
        dev.deputy.broker.audit.AuditEntry.Head head = broker.bean(dev.deputy.broker.audit.AuditLog.class).head("demo");
        SignedJWT forgedCp = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(dev.deputy.broker.audit.CheckpointVerifier.TYP).keyID(PLANTED).build(),
                new JWTClaimsSet.Builder().claim("tenant", "demo").claim("seq", head.seq()).claim("head", head.hash())
                        .issueTime(new Date()).claim("keys", List.of(attacker.computeThumbprint().toString())).build());
        forgedCp.sign(new ECDSASigner(attacker));
        assertTrue(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("demo").ok());
        jdbc("INSERT INTO audit_checkpoints (tenant_id, seq, head_hash, at_ms, kid, public_jwk, jws) VALUES ('demo', ?, ?, ?, ?, ?, ?)",
                head.seq(), head.hash(), System.currentTimeMillis(), PLANTED, attacker.toPublicJWK().toJSONString(),
                forgedCp.serialize());
        assertFalse(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("demo").ok(),
                "a checkpoint signed by the planted key does not verify");
        jdbc("DELETE FROM audit_checkpoints WHERE tenant_id = 'demo' AND kid = ?", PLANTED);

        forgedToken = forge(legitToken);
        assertEquals(false, introspect(forgedToken).get("active"));
        HttpResponse<String> tc = toolCall(forgedToken);
        assertEquals(400, tc.statusCode(), tc.body());
        assertEquals("invalid_token", json(tc).get("error"));

        List<AuditEntry> entries = awaitIntegrityEntries("demo", PLANTED, 1);
        Map<String, Object> d = AgentTestBroker.details(entries.get(0));
        assertEquals("signing_keys", d.get("table"));
        assertEquals("unsealed", d.get("reason"));
        assertEquals("failure", entries.get(0).outcome().toLowerCase());
        for (int i = 0; i < 3; i++) {
            broker.bean(SigningKeys.class).reload("demo");
            assertEquals(false, introspect(forgedToken).get("active"));
        }
        // a later entry flushes the alarm queue behind it: still exactly one entry for the row
        jdbc("INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at)"
                + " VALUES ('demo', 'sentinel', 'ES256', 'NEXT', ?, 'x', ?)", ec("sentinel").toPublicJWK().toJSONString(), now);
        broker.bean(SigningKeys.class).reload("demo");
        awaitIntegrityEntries("demo", "sentinel", 1);
        assertEquals(1, integrityEntries("demo", PLANTED).size(), "once per bad row, not per request or reload");

        Map<String, Object> h = health();
        assertEquals("UP", h.get("status"), "the broker keeps serving");
        @SuppressWarnings("unchecked")
        Map<String, Object> integrity = (Map<String, Object>) h.get("integrity");
        assertEquals("ALERT", integrity.get("status"));
        assertEquals(2, ((Number) integrity.get("failed_rows")).intValue());
        assertEquals(Map.of("signing_keys", 2), integrity.get("by_table"));
    }

    @Test
    @Order(2)
    void afterARestartThePlantedKeyIsStillRefusedAndTheRealOnesWork() throws Exception {
        broker.close();
        broker = start();
        assertFalse(publishedKids().contains(PLANTED));
        assertFalse(auditJwksKids().contains(PLANTED));
        assertEquals(false, introspect(forgedToken).get("active"));
        assertEquals("invalid_token", json(toolCall(forgedToken)).get("error"));
        assertEquals(true, introspect(legitToken).get("active"), "a token signed before the restart still verifies");
        assertEquals(true, introspect(tokenFor(workerKey, "worker")).get("active"));
        assertEquals(201, toolCall(legitToken).statusCode());
        awaitIntegrityEntries("demo", PLANTED, 2); // reported again by the new process, once
        assertTrue(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("demo").ok(), "the chain verifies");
    }

    @Test
    @Order(3)
    void editedKeyRowsAreRefusedAndTheBrokerSignsWithAKeyThatVerifies() throws Exception {
        SigningKeys keys = broker.bean(SigningKeys.class);
        String oldKid = keys.keys("demo").activeKid();
        keys.rotateNow("demo");
        String newKid = keys.keys("demo").activeKid();
        assertNotEquals(oldKid, newKid);
        assertTrue(publishedKids().containsAll(List.of(oldKid, newKid)));
        String beforeEdit = tokenFor(workerKey, "worker");

        // the retired key flipped back to ACTIVE (with a later activation), the active key's public half swapped
        jdbc("UPDATE signing_keys SET state = 'ACTIVE', activated_at = ? WHERE tenant_id = 'demo' AND kid = ?",
                System.currentTimeMillis() + 60_000, oldKid);
        jdbc("UPDATE signing_keys SET public_jwk = ? WHERE tenant_id = 'demo' AND kid = ?",
                ec(newKid).toPublicJWK().toJSONString(), newKid);
        keys.reload("demo");
        List<String> published = publishedKids();
        assertFalse(published.contains(oldKid));
        assertFalse(published.contains(newKid));
        String fresh = keys.keys("demo").activeKid();
        assertEquals(List.of(fresh), published, "a new key was created; only keys that verify are published");
        assertEquals(false, introspect(beforeEdit).get("active"), "its key no longer verifies");
        String after = tokenFor(workerKey, "worker");
        assertEquals(fresh, SignedJWT.parse(after).getHeader().getKeyID());
        assertEquals(true, introspect(after).get("active"));
        awaitIntegrityEntries("demo", oldKid, 1);
        awaitIntegrityEntries("demo", newKid, 1);
    }

    @Test
    @Order(4)
    void plantedAdminAndAgentCredentialsAreNotAccepted() throws Exception {
        long now = System.currentTimeMillis();
        String adminId = "planted.admin ✓";
        jdbc("INSERT INTO admin_credentials (client_id, secret_sha256, created_at, disabled) VALUES (?, ?, ?, FALSE)",
                adminId, ClientSecrets.sha256Hex("known-secret"), now);
        HttpResponse<String> r = broker.post("/admin/token", Map.of("grant_type", "client_credentials",
                "client_id", adminId, "client_secret", "known-secret"));
        assertEquals(401, r.statusCode(), r.body());
        assertEquals("invalid_client", json(r).get("error"));
        awaitIntegrityEntries("_broker", adminId, 1);

        JWK attackerClientKey = TestKeys.ec();
        jdbc("INSERT INTO agent_credentials (tenant_id, id, agent_id, kind, material, status, created_at)"
                + " VALUES ('demo', 'cred-planted', 'worker', 'JWKS', ?, 'ACTIVE', ?)", TestKeys.publicJwks(attackerClientKey), now);
        broker.bean(AgentChanges.class).changed("demo", "worker"); // any cache of the agent reloads
        HttpResponse<String> t = broker.post("/t/demo/token", TestKeys.assertionForm(
                TestKeys.sign(attackerClientKey, TestKeys.claims("worker", broker.issuer()).build())));
        assertEquals(401, t.statusCode(), t.body());
        assertEquals("invalid_client", json(t).get("error"));
        assertEquals(true, introspect(tokenFor(workerKey, "worker")).get("active"), "the real credential still works");
        awaitIntegrityEntries("demo", "cred-planted", 1);
    }

    @Test
    @Order(5)
    void plantedClientAndConnectorAreRefusedBeforeAndAfterARestart() throws Exception {
        long now = System.currentTimeMillis();
        String client = "frontend.dashboard.production";
        jdbc("INSERT INTO clients (tenant_id, client_id, name, redirect_uris, internal, auth_method, secret_hash, managed_by,"
                + " created_at, updated_at) VALUES ('demo', ?, 'Evil ✓', '[\"https://evil.example/cb\"]', TRUE,"
                + " 'client_secret_post', ?, 'dcr', ?, ?)", client, ClientSecrets.hash("known-secret"), now, now);
        jdbc("INSERT INTO connectors (tenant_id, id, config, enabled, is_default, created_at, updated_at)"
                        + " VALUES ('demo', 'evil.idp', ?, TRUE, TRUE, ?, ?)",
                "{\"type\":\"oidc\",\"issuer\":\"https://evil.example\",\"client_id\":\"x\"}", now, now);
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                broker.close();
                broker = start(); // the connector registry and every cache load from the database again
            }
            HttpResponse<String> t = broker.post("/t/demo/token", Map.of("grant_type", "refresh_token",
                    "refresh_token", "anything", "client_id", client, "client_secret", "known-secret"));
            assertEquals(401, t.statusCode(), t.body());
            assertEquals("invalid_client", json(t).get("error"), "the planted client is unknown, its secret useless");
            HttpResponse<String> c = HTTP.send(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/t/demo/connectors/evil.idp"))
                    .header("Authorization", "Bearer " + broker.adminToken()).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, c.statusCode(), c.body());
        }
        awaitIntegrityEntries("demo", client, 2); // once per process
        awaitIntegrityEntries("demo", "evil.idp", 1);
        assertEquals(true, introspect(tokenFor(workerKey, "worker")).get("active"), "the untouched rows keep working");
    }
}
