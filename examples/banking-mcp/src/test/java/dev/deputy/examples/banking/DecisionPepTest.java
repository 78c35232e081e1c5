package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The banking server as a policy enforcement point: before each tool call it asks the AuthZEN decision endpoint (here a
 * stand-in: a token endpoint that checks the PEP's private_key_jwt assertion, scope and resource, and a decision endpoint
 * that accepts only that token as {@code Authorization: Bearer}, never a credential in the URL, and answers by the
 * request), and performs the call only on
 * permit; require_approval and deny are refused naming the rule; a decision point that fails is a refusal.
 * The decision point itself, with the real policy, is tested in the broker (AuthzenHttpTest).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DecisionPepTest {
    static final ObjectMapper JSON = new ObjectMapper();
    ECKey tokenKey;
    ECKey pepKey;
    HttpServer deputy;
    BankingServer server;
    String issuer;
    final String resource = "http://127.0.0.1:18091/mcp";
    final LinkedBlockingQueue<JsonNode> asked = new LinkedBlockingQueue<>();
    volatile boolean pdpDown;
    final String pdpToken = "pdp-token-" + UUID.randomUUID();
    final java.util.concurrent.atomic.AtomicInteger tokenRequests = new java.util.concurrent.atomic.AtomicInteger();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        tokenKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        pepKey = new ECKeyGenerator(Curve.P_256).keyID("pep").generate();
        deputy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // the token endpoint: client_credentials with the PEP's private_key_jwt, for the decision point, its scope
        deputy.createContext("/t/demo/token", ex -> {
            String answer;
            int status = 200;
            try {
                Map<String, String> form = new java.util.HashMap<>();
                for (String kv : new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
                    int eq = kv.indexOf('=');
                    form.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
                SignedJWT jwt = SignedJWT.parse(form.get("client_assertion"));
                boolean ok = jwt.verify(new ECDSAVerifier(pepKey.toPublicJWK()))
                        && "bank-mcp".equals(jwt.getJWTClaimsSet().getIssuer())
                        && jwt.getJWTClaimsSet().getAudience().equals(List.of(issuer))
                        && "client_credentials".equals(form.get("grant_type"))
                        && "authzen:evaluate".equals(form.get("scope")) && issuer.equals(form.get("resource"));
                tokenRequests.incrementAndGet();
                if (ok) {
                    answer = "{\"access_token\":\"" + pdpToken + "\",\"token_type\":\"Bearer\",\"expires_in\":300}";
                } else {
                    status = 401;
                    answer = "{\"error\":\"invalid_client\"}";
                }
            } catch (Exception e) {
                status = 400;
                answer = "{\"error\":\"invalid_request\"}";
            }
            byte[] b = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        deputy.createContext("/t/demo/access/v1/evaluation", ex -> {
            String answer;
            int status = 200;
            try {
                // the PEP's own token in the header, nothing in the URL
                boolean ok = ex.getRequestURI().getRawQuery() == null
                        && ("Bearer " + pdpToken).equals(ex.getRequestHeaders().getFirst("Authorization"));
                JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
                asked.add(body);
                if (!ok || pdpDown) {
                    status = ok ? 500 : 401;
                    answer = "client authentication failed";
                } else {
                    JsonNode args = body.path("context").path("arguments");
                    if ("Mallory".equals(args.path("to").asText())) {
                        answer = "{\"decision\":false,\"context\":{\"effect\":\"deny\",\"rule\":\"no-mallory\","
                                + "\"reason_user\":{\"en\":\"this call is not allowed by the organisation's policy\"}}}";
                    } else if (args.path("amount").asDouble() > 10000) {
                        answer = "{\"decision\":false,\"context\":{\"effect\":\"require_approval\",\"rule\":\"large-transfers\"}}";
                    } else {
                        answer = "{\"decision\":true,\"context\":{\"effect\":\"permit\",\"rule\":\"customers\"}}";
                    }
                }
            } catch (Exception e) {
                status = 400;
                answer = "bad request";
            }
            byte[] b = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", status == 200 ? "application/json" : "text/plain");
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        deputy.start();
        issuer = "http://127.0.0.1:" + deputy.getAddress().getPort() + "/t/demo";
        TokenValidator v = new TokenValidator(issuer, resource, new ImmutableJWKSet<>(new JWKSet(tokenKey.toPublicJWK())), false);
        DecisionClient pep = new DecisionClient(issuer, resource, "bank-mcp", pepKey.toECPrivateKey(), "pep");
        server = new BankingServer(new BankingServer.Options("127.0.0.1", 0, issuer, resource, "bank", null, null, false,
                Map.of("jonathan.christopher.williams", new BigDecimal("50000.00")), null, null, pep), v);
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
        deputy.stop(0);
    }

    String token() throws Exception {
        JWTClaimsSet c = new JWTClaimsSet.Builder().issuer(issuer).subject("jonathan.christopher.williams").audience(resource)
                .issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 300_000))
                .jwtID(UUID.randomUUID().toString()).claim("client_id", "payments.settlement.reconciler")
                .claim("sub_id", Map.of("format", "iss_sub", "iss", "https://idp.example.com", "sub", "jonathan.christopher.williams"))
                .claim("groups", List.of("finance"))
                .claim("act", Map.of("sub", "payments.settlement.reconciler"))
                .claim("scope", "balance:read payments:transfer").build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").type(new JOSEObjectType("at+jwt")).build(), c);
        jwt.sign(new ECDSASigner(tokenKey));
        return jwt.serialize();
    }

    HttpResponse<String> post(String token, String session, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/mcp"))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode call(String tool, String args) throws Exception {
        String t = token();
        HttpResponse<String> init = post(t, null, """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},
                 "clientInfo":{"name":"test","version":"1"}}}""");
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        post(t, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        asked.clear();
        HttpResponse<String> r = post(t, session, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\""
                + tool + "\",\"arguments\":" + args + "}}");
        assertEquals(200, r.statusCode(), r.body());
        String body = r.body().trim();
        if (!body.startsWith("{")) {
            body = body.lines().filter(l -> l.startsWith("data:")).map(l -> l.substring(5).trim()).findFirst().orElseThrow();
        }
        return JSON.readTree(body).path("result");
    }

    @Test
    void permitPerformsTheCallAfterAskingWithTheCallersChain() throws Exception {
        JsonNode r = call("transfer_funds", "{\"amount\": 250, \"to\": \"Zoë Müller\", \"currency\": \"EUR\"}");
        assertFalse(r.path("isError").asBoolean(), r.toString());
        assertEquals("Zoë Müller", r.path("structuredContent").path("to").asText());
        JsonNode q = asked.poll();
        assertEquals("user", q.path("subject").path("type").asText());
        assertEquals("jonathan.christopher.williams", q.path("subject").path("id").asText());
        assertEquals("payments.settlement.reconciler", q.path("subject").path("properties").path("act").path("sub").asText());
        assertEquals("finance", q.path("subject").path("properties").path("groups").get(0).asText());
        assertEquals("transfer_funds", q.path("action").path("name").asText());
        assertEquals(resource, q.path("resource").path("id").asText());
        assertEquals(250, q.path("context").path("arguments").path("amount").asInt());
        // one token serves many decisions
        call("get_balance", "{}");
        assertEquals(1, tokenRequests.get(), "the PEP's token is reused until it nears expiry");
    }

    @Test
    void requireApprovalIsRefusedNamingTheApproval() throws Exception {
        JsonNode r = call("transfer_funds", "{\"amount\": 25000, \"to\": \"Zoë Müller\"}");
        assertTrue(r.path("isError").asBoolean(), r.toString());
        String text = r.path("content").get(0).path("text").asText();
        assertTrue(text.contains("needs the approval of jonathan.christopher.williams (rule large-transfers)"), text);
        assertEquals("require_approval", r.path("structuredContent").path("effect").asText());
    }

    @Test
    void denyIsRefusedNamingTheRule() throws Exception {
        JsonNode r = call("transfer_funds", "{\"amount\": 5, \"to\": \"Mallory\"}");
        assertTrue(r.path("isError").asBoolean(), r.toString());
        assertTrue(r.path("content").get(0).path("text").asText().contains("refused by the bank's policy (rule no-mallory)"));
    }

    @Test
    void everyToolAsksAndAFailingDecisionPointRefuses() throws Exception {
        JsonNode ok = call("get_balance", "{}");
        assertFalse(ok.path("isError").asBoolean(), ok.toString());
        assertEquals("get_balance", asked.poll().path("action").path("name").asText());
        pdpDown = true;
        try {
            JsonNode r = call("get_balance", "{}");
            assertTrue(r.path("isError").asBoolean(), "fail closed: " + r);
        } finally {
            pdpDown = false;
        }
    }
}
