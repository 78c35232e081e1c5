package dev.deputy.broker.registration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 finding 4: dynamic registration could be shut for a tenant — a bare {@code GET /authorize} marked a
 * registration used and used rows were never purged, so max_clients registrations plus as many GETs locked the
 * endpoint for good. Now only an issued token is use, registrations expire by last use (never-used ones after
 * pending_expiry), and one source address has a rate and a cap of never-used registrations.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistrationAbuseHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PENDING = "2s";
    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        Files.writeString(config.resolve("tenants/demo/registration.yml"), """
                max_clients: 4
                pending_expiry: %s
                max_pending_per_source: 3
                rate_per_source: 7
                rate_window: 1h
                """.formatted(PENDING));
        broker = TestBroker.builder(tmp.resolve("data"), config).start();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    HttpResponse<String> register(String name) {
        return broker.post("/t/demo/register", "application/json", "{\"redirect_uris\":[\"http://127.0.0.1:4711/cb\"],"
                + "\"token_endpoint_auth_method\":\"none\",\"client_name\":\"" + name + "\"}");
    }

    String registered(String name) throws Exception {
        HttpResponse<String> r = register(name);
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("client_id").asText();
    }

    JsonNode refused(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("access_denied", body.get("error").asText(), r.body());
        return body;
    }

    void bareAuthorize(String clientId) {
        HttpResponse<String> r = broker.get("/t/demo/authorize?client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8));
        assertTrue(r.statusCode() < 500, r.body());
    }

    boolean audited(String type, String reason) {
        List<AuditEntry> all = broker.bean(AuditStore.class).range("demo", 0, 100_000);
        return all.stream().anyMatch(e -> e.type().equals(type) && e.details() != null && e.details().contains("\"" + reason + "\""));
    }

    @Test
    void bareAuthorizeNeitherUsesNorLocksRegistration() throws Exception {
        RegistrationStore store = broker.bean(RegistrationStore.class);
        List<String> ids = new ArrayList<>();
        for (String name : List.of("A \u00e9", "B.dotted.name", "C " + "x".repeat(150))) {
            ids.add(registered(name));
        }
        long registeredBy = System.currentTimeMillis(); // every issued_at above is at or before this
        for (String id : ids) {
            bareAuthorize(id);
            bareAuthorize(id);
            // looking a client up is not using it
            assertNull(store.find("demo", id).orElseThrow().usedAt(), id);
        }
        // a fourth never-used registration from this address is over max_pending_per_source
        refused(register("D"), 403);
        assertTrue(audited("client.registration_rejected", "max_pending_per_source"));

        // once pending_expiry has passed (a wall-clock condition, not a guess at machine speed) the never-used
        // registrations are purged and registration is open again
        long pendingMs = 2_000; // PENDING
        while (System.currentTimeMillis() <= registeredBy + pendingMs + 50) {
            Thread.sleep(100);
        }
        String e = registered("E");
        assertTrue(audited("client.expired", "never_used"));
        for (String id : ids) {
            assertTrue(store.find("demo", id).isEmpty(), id);
        }

        // the rate per source counts every attempt (A, B, C, D, E so far): F and G pass, the eighth is 429
        registered("F");
        registered("G");
        HttpResponse<String> limited = register("H");
        // the broker's one rate limiter (docs/security.md, Rate limits): 429 temporarily_unavailable, and a
        // Retry-After of when the bucket (7 per hour, refilled greedily: one every ~8.6 min) has a token again
        assertEquals(429, limited.statusCode(), limited.body());
        assertEquals("temporarily_unavailable", JSON.readTree(limited.body()).get("error").asText(), limited.body());
        long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter > 60 && retryAfter <= 3600 / 7 + 1, "Retry-After " + retryAfter);
        assertTrue(audited("client.registration_rejected", "rate_per_source"));
        assertFalse(e.isEmpty());
    }

    /** Use is an issued token (the token endpoint reports it), and an idle registration expires by its last use. */
    @Test
    void tokensCountAsUseAndIdleRegistrationsExpireByLastUse() throws Exception {
        RegistrationStore store = broker.bean(RegistrationStore.class);
        RegistrationPolicy policy = broker.bean(RegistrationPolicies.class).of("demo");
        long now = System.currentTimeMillis();
        // rows as a registration from another address would leave them (the HTTP path is rate-limited in the test above)
        store.save(new Registration("demo", "dcr_used", "{}", "0".repeat(64), now, null, "192.0.2.7"));
        store.save(new Registration("demo", "dcr_idle", "{}", "0".repeat(64), now - policy.unusedExpiry().toMillis() * 2,
                null, "192.0.2.7"));
        broker.bean(dev.deputy.broker.agent.ClientStore.class).save(new dev.deputy.broker.agent.OAuthClient("demo",
                "dcr_idle", "Idle", List.of("http://127.0.0.1/cb"), false, "none", null, "dcr", now, now));
        RegistrationUsage usage = broker.bean(RegistrationUsage.class);
        usage.tokenIssued("demo", new AuthenticatedClient("dcr_used", null, "none", null, false));
        assertNotNull(store.find("demo", "dcr_used").orElseThrow().usedAt());
        // an agent is never looked up
        usage.tokenIssued("demo", new AuthenticatedClient("agt_x", "agt_x", "private_key_jwt", null, true));

        // last used long ago: the next lookup removes it (and audits why)
        store.recordUse("demo", "dcr_idle", now - policy.unusedExpiry().toMillis() - 60_000);
        assertTrue(broker.bean(ClientDirectory.class).find("demo", "dcr_idle").isEmpty());
        assertTrue(store.find("demo", "dcr_idle").isEmpty());
        assertTrue(audited("client.expired", "unused"));
    }
}
