package dev.deputy.broker.ratelimit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.RedisNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes on one MariaDB and one Redis take from the same buckets: a client's token requests and a source's
 * failed client authentications count together whichever node serves them, and the sampled audit entry is written
 * once for both.
 */
class RateLimitMultiNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String AGENT = "fleet.agent-7.rate";

    @TempDir
    Path dir;

    static AgentTestBroker node(Path config, Path data, MariaDbDatabase db, RedisNamespace ns, String masterKey) {
        return AgentTestBroker.builder(data).configDir(config).dataDir(data).mysql(db.jdbcUrl())
                .redis(ns.uri(), ns.prefix()).masterKey(masterKey)
                .property("deputy.public-url", "http://deputy.test").start();
    }

    @Test
    void twoNodesShareTheBuckets() throws Exception {
        byte[] mk = new byte[32];
        new SecureRandom().nextBytes(mk);
        String masterKey = Base64.getEncoder().encodeToString(mk);
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), """
                display_name: Fleet
                rate_limits:
                  token_per_client: 4/1h
                  failed_client_auth_per_source: 3/1h
                """);
        JWK key = TestKeys.ec();
        try (MariaDbDatabase db = MariaDbDatabase.create();
             RedisNamespace ns = RedisNamespace.create();
             AgentTestBroker a = node(config, dir.resolve("a"), db, ns, masterKey);
             AgentTestBroker b = node(config, dir.resolve("b"), db, ns, masterKey)) {
            a.standardFixture();
            a.agent(AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            a.credential(AGENT, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(key));
            String issuer = "http://deputy.test/t/demo";

            // four tokens, alternating nodes, then both nodes refuse: one bucket
            for (int i = 0; i < 4; i++) {
                AgentTestBroker node = i % 2 == 0 ? a : b;
                HttpResponse<String> r = node.post("/t/demo/token",
                        TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(AGENT, issuer).build())));
                assertEquals(200, r.statusCode(), () -> r.body() + " " + node.bean(AuditStore.class)
                        .range("demo", 0, 100_000).stream().filter(e -> e.type().equals("token.rejected"))
                        .map(AuditEntry::details).toList());
            }
            for (AgentTestBroker node : List.of(a, b)) {
                HttpResponse<String> r = node.post("/t/demo/token",
                        TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(AGENT, issuer).build())));
                RateLimitHttpTest.limited(r, 3600 / 4 + 1);
            }
            // the sample is shared too: two refusals (one per node), one entry in the tenant's one chain
            List<AuditEntry> sampled = refusals(a, "token_per_client");
            assertEquals(1, sampled.size(), sampled.toString());
            assertEquals(AGENT, sampled.get(0).clientId());

            // failed client authentication per source: 3 over both nodes, the fourth is refused
            assertEquals(401, a.post("/t/demo/token", TestKeys.assertionForm("x.y.z")).statusCode());
            assertEquals(401, b.post("/t/demo/token", TestKeys.assertionForm("x.y.z")).statusCode());
            assertEquals(401, a.post("/t/demo/token", TestKeys.assertionForm("x.y.z")).statusCode());
            RateLimitHttpTest.limited(b.post("/t/demo/token", TestKeys.assertionForm("x.y.z")), 3600 / 3 + 1);
            RateLimitHttpTest.limited(a.post("/t/demo/token", TestKeys.assertionForm("x.y.z")), 3600 / 3 + 1);
            assertEquals(1, refusals(b, "failed_client_auth_per_source").size());
            assertTrue(ns.redis().keys(ns.prefix() + "rl:*").size() >= 2);
        }
    }

    static List<AuditEntry> refusals(AgentTestBroker node, String reason) {
        return node.bean(AuditStore.class).range("demo", 0, 100_000).stream()
                .filter(e -> e.type().equals("token.rejected") && e.details() != null
                        && e.details().contains("\"reason\":\"" + reason + "\""))
                .toList();
    }

}
