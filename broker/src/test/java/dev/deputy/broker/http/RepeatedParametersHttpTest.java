package dev.deputy.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 finding 11: RFC 6749 §3.1 / §3.2 — request parameters MUST NOT be included more than once, and that holds
 * for identical values too (Nimbus only counts distinct values). Each form endpoint answers invalid_request and
 * audits it once; {@code resource} (RFC 8707) may still repeat at the token endpoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RepeatedParametersHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String REDIRECT = "http://127.0.0.1:33418/callback";
    @TempDir
    static Path tmp;
    TestBroker broker;
    String clientId;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        broker = TestBroker.builder(tmp.resolve("data"), config).start();
        HttpResponse<String> reg = broker.post("/t/demo/register", "application/json",
                "{\"redirect_uris\":[\"" + REDIRECT + "\"],\"token_endpoint_auth_method\":\"none\",\"client_name\":\"R\u00e9p\u00e9t\u00e9 app\"}");
        assertEquals(201, reg.statusCode(), reg.body());
        clientId = JSON.readTree(reg.body()).get("client_id").asText();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    JsonNode error(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals(code, body.get("error").asText(), r.body());
        return body;
    }

    long audited(String type, String error) {
        List<AuditEntry> all = broker.bean(AuditStore.class).range("demo", 0, 100_000);
        return all.stream().filter(e -> e.type().equals(type) && e.details() != null
                && e.details().contains("\"" + error + "\"")).count();
    }

    HttpResponse<String> form(String path, String body) {
        return broker.post(path, "application/x-www-form-urlencoded", body);
    }

    @Test
    void tokenEndpointRefusesIdenticalRepeats() throws Exception {
        String base = "code=abc&redirect_uri=" + java.net.URLEncoder.encode(REDIRECT, java.nio.charset.StandardCharsets.UTF_8) + "&code_verifier=" + "v".repeat(43)
                + "&client_id=" + clientId;
        // the same request once: a bad code is invalid_grant (so the refusals below are about the repetition)
        error(form("/t/demo/token", "grant_type=authorization_code&" + base), 400, "invalid_grant");
        long before = audited("token.rejected", "invalid_request");
        JsonNode e = error(form("/t/demo/token", "grant_type=authorization_code&grant_type=authorization_code&" + base),
                400, "invalid_request");
        assertTrue(e.get("error_description").asText().contains("grant_type"), e.toString());
        error(form("/t/demo/token", "grant_type=authorization_code&" + base + "&client_id=" + clientId), 400, "invalid_request");
        error(form("/t/demo/token", "grant_type=authorization_code&" + base + "&code=abc"), 400, "invalid_request");
        // hostile names are not echoed raw
        JsonNode odd = error(form("/t/demo/token", "grant_type=authorization_code&" + base + "&%22x%5C=1&%22x%5C=1"),
                400, "invalid_request");
        assertTrue(odd.get("error_description").asText().matches("[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]*"), odd.toString());
        assertEquals(before + 4, audited("token.rejected", "invalid_request"));
        // RFC 8707 §2: resource may repeat (then it is the grant that decides)
        error(form("/t/demo/token", "grant_type=authorization_code&" + base
                + "&resource=https%3A%2F%2Fa.example%2F&resource=https%3A%2F%2Fa.example%2F"), 400, "invalid_grant");
    }

    @Test
    void introspectionAndRevocationRefuseRepeats() throws Exception {
        long intro = audited("introspection.rejected", "invalid_request");
        long revo = audited("revocation.rejected", "invalid_request");
        error(form("/t/demo/introspect", "token=abc&token=abc&client_id=" + clientId), 400, "invalid_request");
        error(form("/t/demo/introspect", "token=abc&client_id=" + clientId + "&client_id=" + clientId), 400, "invalid_request");
        error(form("/t/demo/revoke", "token=abc&token=abc&client_id=" + clientId), 400, "invalid_request");
        error(form("/t/demo/revoke", "token=abc&token_type_hint=access_token&token_type_hint=access_token&client_id="
                + clientId), 400, "invalid_request");
        assertEquals(intro + 2, audited("introspection.rejected", "invalid_request"));
        assertEquals(revo + 2, audited("revocation.rejected", "invalid_request"));
    }

    @Test
    void authorizeRefusesIdenticalRepeatsWithARedirect() {
        String challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        Map<String, List<String>> p = new java.util.LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of(clientId));
        p.put("redirect_uri", List.of(REDIRECT));
        p.put("code_challenge", List.of(challenge));
        p.put("code_challenge_method", List.of("S256"));
        p.put("state", List.of("same", "same"));
        p.put("scope", List.of("deploy:read", "deploy:read"));
        HttpResponse<String> r = broker.get("/t/demo/authorize?" + URLUtils.serializeParameters(p));
        assertEquals(302, r.statusCode(), r.body());
        String loc = r.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(REDIRECT), loc);
        Map<String, List<String>> q = URLUtils.parseParameters(URI.create(loc).getRawQuery());
        assertEquals(List.of("invalid_request"), q.get("error"), loc);
    }
}
