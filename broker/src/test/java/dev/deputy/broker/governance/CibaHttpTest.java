package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenID CIBA (poll and ping) with RFC 9396 authorization_details and the transaction-bound token (issue 18), over
 * HTTP against a real broker and a real upstream IdP (mock-oauth2-server): the user signs in to the account page,
 * agents ask for approval at {@code /bc-authorize}, the user approves or denies there, the agents redeem at the token
 * endpoint, and the bank's PEP spends the token once at the AuthZEN decision endpoint. Every refusal has its CIBA /
 * RFC 6749 error and its audit entry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CibaHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CIBA = "urn:openid:params:grant-type:ciba";
    static final String AGENT = "payments.settlement.reconciler";
    static final String PINGER = "treasury.ping.notifier";
    static final String BANK = "bank-mcp";
    static final String STRANGER = "not.a.ciba.client";
    static final String SUB = "00u.jonathan.christopher.williams";
    static final String EMAIL = "jonathan.christopher.williams@okta.example";
    static final String SECRET = "webhook-s3cret-" + UUID.randomUUID();

    @TempDir
    static Path dir;
    FedFixture fx;
    Browser user;
    String userPage;
    HttpServer receiver;
    final LinkedBlockingQueue<Map<String, Object>> pings = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Map<String, Object>> hooks = new LinkedBlockingQueue<>();
    final Map<String, JWK> keys = new LinkedHashMap<>();

    @BeforeAll
    void start() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/ping", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            pings.add(Map.of("authorization", String.valueOf(ex.getRequestHeaders().getFirst("Authorization")),
                    "body", body, "content_type", String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"))));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.createContext("/hook", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            hooks.add(Map.of("signature", String.valueOf(ex.getRequestHeaders().getFirst("Deputy-Signature")), "body", body));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
        System.setProperty("CIBA_TEST_WEBHOOK_SECRET", SECRET);
        fx = new FedFixture(dir, """
                approvals:
                  interval: 2s
                  token_ttl: 2m
                  clients:
                    %s: {backchannel_token_delivery_mode: poll}
                    %s: {backchannel_token_delivery_mode: poll}
                    %s:
                      backchannel_token_delivery_mode: ping
                      backchannel_client_notification_endpoint: %s/ping
                  webhook:
                    url: %s/hook
                    secret_env: CIBA_TEST_WEBHOOK_SECRET
                """.formatted(AGENT, BANK, PINGER, base, base), Map.of(), f -> Map.of(
                "tenants/acme/policies/tools.yml", """
                        tools:
                          default: deny
                          sensitive_arguments: [payee.iban]
                          decision_clients: [bank-mcp]
                          rules:
                            - id: transfers-by-payment-agents
                              effect: permit
                              tools: [transfer_funds]
                              actors: {agents: ["payments.*"]}
                            - id: large-transfers-need-approval
                              effect: require_approval
                              tools: [transfer_funds]
                              when: ["amount > 10000"]
                        """,
                "tenants/other/tenant.yml", "display_name: Other\napprovals:\n  clients:\n    " + AGENT
                        + ": {backchannel_token_delivery_mode: poll}\n"));
        // the decision point as a resource of the tenant (its identifier: the issuer) and the role granting its scope:
        // the bank's PEP authenticates at the PDP with its own token (client_credentials, scope authzen:evaluate)
        AgentStore agents = fx.bean(AgentStore.class);
        agents.saveRole(new Role(TENANT, "decision-client", "decision-client", List.of(ToolDecisions.SCOPE), List.of(), "api"));
        agents.saveResource(new Resource(TENANT, "pdp", fx.issuer(), "pdp", List.of(ToolDecisions.SCOPE), false, "api"));
        for (String id : List.of(AGENT, PINGER, BANK, STRANGER)) {
            agent(TENANT, id);
        }
        agent("other", AGENT);
        user = new Browser();
        fx.enqueue("oauth2/default", SUB, Map.of("email", EMAIL, "name", "Zoë Ångström", "groups", List.of("engineers")));
        HttpResponse<String> page = user.follow(fx.issuer() + "/account", "http://never/");
        assertEquals(200, page.statusCode(), page.body());
        userPage = page.body();
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    void agent(String tenant, String id) {
        JWK key = keys.computeIfAbsent(tenant + "/" + id, k -> TestKeys.ec());
        long now = System.currentTimeMillis();
        AgentStore store = fx.bean(AgentStore.class);
        List<String> roles = BANK.equals(id) && TENANT.equals(tenant) ? List.of("decision-client") : List.of();
        store.saveAgent(new Agent(tenant, id, id, "owner@example.com", "prod", roles, Map.of(), Agent.Status.ACTIVE,
                Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
        store.saveCredential(new AgentCredential(tenant, "cred_" + UUID.randomUUID().toString().substring(0, 12), id,
                AgentCredential.Kind.JWKS, null, null, TestKeys.publicJwks(key), null, null, null,
                AgentCredential.Status.ACTIVE, now));
        fx.bean(AgentChanges.class).changed(tenant, id);
    }

    String issuer(String tenant) {
        return fx.url() + "/t/" + tenant;
    }

    /** A form POST to the tenant's endpoint, authenticated with the agent's private_key_jwt. */
    HttpResponse<String> post(String tenant, String agent, String path, Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>(params);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(tenant + "/" + agent),
                TestKeys.claims(agent, issuer(tenant)).build()));
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return new Browser().send(HttpRequest.newBuilder(URI.create(issuer(tenant) + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    static final String DETAILS = """
            [{"type": "deputy_tool_call", "tool": "transfer_funds", "locations": ["%s"],
              "arguments": {"amount": 25000, "currency": "EUR", "payee": {"name": "Zoë Müller", "iban": "DE89370400440532013000"}}}]
            """.formatted(RESOURCE);

    Map<String, String> request(String hint, String details, String expiry) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("login_hint", hint);
        p.put("binding_message", "Überweisung 25.000 EUR an Zoë Müller");
        if (details != null) {
            p.put("authorization_details", details);
        }
        if (expiry != null) {
            p.put("requested_expiry", expiry);
        }
        return p;
    }

    /** Starts a request; returns the acknowledgement (CIBA §7.3). */
    Map<String, Object> start(String agent, Map<String, String> params) {
        HttpResponse<String> r = post(TENANT, agent, "/bc-authorize", params);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElseThrow());
        return json(r);
    }

    HttpResponse<String> redeem(String tenant, String agent, String authReqId) {
        return post(tenant, agent, "/token", Map.of("grant_type", CIBA, "auth_req_id", authReqId));
    }

    /** Polls as a client would, past slow_down and authorization_pending, until {@code done} (at most 30 s). */
    HttpResponse<String> pollUntil(String agent, String authReqId, Predicate<HttpResponse<String>> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<String> r = redeem(TENANT, agent, authReqId);
            if (done.test(r)) {
                return r;
            }
            String error = r.statusCode() == 200 ? "token" : (String) json(r).get("error");
            assertTrue(List.of("slow_down", "authorization_pending").contains(error), r.body());
            assertTrue(System.nanoTime() < deadline, "no outcome within 30 s: " + r.body());
            Thread.sleep(250); // a poll cadence, not a wait for the outcome: the loop waits for the condition
        }
    }

    static Predicate<HttpResponse<String>> error(String code) {
        return r -> r.statusCode() == 400 && code.equals(json(r).get("error"));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(HttpResponse<String> r) {
        try {
            return JSON.readValue(r.body(), Map.class);
        } catch (Exception e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body());
        }
    }

    HttpResponse<String> decide(Browser b, String page, String id, String decision) {
        return b.postForm(fx.issuer() + "/account/approvals/decide",
                Map.of("csrf", csrf(page), "approval", id, "decision", decision));
    }

    static String csrf(String body) {
        return body.replaceAll("(?s).*?name=\"csrf\" value=\"([^\"]+)\".*", "$1");
    }

    String page() {
        HttpResponse<String> r = user.get(fx.issuer() + "/account");
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    List<AuditEntry> audit(String type, String approval) {
        return fx.audit(type).stream().filter(e -> e.details().contains(approval)).toList();
    }

    HttpResponse<String> evaluate(String token, Object amount) {
        String body = """
                {"subject": {"type": "user", "id": "%s", "properties": {"act": {"sub": "%s"}}},
                 "action": {"name": "transfer_funds"},
                 "resource": {"type": "mcp_server", "id": "%s"},
                 "context": {"arguments": {"amount": %s, "currency": "EUR",
                                           "payee": {"name": "Zoë Müller", "iban": "DE89370400440532013000"}},
                             "approval_token": %s}}
                """.formatted(SUB, AGENT, RESOURCE, amount, token == null ? "null" : "\"" + token + "\"");
        HttpResponse<String> pdp = post(TENANT, BANK, "/token", Map.of("grant_type", "client_credentials",
                "scope", ToolDecisions.SCOPE, "resource", fx.issuer()));
        assertEquals(200, pdp.statusCode(), pdp.body());
        String pepToken = (String) json(pdp).get("access_token");
        return new Browser().send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/access/v1/evaluation"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + pepToken)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    @SuppressWarnings("unchecked")
    void pollEndToEndTheUserApprovesOnTheAccountPageAndTheTokenIsSpentOnce() throws Exception {
        Map<String, Object> ack = start(AGENT, request(EMAIL, DETAILS, "120"));
        String authReqId = (String) ack.get("auth_req_id");
        assertNotNull(authReqId);
        assertEquals(120, ((Number) ack.get("expires_in")).intValue());
        assertEquals(2, ((Number) ack.get("interval")).intValue());
        String id = Approvals.idOf(authReqId);
        AuditEntry requested = audit("approval.requested", id).getFirst();
        assertEquals(SUB, requested.subject());
        assertEquals(AGENT, requested.clientId());
        assertEquals(RESOURCE, requested.resource());
        assertFalse(requested.details().contains("DE89370400440532013000"), "sensitive argument: " + requested.details());
        assertFalse(requested.details().contains(authReqId), "the auth_req_id itself is never written");

        // the webhook announced it, signed, with a link to the account page
        // (other tests' requests are announced too: wait for this one's delivery)
        Map<String, Object> hook;
        Map<String, Object> payload;
        do {
            hook = hooks.poll(20, TimeUnit.SECONDS);
            assertNotNull(hook, "webhook delivery");
            payload = JSON.readValue((String) hook.get("body"), Map.class);
        } while (!id.equals(payload.get("approval_id")));
        String body = (String) hook.get("body");
        assertEquals("approval.requested", payload.get("type"));
        assertEquals(id, payload.get("approval_id"));
        assertEquals(fx.issuer() + "/account#approval-" + id, payload.get("approval_url"));
        assertFalse(body.contains("DE89370400440532013000"));
        String sig = (String) hook.get("signature");
        String t = sig.replaceAll("t=(\\d+),v1=.*", "$1");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        assertEquals(sig.replaceAll(".*v1=", ""), HexFormat.of().formatHex(mac.doFinal((t + "." + body).getBytes(StandardCharsets.UTF_8))));

        // pending, then slow_down when polling faster than the interval (back to back: well within 2 s)
        HttpResponse<String> first = redeem(TENANT, AGENT, authReqId);
        assertEquals(400, first.statusCode(), first.body());
        assertEquals("authorization_pending", json(first).get("error"));
        boolean slowedDown = false;
        for (int i = 0; i < 5 && !slowedDown; i++) {
            HttpResponse<String> fast = redeem(TENANT, AGENT, authReqId);
            assertTrue(List.of("slow_down", "authorization_pending").contains((String) json(fast).get("error")), fast.body());
            slowedDown = "slow_down".equals(json(fast).get("error"));
        }
        assertTrue(slowedDown, "polling faster than the interval is slow_down");
        assertTrue(fx.audit("token.rejected").stream().anyMatch(e -> e.details().contains("slow_down")));

        // the user sees the transaction readably on the account page and approves it
        String page = page();
        assertTrue(page.contains("data-approval=\"" + id + "\""), page);
        assertTrue(page.contains("Überweisung 25.000 EUR an Zoë Müller"), page);
        assertTrue(page.contains("transfer_funds") && page.contains("25000") && page.contains("payee.name"), page);
        assertTrue(page.contains("Zoë Müller") && page.contains(AGENT), page);
        HttpResponse<String> ok = decide(user, page, id, "approve");
        assertEquals(303, ok.statusCode(), ok.body());
        assertEquals(1, audit("approval.granted", id).size());
        assertFalse(page().contains("data-approval=\"" + id + "\""), "no longer pending");

        HttpResponse<String> issued = pollUntil(AGENT, authReqId, r -> r.statusCode() == 200);
        Map<String, Object> tok = json(issued);
        assertNull(tok.get("refresh_token"), "no refresh token for a transaction");
        String token = (String) tok.get("access_token");
        var claims = SignedJWT.parse(token).getJWTClaimsSet();
        assertEquals(SUB, claims.getSubject());
        assertEquals(Map.of("sub", AGENT), claims.getJSONObjectClaim("act"));
        assertEquals(List.of(RESOURCE), claims.getAudience());
        assertTrue(claims.getExpirationTime().getTime() - claims.getIssueTime().getTime() <= 120_000);
        List<Object> details = (List<Object>) claims.getClaim("authorization_details");
        Map<String, Object> detail = (Map<String, Object>) details.getFirst();
        assertEquals("transfer_funds", detail.get("tool"));
        assertEquals("Zoë Müller", ((Map<String, Object>) ((Map<String, Object>) detail.get("arguments")).get("payee")).get("name"));
        assertTrue(fx.audit("token.issued").stream().anyMatch(e -> e.details().contains(CIBA) && e.details().contains(id)));

        // single use of the auth_req_id
        HttpResponse<String> again = redeem(TENANT, AGENT, authReqId);
        assertEquals("invalid_grant", json(again).get("error"), again.body());

        // the PEP: another transaction is not approved; the approved one is permitted once; a repeat is refused
        Map<String, Object> other = json(evaluate(token, 26000));
        assertEquals(false, other.get("decision"));
        assertEquals("require_approval", ((Map<String, Object>) other.get("context")).get("effect"));
        Map<String, Object> permitted = json(evaluate(token, "25000.00"));
        assertEquals(true, permitted.get("decision"), permitted.toString());
        assertEquals("permit", ((Map<String, Object>) permitted.get("context")).get("effect"));
        assertEquals("large-transfers-need-approval", ((Map<String, Object>) permitted.get("context")).get("rule"));
        AuditEntry allowed = fx.audit("policy.decision").getLast();
        assertEquals("allow", allowed.outcome().toLowerCase());
        assertTrue(allowed.details().contains(claims.getJWTID()), allowed.details());
        Map<String, Object> repeat = json(evaluate(token, 25000));
        assertEquals(false, repeat.get("decision"));
        assertTrue(fx.audit("policy.decision").getLast().details().contains("already used"));
        // without a token: require_approval as before
        assertEquals(false, json(evaluate(null, 25000)).get("decision"));
    }

    @Test
    void pingEndToEndTheClientIsNotifiedWithItsBearerThenRedeems() throws Exception {
        Map<String, String> p = request(SUB, DETAILS, "120");
        HttpResponse<String> missing = post(TENANT, PINGER, "/bc-authorize", p);
        assertEquals("invalid_request", json(missing).get("error"), "ping needs client_notification_token");
        String cnt = "cnt-" + UUID.randomUUID();
        p.put("client_notification_token", cnt);
        String authReqId = (String) start(PINGER, p).get("auth_req_id");
        String id = Approvals.idOf(authReqId);
        pings.clear();
        assertEquals(303, decide(user, page(), id, "approve").statusCode());
        Map<String, Object> ping = pings.poll(20, TimeUnit.SECONDS);
        assertNotNull(ping, "ping delivery");
        assertEquals("Bearer " + cnt, ping.get("authorization"));
        assertTrue(String.valueOf(ping.get("content_type")).startsWith("application/json"));
        assertEquals(Map.of("auth_req_id", authReqId), JSON.readValue((String) ping.get("body"), Map.class));
        HttpResponse<String> issued = redeem(TENANT, PINGER, authReqId);
        assertEquals(200, issued.statusCode(), issued.body());
        var claims = SignedJWT.parse((String) json(issued).get("access_token")).getJWTClaimsSet();
        assertEquals(SUB, claims.getSubject());
        assertEquals(Map.of("sub", PINGER), claims.getJSONObjectClaim("act"));
    }

    @Test
    void aDenialIsAccessDeniedAndAudited() throws Exception {
        String authReqId = (String) start(AGENT, request(SUB, DETAILS, null)).get("auth_req_id");
        String id = Approvals.idOf(authReqId);
        assertEquals(303, decide(user, page(), id, "deny").statusCode());
        assertEquals(1, audit("approval.denied", id).size());
        pollUntil(AGENT, authReqId, error("access_denied"));
        // deciding again changes nothing: 409, audited as a failure
        HttpResponse<String> again = decide(user, page(), id, "approve");
        assertEquals(409, again.statusCode(), again.body());
        assertEquals(0, audit("approval.granted", id).stream().filter(e -> e.outcome().equalsIgnoreCase("allow")).count());
    }

    @Test
    void anExpiredRequestIsExpiredTokenAndCannotBeApprovedAnyMore() throws Exception {
        String authReqId = (String) start(AGENT, request(EMAIL, DETAILS, "1")).get("auth_req_id");
        String id = Approvals.idOf(authReqId);
        pollUntil(AGENT, authReqId, error("expired_token"));
        assertEquals(1, audit("approval.expired", id).size());
        HttpResponse<String> late = decide(user, page(), id, "approve");
        assertEquals(409, late.statusCode(), late.body());
        assertEquals(1, audit("approval.expired", id).size(), "expired once");
        assertTrue(audit("approval.granted", id).stream().allMatch(e -> e.outcome().equalsIgnoreCase("failure")));
    }

    @Test
    void anotherClientOrAnotherTenantCannotRedeemTheRequest() throws Exception {
        String authReqId = (String) start(AGENT, request(SUB, DETAILS, "120")).get("auth_req_id");
        assertEquals(303, decide(user, page(), Approvals.idOf(authReqId), "approve").statusCode());
        HttpResponse<String> thief = redeem(TENANT, PINGER, authReqId);
        assertEquals("invalid_grant", json(thief).get("error"), thief.body());
        assertTrue(fx.audit("token.rejected").getLast().details().contains("client_mismatch"));
        // the same agent id in another tenant: nothing crosses tenants
        HttpResponse<String> foreign = redeem("other", AGENT, authReqId);
        assertEquals("invalid_grant", json(foreign).get("error"), foreign.body());
        // the rightful client still gets its token
        assertEquals(200, pollUntil(AGENT, authReqId, r -> r.statusCode() == 200).statusCode());
    }

    @Test
    void unknownUsersBadDetailsAndStrangersAreRefusedWithTheirErrors() {
        int before = fx.audit("approval.rejected").size();
        HttpResponse<String> nobody = post(TENANT, AGENT, "/bc-authorize", request("nobody@okta.example", DETAILS, null));
        assertEquals(400, nobody.statusCode());
        assertEquals("unknown_user_id", json(nobody).get("error"));
        for (String bad : List.of("not json", "[]", "[{\"tool\": \"transfer_funds\"}]",
                "[{\"type\": \"payment_initiation\", \"instructedAmount\": {\"amount\": 1}}]",
                "[{\"type\": \"deputy_tool_call\"}]", "[{\"type\": \"deputy_tool_call\", \"tool\": \"x\", \"arguments\": [1]}]",
                "[{\"type\": \"deputy_tool_call\", \"tool\": \"x\", \"locations\": [\"https://evil.example/mcp\"]}]")) {
            HttpResponse<String> r = post(TENANT, AGENT, "/bc-authorize", request(SUB, bad, null));
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertEquals("invalid_authorization_details", json(r).get("error"), bad);
        }
        HttpResponse<String> none = post(TENANT, AGENT, "/bc-authorize", request(SUB, null, null));
        assertEquals("invalid_authorization_details", json(none).get("error"));
        Map<String, String> twoHints = request(SUB, DETAILS, null);
        twoHints.put("login_hint_token", "x.y.z");
        assertEquals("invalid_request", json(post(TENANT, AGENT, "/bc-authorize", twoHints)).get("error"));
        HttpResponse<String> longMessage = post(TENANT, AGENT, "/bc-authorize",
                new LinkedHashMap<>(Map.of("login_hint", SUB, "authorization_details", DETAILS, "binding_message", "x".repeat(101))));
        assertEquals("invalid_binding_message", json(longMessage).get("error"));
        HttpResponse<String> stranger = post(TENANT, STRANGER, "/bc-authorize", request(SUB, DETAILS, null));
        assertEquals("unauthorized_client", json(stranger).get("error"), stranger.body());
        HttpResponse<String> forged = new Browser().send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/bc-authorize"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("client_id=" + AGENT + "&login_hint=" + SUB)).build());
        assertEquals(401, forged.statusCode(), "no client authentication");
        List<AuditEntry> rejected = fx.audit("approval.rejected");
        assertEquals(before + 13, rejected.size(), "one entry per refusal");
        assertTrue(rejected.stream().anyMatch(e -> e.details().contains("unknown_user")));
        assertTrue(rejected.stream().anyMatch(e -> e.details().contains("not_a_ciba_client")));
    }

    @Test
    void forgedAndForeignDecisionsChangeNothing() throws Exception {
        String authReqId = (String) start(AGENT, request(SUB, DETAILS, "120")).get("auth_req_id");
        String id = Approvals.idOf(authReqId);
        HttpResponse<String> forged = user.postForm(fx.issuer() + "/account/approvals/decide",
                Map.of("csrf", "forged", "approval", id, "decision", "approve"));
        assertEquals(403, forged.statusCode());
        // another user of the tenant cannot decide this user's request
        Browser mallory = new Browser();
        fx.enqueue("oauth2/default", "00u.mallory", Map.of("email", "mallory@okta.example", "groups", List.of("engineers")));
        HttpResponse<String> malloryPage = mallory.follow(fx.issuer() + "/account", "http://never/");
        assertEquals(200, malloryPage.statusCode());
        assertFalse(malloryPage.body().contains(id), "not shown to another user");
        assertEquals(404, decide(mallory, malloryPage.body(), id, "approve").statusCode());
        assertEquals("authorization_pending", json(redeem(TENANT, AGENT, authReqId)).get("error"), "still pending");
        assertTrue(audit("approval.granted", id).stream().allMatch(e -> e.outcome().equalsIgnoreCase("failure")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theMetadataAdvertisesCiba() throws Exception {
        HttpResponse<String> r = new Browser().get(fx.url() + "/.well-known/oauth-authorization-server/t/" + TENANT);
        Map<String, Object> md = json(r);
        assertEquals(fx.issuer() + "/bc-authorize", md.get("backchannel_authentication_endpoint"));
        assertEquals(List.of("poll", "ping"), md.get("backchannel_token_delivery_modes_supported"));
        // CIBA Core §4: Deputy does not support user_code, and says so (false) rather than leaving it to the default
        assertEquals(Boolean.FALSE, md.get("backchannel_user_code_parameter_supported"), r.body());
        assertTrue(((List<String>) md.get("grant_types_supported")).contains(CIBA));
        assertEquals(List.of("deputy_tool_call"), md.get("authorization_details_types_supported"));
    }
}
