package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The banking MCP server with tokens minted here (a stand-in for Deputy's tenant key) and a fake audit endpoint. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BankingServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    ECKey key;
    ECKey otherKey;
    HttpServer deputy;
    BankingServer server;
    String issuer;
    String resource;
    final LinkedBlockingQueue<String[]> reports = new LinkedBlockingQueue<>();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        otherKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        deputy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        deputy.createContext("/t/demo/audit/tool-calls", ex -> {
            reports.add(new String[]{ex.getRequestHeaders().getFirst("Authorization"),
                    new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)});
            ex.sendResponseHeaders(201, -1);
            ex.close();
        });
        deputy.start();
        issuer = "http://127.0.0.1:" + deputy.getAddress().getPort() + "/t/demo";
        resource = "http://127.0.0.1:18090/mcp"; // the audience; the server itself listens on a random port
        TokenValidator v = new TokenValidator(issuer, resource, new ImmutableJWKSet<>(new JWKSet(key.toPublicJWK())), false);
        server = new BankingServer(new BankingServer.Options("127.0.0.1", 0, issuer, resource, "bank", null, null, false,
                Map.of("00uAda", new BigDecimal("1234.56")), "bank.reporter", "s3cret:ü"), v);
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
        deputy.stop(0);
    }

    String token(Consumer<JWTClaimsSet.Builder> edit, ECKey signer, String typ) throws Exception {
        JWTClaimsSet.Builder c = new JWTClaimsSet.Builder().issuer(issuer).subject("00uAda").audience(resource)
                .issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 300_000))
                .jwtID(UUID.randomUUID().toString()).claim("client_id", "mcp-client").claim("scope", "balance:read fx:convert");
        edit.accept(c);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").type(new JOSEObjectType(typ)).build(),
                c.build());
        jwt.sign(new ECDSASigner(signer));
        return jwt.serialize();
    }

    String token(Consumer<JWTClaimsSet.Builder> edit) throws Exception {
        return token(edit, key, "at+jwt");
    }

    String url() {
        return "http://127.0.0.1:" + server.port() + "/mcp";
    }

    HttpResponse<String> post(String token, String session, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url())).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The JSON-RPC message of a response, plain JSON or the first SSE data line. */
    static JsonNode message(HttpResponse<String> r) throws Exception {
        String body = r.body().trim();
        if (!body.startsWith("{")) {
            body = body.lines().filter(l -> l.startsWith("data:")).map(l -> l.substring(5).trim()).findFirst().orElseThrow();
        }
        return JSON.readTree(body);
    }

    String session(String token) throws Exception {
        HttpResponse<String> init = post(token, null, """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},
                 "clientInfo":{"name":"test","version":"1"}}}""");
        assertEquals(200, init.statusCode(), init.body());
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        assertEquals(202, post(token, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").statusCode());
        return session;
    }

    JsonNode callTool(String token, String session, String tool, String args) throws Exception {
        HttpResponse<String> r = post(token, session, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\""
                + tool + "\",\"arguments\":" + args + "}}");
        assertEquals(200, r.statusCode(), r.body());
        return message(r).path("result");
    }

    @Test
    void unauthenticatedGets401PointingAtDeputysPrm() throws Exception {
        HttpResponse<String> r = post(null, null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
        assertEquals(401, r.statusCode());
        String h = r.headers().firstValue("WWW-Authenticate").orElseThrow();
        assertTrue(h.startsWith("Bearer resource_metadata=\"" + issuer + "/resources/bank/.well-known/oauth-protected-resource\""), h);
        assertTrue(h.contains("scope=\"") && h.contains("balance:read") && h.contains("fx:convert"), h);
    }

    @Test
    void invalidTokensGet401() throws Exception {
        for (String bad : List.of(
                token(c -> c.audience("http://127.0.0.1:9999/other")),                // another resource
                token(c -> c.issuer("http://evil.example/t/demo")),                  // another issuer
                token(c -> c.expirationTime(new Date(System.currentTimeMillis() - 120_000))), // expired
                token(c -> { }, key, "JWT"),                                          // not at+jwt (RFC 9068)
                token(c -> { }, otherKey, "at+jwt"),                                  // wrong key
                token(c -> c.claim("cnf", Map.of("x5t#S256", "abc"))),                // cert-bound, no certificate
                "not.a.jwt")) {
            HttpResponse<String> r = post(bad, null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
            assertEquals(401, r.statusCode(), bad);
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().contains("error=\"invalid_token\""));
        }
        // one trailing slash on the audience is the same resource
        assertEquals(200, post(token(c -> c.audience(resource + "/")), null, """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},
                 "clientInfo":{"name":"test","version":"1"}}}""").statusCode());
    }

    @Test
    void toolsWorkAndAreReported() throws Exception {
        String t = token(c -> c.claim("act", Map.of("sub", "agt_B", "act", Map.of("sub", "agt_A"))));
        String s = session(t);
        HttpResponse<String> list = post(t, s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
        assertTrue(list.body().contains("get_balance") && list.body().contains("convert_currency"), list.body());
        reports.clear();
        JsonNode bal = callTool(t, s, "get_balance", "{}");
        assertEquals(0, new BigDecimal("1234.56").compareTo(bal.path("structuredContent").path("balance").decimalValue()), bal.toString());
        JsonNode fx = callTool(t, s, "convert_currency", "{\"amount\":1234.56,\"from\":\"EUR\",\"to\":\"AUD\"}");
        assertEquals(0, new BigDecimal("2037.02").compareTo(fx.path("structuredContent").path("converted").decimalValue()), fx.toString());
        String[] first = reports.poll(5, TimeUnit.SECONDS);
        assertNotNull(first);
        // the server authenticates as its own client; the caller's token is a form parameter
        assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString("bank.reporter:s3cret%3A%C3%BC"
                .getBytes(StandardCharsets.UTF_8)), first[0]);
        Map<String, String> body = new LinkedHashMap<>();
        for (String kv : first[1].split("&")) {
            int eq = kv.indexOf('=');
            body.put(java.net.URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                    java.net.URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        assertEquals(t, body.get("token"));
        assertEquals("get_balance", body.get("tool"));
        assertEquals("ok", body.get("status"));
        assertEquals(resource, body.get("resource"));
        assertEquals(64, body.get("arguments_sha256").length());
        assertNotNull(reports.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void missingScopeGets403NamingIt() throws Exception {
        String t = token(c -> c.claim("scope", "balance:read"));
        String s = session(t);
        assertTrue(callTool(t, s, "get_balance", "{}").path("structuredContent").has("balance"));
        HttpResponse<String> r = post(t, s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"convert_currency\",\"arguments\":{\"amount\":1}}}");
        assertEquals(403, r.statusCode(), r.body());
        String h = r.headers().firstValue("WWW-Authenticate").orElseThrow();
        assertTrue(h.startsWith("Bearer error=\"insufficient_scope\""), h);
        assertTrue(h.matches(".*scope=\"[^\"]*fx:convert[^\"]*\".*"), h);
    }
}
