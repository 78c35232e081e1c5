package dev.deputy.broker.tracing;

import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.tracing.OtlpReceiver.ReceivedSpan;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static dev.deputy.broker.federation.FedFixture.CLIENT_REDIRECT;
import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traces end to end, exported by the real OTLP exporter (HTTP, protobuf) to an in-process receiver: an incoming W3C
 * traceparent is honoured (same trace id, the server span its child, the pipeline spans below), it is the correlation
 * id, and the upstream IdP call of a federated login (mock-oauth2-server) carries a traceparent of the same trace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingHttpTest {
    @TempDir
    static Path dir;
    OtlpReceiver otlp;
    FedFixture fx;

    @BeforeAll
    void start() throws Exception {
        otlp = new OtlpReceiver();
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("micronaut.otel.enabled", true);
        props.put("otel.traces.exporter", "otlp");
        props.put("otel.exporter.otlp.protocol", "http/protobuf");
        props.put("otel.exporter.otlp.traces.endpoint", otlp.endpoint());
        props.put("otel.bsp.schedule.delay", "50");
        fx = new FedFixture(dir, "", props);
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
        if (otlp != null) {
            otlp.close();
        }
    }

    static String traceId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] |= 1; // never all zero
        return HexFormat.of().formatHex(b);
    }

    static String spanId() {
        byte[] b = new byte[8];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] |= 1;
        return HexFormat.of().formatHex(b);
    }

    static ReceivedSpan one(List<ReceivedSpan> spans, String name) {
        List<ReceivedSpan> found = spans.stream().filter(s -> s.name().equals(name)).toList();
        assertEquals(1, found.size(), () -> name + " in " + names(spans));
        return found.get(0);
    }

    static List<String> names(List<ReceivedSpan> spans) {
        return spans.stream().map(ReceivedSpan::name).toList();
    }

    @Test
    void federatedLoginAndTokenRequestAreOneTraceEachWithTheUpstreamCallInside() throws Exception {
        FedFixture.Browser b = new FedFixture.Browser();
        CodeVerifier verifier = new CodeVerifier();
        String sub = "00u.Ünïcode user 42 with.dots";
        fx.enqueue("oauth2/default", sub, Map.of("email", "ada@okta.example", "groups", List.of("engineers")));
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("mcp-inspector"));
        p.put("redirect_uri", List.of(CLIENT_REDIRECT));
        p.put("state", List.of("st-trace"));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, verifier).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read"));
        p.put("resource", List.of(RESOURCE));
        p.put("login_hint", List.of("ada@okta.example"));
        HttpResponse<String> toIdp = b.get(fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p));
        assertEquals(302, toIdp.statusCode(), toIdp::body);
        HttpResponse<String> toCallback = b.get(toIdp.headers().firstValue("Location").orElseThrow());
        assertEquals(302, toCallback.statusCode());
        String callback = toCallback.headers().firstValue("Location").orElseThrow();
        assertTrue(callback.startsWith(fx.issuer() + "/callback"), callback);
        drain(); // drop what the IdP saw so far (discovery, its authorize endpoint)

        // the callback, with a caller's trace: the broker redeems the upstream code inside it
        String loginTrace = traceId();
        String loginParent = spanId();
        HttpResponse<String> toClient = b.send(HttpRequest.newBuilder(URI.create(callback))
                .header("traceparent", "00-" + loginTrace + "-" + loginParent + "-01").GET().build());
        assertEquals(302, toClient.statusCode(), toClient::body);
        assertEquals(loginTrace, toClient.headers().firstValue("X-Correlation-Id").orElseThrow());
        String location = toClient.headers().firstValue("Location").orElseThrow();
        assertTrue(location.startsWith(CLIENT_REDIRECT), location);
        String code = FedFixture.query(location).get("code");
        assertNotNull(code, location);

        List<RecordedRequest> upstream = drain();
        RecordedRequest tokenCall = upstream.stream().filter(r -> r.getPath().endsWith("/token")).findFirst()
                .orElseThrow(() -> new AssertionError("no upstream token call in " + upstream));
        String sent = tokenCall.getHeader("traceparent");
        assertNotNull(sent, "the upstream token request carries a traceparent");
        String[] parts = sent.split("-");
        assertEquals(4, parts.length, sent);
        assertEquals(loginTrace, parts[1], "same trace as the incoming request");
        assertFalse(parts[2].equals(loginParent), "the broker's own span is the upstream call's parent");

        List<ReceivedSpan> login = otlp.await(s -> s.stream().anyMatch(x -> x.traceId().equals(loginTrace)
                && x.name().equals("upstream token")) && s.stream().anyMatch(x -> x.traceId().equals(loginTrace)
                && x.parentSpanId().equals(loginParent)), Duration.ofSeconds(20)).stream()
                .filter(s -> s.traceId().equals(loginTrace)).toList();
        ReceivedSpan upstreamToken = one(login, "upstream token");
        assertEquals(parts[2], upstreamToken.spanId(), "the traceparent sent upstream names the upstream span");
        assertEquals(3, upstreamToken.kind(), "SPAN_KIND_CLIENT");
        assertEquals("okta", upstreamToken.attributes().get("deputy.connector"));
        assertEquals(200L, upstreamToken.attributes().get("http.response.status_code"));
        ReceivedSpan loginServer = login.stream().filter(s -> s.parentSpanId().equals(loginParent)).findFirst().orElseThrow();
        assertEquals(2, loginServer.kind(), "SPAN_KIND_SERVER");
        assertTrue(ancestors(login, upstreamToken).contains(loginServer.spanId()), "upstream call inside the request's trace");

        // the token request: the pipeline's spans under the server span of the caller's trace
        String trace = traceId();
        String parent = spanId();
        String form = URLUtils.serializeParameters(Map.of("grant_type", List.of("authorization_code"),
                "code", List.of(code), "redirect_uri", List.of(CLIENT_REDIRECT), "client_id", List.of("mcp-inspector"),
                "code_verifier", List.of(verifier.getValue()), "resource", List.of(RESOURCE)));
        HttpResponse<String> token = b.send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("traceparent", "00-" + trace + "-" + parent + "-01")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());
        assertEquals(200, token.statusCode(), token::body);
        assertEquals(trace, token.headers().firstValue("X-Correlation-Id").orElseThrow());

        List<ReceivedSpan> spans = otlp.await(s -> s.stream().filter(x -> x.traceId().equals(trace)).map(ReceivedSpan::name)
                .toList().containsAll(List.of("deputy.token", "deputy.client_auth", "deputy.grant", "deputy.token.mint",
                        "deputy.audit.append")) && s.stream().anyMatch(x -> x.traceId().equals(trace)
                && x.parentSpanId().equals(parent)), Duration.ofSeconds(20)).stream()
                .filter(s -> s.traceId().equals(trace)).toList();
        ReceivedSpan server = spans.stream().filter(s -> s.parentSpanId().equals(parent)).findFirst()
                .orElseThrow(() -> new AssertionError("no span under the incoming parent: " + names(spans)));
        assertEquals(2, server.kind());
        assertEquals("POST", server.attributes().get("http.request.method"));
        ReceivedSpan endpoint = one(spans, "deputy.token");
        assertEquals(server.spanId(), endpoint.parentSpanId());
        assertEquals("acme", endpoint.attributes().get("deputy.tenant"));
        assertEquals(trace, endpoint.attributes().get("deputy.correlation_id"));
        assertEquals("mcp-inspector", endpoint.attributes().get("deputy.client_id"));
        assertEquals(token.headers().firstValue("X-Request-Id").orElseThrow(), endpoint.attributes().get("deputy.request_id"));
        ReceivedSpan auth = one(spans, "deputy.client_auth");
        assertEquals(endpoint.spanId(), auth.parentSpanId());
        assertEquals("none", auth.attributes().get("deputy.client_auth.method"));
        ReceivedSpan grant = one(spans, "deputy.grant");
        assertEquals(endpoint.spanId(), grant.parentSpanId());
        assertEquals("authorization_code", grant.attributes().get("oauth.grant_type"));
        ReceivedSpan mint = one(spans, "deputy.token.mint");
        assertTrue(ancestors(spans, mint).contains(grant.spanId()), "minting inside the grant");
        ReceivedSpan append = one(spans, "deputy.audit.append");
        assertEquals(endpoint.spanId(), append.parentSpanId());
        assertEquals("token.issued", append.attributes().get("deputy.audit.type"));
        // the code is taken from the ephemeral store inside the grant; no key reaches the span
        ReceivedSpan take = one(spans, "ephemeral take");
        assertTrue(ancestors(spans, take).contains(grant.spanId()));
        for (ReceivedSpan s : spans) {
            for (Object v : s.attributes().values()) {
                assertFalse(String.valueOf(v).contains(code), () -> "the code in " + s);
                assertFalse(String.valueOf(v).contains(verifier.getValue()), () -> "the verifier in " + s);
            }
        }
        // SQL statements of the request (H2) are CLIENT spans of the same trace, with no bound value
        assertTrue(spans.stream().anyMatch(s -> "h2".equals(s.attributes().get("db.system.name"))), () -> names(spans).toString());

        // the audit entry names the same trace
        List<AuditEntry> issued = fx.audit("token.issued");
        assertEquals(trace, issued.get(issued.size() - 1).correlationId());
        assertTrue(otlp.contentTypes.stream().allMatch(t -> t.startsWith("application/x-protobuf")), otlp.contentTypes::toString);
    }

    @Test
    void aRefusedTokenRequestIsTracedWithItsErrorAndProbesAreNot() throws Exception {
        // the probe first: its span, if there were one, would be exported no later than the token request's
        String probeTrace = traceId();
        HttpResponse<String> probe = new FedFixture.Browser().send(HttpRequest.newBuilder(URI.create(fx.url() + "/health"))
                .header("traceparent", "00-" + probeTrace + "-" + spanId() + "-01").GET().build());
        assertEquals(200, probe.statusCode());
        String metadataTrace = traceId();
        HttpResponse<String> metadata = new FedFixture.Browser().send(HttpRequest.newBuilder(
                        URI.create(fx.url() + "/.well-known/oauth-authorization-server/t/acme"))
                .header("traceparent", "00-" + metadataTrace + "-" + spanId() + "-01").GET().build());
        assertEquals(200, metadata.statusCode(), metadata::body);
        String trace = traceId();
        HttpResponse<String> r = new FedFixture.Browser().send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("traceparent", "00-" + trace + "-" + spanId() + "-01")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=no.such%20client%E2%9C%93"))
                .build());
        assertEquals(401, r.statusCode(), r::body);
        List<ReceivedSpan> spans = otlp.await(s -> s.stream().anyMatch(x -> x.traceId().equals(trace)
                && x.name().equals("deputy.audit.append")), Duration.ofSeconds(20)).stream()
                .filter(s -> s.traceId().equals(trace)).toList();
        assertEquals("invalid_client", one(spans, "deputy.token").attributes().get("deputy.error"));
        assertEquals("invalid_client", one(spans, "deputy.client_auth").attributes().get("deputy.error"));
        assertEquals("token.rejected", one(spans, "deputy.audit.append").attributes().get("deputy.audit.type"));
        assertTrue(otlp.spans().stream().anyMatch(s -> s.traceId().equals(metadataTrace)), "other GETs are traced");
        assertTrue(otlp.spans().stream().noneMatch(s -> s.traceId().equals(probeTrace)), "probes are not traced");
    }

    @Test
    void anInvalidTraceparentStartsANewTrace() throws Exception {
        HttpResponse<String> r = new FedFixture.Browser().send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("traceparent", "00-" + "0".repeat(32) + "-" + spanId() + "-01")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=urn%3Aunknown")).build());
        assertEquals(400, r.statusCode(), r::body);
        String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();
        assertEquals(requestId, r.headers().firstValue("X-Correlation-Id").orElseThrow());
        List<ReceivedSpan> spans = otlp.await(s -> s.stream().anyMatch(x -> requestId.equals(x.attributes().get("deputy.request_id"))),
                Duration.ofSeconds(20));
        ReceivedSpan endpoint = spans.stream().filter(x -> requestId.equals(x.attributes().get("deputy.request_id")))
                .findFirst().orElseThrow();
        assertEquals("unsupported_grant_type", endpoint.attributes().get("deputy.error"));
        assertNotEquals("0".repeat(32), endpoint.traceId());
        List<ReceivedSpan> trace = otlp.await(s -> s.stream().anyMatch(x -> x.spanId().equals(endpoint.parentSpanId())),
                Duration.ofSeconds(20));
        ReceivedSpan server = trace.stream().filter(x -> x.spanId().equals(endpoint.parentSpanId())).findFirst().orElseThrow();
        assertEquals("", server.parentSpanId(), "a root: the invalid parent is ignored");
    }

    /** What the IdP received since the last call (mock-oauth2-server throws when its queue is empty). */
    List<RecordedRequest> drain() {
        List<RecordedRequest> out = new ArrayList<>();
        while (true) {
            try {
                out.add(fx.idp.takeRequest(10, TimeUnit.MILLISECONDS));
            } catch (RuntimeException empty) {
                return out;
            }
        }
    }

    static List<String> ancestors(List<ReceivedSpan> spans, ReceivedSpan s) {
        List<String> out = new ArrayList<>();
        String p = s.parentSpanId();
        for (int i = 0; i < 50 && !p.isEmpty(); i++) {
            out.add(p);
            String cur = p;
            p = spans.stream().filter(x -> x.spanId().equals(cur)).map(ReceivedSpan::parentSpanId).findFirst().orElse("");
        }
        return out;
    }
}
