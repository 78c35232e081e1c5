package dev.deputy.broker.governance;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.AgentTestNodes;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CIBA across two broker nodes sharing one MariaDB database and one Redis prefix: a request made on node A is listed
 * for its user on node B; an approval and a denial racing on the two nodes decide it exactly once; the approved
 * auth_req_id redeemed on both nodes at once yields exactly one token.
 */
class CibaMultiNodeTest {
    static final String ISSUER = "http://deputy.test/t/demo";
    static final String SUB = "jonathan.christopher.williams";
    @TempDir
    static Path dir;
    static AgentTestNodes nodes;
    static AgentTestBroker a;
    static AgentTestBroker b;
    static JWK key = TestKeys.ec();
    static String userId = "usr_ciba_" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void start() throws Exception {
        Path config = AgentTestNodes.config(dir, """
                display_name: Demo
                approvals:
                  interval: 1s
                  clients:
                    payments.settlement.reconciler: {backchannel_token_delivery_mode: poll}
                """);
        nodes = AgentTestNodes.start(2, dir, config);
        a = nodes.node(0);
        b = nodes.node(1);
        a.standardFixture();
        a.agent("payments.settlement.reconciler", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        a.credential("payments.settlement.reconciler", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(key));
        long now = System.currentTimeMillis();
        a.bean(UserStore.class).insert(new User("demo", userId, "okta", "https://idp.example.com", SUB,
                "jonathan.christopher.williams@corp.example", "Zoë Ångström", List.of("finance"), List.of(),
                User.Status.ACTIVE, now, now));
    }

    @AfterAll
    static void stop() {
        if (nodes != null) {
            nodes.close();
        }
    }

    static Map<String, String> auth(Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>(params);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(key, TestKeys.claims("payments.settlement.reconciler", ISSUER).build()));
        return form;
    }

    static String request(AgentTestBroker node) {
        HttpResponse<String> r = node.post("/t/demo/bc-authorize", auth(Map.of("login_hint", SUB,
                "binding_message", "Transfer 25,000 EUR to Zoë Müller",
                "authorization_details", "[{\"type\":\"deputy_tool_call\",\"tool\":\"transfer_funds\","
                        + "\"arguments\":{\"amount\":25000,\"payee\":\"Zoë Müller\"}}]")));
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r).get("auth_req_id");
    }

    static <T> List<T> race(List<Callable<T>> tasks) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(tasks.size())) {
            List<Future<T>> fs = new ArrayList<>();
            for (Callable<T> t : tasks) {
                fs.add(pool.submit(t));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : fs) {
                out.add(f.get());
            }
            return out;
        }
    }

    @Test
    void aRequestOnOneNodeIsDecidedOnceAndRedeemedOnceAcrossNodes() throws Exception {
        String authReqId = request(a);
        String id = Approvals.idOf(authReqId);
        assertTrue(b.bean(Approvals.class).pendingFor("demo", userId).stream().anyMatch(p -> p.id().equals(id)),
                "node B lists node A's request for the user");

        List<Approvals.Decided> decided = race(List.of(
                () -> a.bean(Approvals.class).decide("demo", id, userId, true, RequestMeta.INTERNAL),
                () -> b.bean(Approvals.class).decide("demo", id, userId, false, RequestMeta.INTERNAL)));
        assertEquals(1, decided.stream().filter(d -> d == Approvals.Decided.DONE).count(), decided.toString());
        assertEquals(1, decided.stream().filter(d -> d == Approvals.Decided.ALREADY_DECIDED).count(), decided.toString());
        boolean granted = a.audit().stream().anyMatch(e -> e.type().equals("approval.granted") && e.details().contains(id));
        boolean denied = a.audit().stream().anyMatch(e -> e.type().equals("approval.denied") && e.details().contains(id));
        assertTrue(granted ^ denied, "exactly one decision is audited");
        if (denied) {
            // the denial won the race: redeeming is access_denied on both nodes
            assertEquals("access_denied", json(b.post("/t/demo/token", auth(Map.of("grant_type",
                    "urn:openid:params:grant-type:ciba", "auth_req_id", authReqId)))).get("error"));
            authReqId = request(b);
            assertEquals(Approvals.Decided.DONE, b.bean(Approvals.class).decide("demo", Approvals.idOf(authReqId), userId,
                    true, RequestMeta.INTERNAL));
        }
        String approved = authReqId;
        List<HttpResponse<String>> redeemed = race(List.of(
                () -> a.post("/t/demo/token", auth(Map.of("grant_type", "urn:openid:params:grant-type:ciba", "auth_req_id", approved))),
                () -> b.post("/t/demo/token", auth(Map.of("grant_type", "urn:openid:params:grant-type:ciba", "auth_req_id", approved)))));
        assertEquals(1, redeemed.stream().filter(r -> r.statusCode() == 200).count(), redeemed.toString());
        HttpResponse<String> loser = redeemed.stream().filter(r -> r.statusCode() != 200).findFirst().orElseThrow();
        assertEquals("invalid_grant", json(loser).get("error"), loser.body());
    }
}
