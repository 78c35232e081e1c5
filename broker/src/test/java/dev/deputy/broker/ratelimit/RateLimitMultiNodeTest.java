package dev.deputy.broker.ratelimit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.AgentTestNodes;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
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

    @Test
    void twoNodesShareTheBuckets() throws Exception {
        Path config = AgentTestNodes.config(dir, """
                display_name: Fleet
                rate_limits:
                  token_per_client: 4/1h
                  failed_client_auth_per_source: 3/1h
                """);
        JWK key = TestKeys.ec();
        try (AgentTestNodes nodes = AgentTestNodes.start(2, dir, config)) {
            AgentTestBroker a = nodes.node(0);
            AgentTestBroker b = nodes.node(1);
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
            assertTrue(nodes.namespace().redis().keys(nodes.namespace().prefix() + "rl:*").size() >= 2);
        }
    }

    static List<AuditEntry> refusals(AgentTestBroker node, String reason) {
        return node.bean(AuditStore.class).range("demo", 0, 100_000).stream()
                .filter(e -> e.type().equals("token.rejected") && e.details() != null
                        && e.details().contains("\"reason\":\"" + reason + "\""))
                .toList();
    }

}
