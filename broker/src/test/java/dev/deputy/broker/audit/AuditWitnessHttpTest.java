package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.sun.net.httpserver.HttpServer;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The witness on a running broker (embedded default): a data dir whose witness file holds a head the database
 * does not have (tenant {@code globex}: the database was cut, or restored from an older backup) makes the broker
 * refuse that chain at start — audited requests of that tenant answer 503 and change nothing, verify says
 * {@code cut}, the refusal is in the {@code _broker} chain — while {@code acme} works, is checkpointed into its own
 * witness file (0600) and delivered to an HTTP sink that fails twice before accepting (retried with backoff, lag
 * observable), and {@code deputy audit verify --witness} agrees.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditWitnessHttpTest implements TestPropertyProvider {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final List<String> RECEIVED = new CopyOnWriteArrayList<>();
    static final AtomicInteger CALLS = new AtomicInteger();
    static HttpServer sink;

    @Inject
    EmbeddedServer server;
    @Inject
    AuditLog log;
    @Inject
    AuditStore store;

    Path data;

    @Override
    public Map<String, String> getProperties() {
        try {
            sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            sink.createContext("/witness", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                int n = CALLS.incrementAndGet();
                int status = n <= 2 ? 500 : 204; // the SIEM is down for the first two tries
                if (status == 204 && "application/jwt".equals(ex.getRequestHeaders().getFirst("Content-Type"))) {
                    RECEIVED.add(new String(body, StandardCharsets.UTF_8));
                }
                ex.sendResponseHeaders(status, -1);
                ex.close();
            });
            sink.start();
            data = Files.createTempDirectory("deputy-witness-http");
            Path config = Files.createTempDirectory("deputy-witness-config");
            for (String t : List.of("acme", "globex")) {
                Files.createDirectories(config.resolve("tenants/" + t));
                Files.writeString(config.resolve("tenants/" + t + "/tenant.yml"), "display_name: " + t + "\n");
            }
            Files.writeString(config.resolve("broker.yml"), "default_tenant: acme\n");
            // globex's witness saw entry 40 (hash h) — the database this broker opens has no globex entry at all
            Files.createDirectories(data.resolve(AuditWitness.DIR));
            String payload = "{\"tenant\":\"globex\",\"seq\":40,\"head\":\"" + "cd".repeat(32) + "\",\"iat\":1,\"keys\":[]}";
            String jws = b64("{\"alg\":\"ES256\",\"typ\":\"deputy-audit-checkpoint+jwt\",\"kid\":\"old\"}") + "."
                    + b64(payload) + "." + b64("not-a-signature");
            Files.writeString(data.resolve(AuditWitness.DIR).resolve("globex.jsonl"), "{\"type\":\"checkpoint\",\"tenant\":\"globex\","
                    + "\"seq\":40,\"head\":\"" + "cd".repeat(32) + "\",\"time\":1,\"kid\":\"old\",\"public_jwk\":\"{}\",\"jws\":\"" + jws + "\"}\n");
            return Map.of("deputy.data-dir", data.toString(), "deputy.config-dir", config.toString(),
                    "deputy.mysql.url", "", "deputy.redis.uri", "",
                    "deputy.audit.witness.urls", "http://127.0.0.1:" + sink.getAddress().getPort() + "/witness");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    void stopSink() {
        sink.stop(0);
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    String base() {
        return "http://localhost:" + server.getPort();
    }

    String adminToken() throws Exception {
        Map<String, Object> cred = AuditJson.MAPPER.readValue(data.resolve("admin-credentials.json").toFile(), new TypeReference<>() {
        });
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=admin&client_secret="
                        + cred.get("client_secret"))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r.body()).get("access_token");
    }

    static Map<String, Object> json(String s) throws Exception {
        return AuditJson.MAPPER.readValue(s, new TypeReference<>() {
        });
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).header("Authorization", "Bearer " + adminToken());
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aChainBehindItsWitnessIsRefusedAtStartAndAnswers503() throws Exception {
        HttpResponse<String> w = call("GET", "/admin/t/globex/audit/witness", null);
        assertEquals(200, w.statusCode(), w.body());
        Map<String, Object> wj = json(w.body());
        assertEquals("cut", wj.get("kind"), w.body());
        assertNotNull(wj.get("refused"), w.body());

        // an audited admin change of that tenant: 503, and nothing was created
        String jwk = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256).keyID("k1")
                .generate().toPublicJWK().toJSONString();
        HttpResponse<String> r = call("POST", "/admin/t/globex/agents", """
                {"id":"witness-agent","environment":"production","roles":[],"auth_method":"private_key_jwt",
                 "jwks":{"keys":[%s]}}""".formatted(jwk));
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("temporarily_unavailable", json(r.body()).get("error"), r.body());
        assertEquals(404, call("GET", "/admin/t/globex/agents/witness-agent", null).statusCode(), "nothing was created");

        HttpResponse<String> v = call("GET", "/admin/t/globex/audit/verify", null);
        Map<String, Object> vj = json(v.body());
        assertEquals(Boolean.FALSE, vj.get("ok"), v.body());
        assertEquals("cut", vj.get("problem"), v.body());
        assertEquals(503, call("POST", "/admin/t/globex/audit/checkpoints", "{}").statusCode(), "never signed again");

        // recorded in the broker's own chain
        List<AuditEntry> broker = store.range("_broker", 1, 10_000);
        assertTrue(broker.stream().anyMatch(e -> e.type().equals(EventTypes.AUDIT_CHAIN_REFUSED)
                && e.details().contains("\"tenant\":\"globex\"") && e.details().contains("\"kind\":\"cut\"")), broker.toString());
    }

    @Test
    void anIntactTenantIsCheckpointedIntoItsWitnessFileAndSinkAndVerifiesAgainstThem() throws Exception {
        HttpResponse<String> r = call("POST", "/admin/t/acme/roles", "{\"name\":\"dashboard-readers\",\"scopes\":[\"files:read\"]}");
        assertTrue(r.statusCode() == 201 || r.statusCode() == 200, r.body());
        HttpResponse<String> cp = call("POST", "/admin/t/acme/audit/checkpoints", "{}");
        assertTrue(cp.statusCode() == 201 || cp.statusCode() == 200, cp.body());
        long seq = ((Number) json(cp.body()).get("seq")).longValue();

        Path file = data.resolve(AuditWitness.DIR).resolve("acme.jsonl");
        assertTrue(Files.exists(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        List<Witnessed> ws = AuditWitness.read(Files.readAllLines(file));
        assertTrue(ws.stream().anyMatch(x -> x.seq() == seq), ws.toString());

        Map<String, Object> w = json(call("GET", "/admin/t/acme/audit/witness", null).body());
        assertNull(w.get("refused"));
        assertTrue(List.of("same", "extended").contains(w.get("kind")), w.toString());

        // the sink failed twice, then got it: retried with backoff, never in a request's way
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (RECEIVED.stream().noneMatch(j -> j.contains(".")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(CALLS.get() >= 3, "retried: " + CALLS.get());
        assertFalse(RECEIVED.isEmpty(), "delivered after the retries");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> sinks = (List<Map<String, Object>>) json(call("GET", "/admin/t/acme/audit/witness", null).body()).get("sinks");
        assertEquals(1, sinks.size());
        assertTrue(((Number) sinks.get(0).get("delivered")).longValue() >= 1, sinks.toString());
        assertTrue(sinks.get(0).containsKey("lag_ms") && sinks.get(0).containsKey("pending"), sinks.toString());

    }
}
