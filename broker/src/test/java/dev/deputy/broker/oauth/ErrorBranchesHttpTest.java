package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.admin.AdminAuth;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.storage.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.details;
import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, the error branches that were tested below HTTP only: an unexpected failure behind {@code /token},
 * {@code /introspect} and {@code /revoke} (a table gone from under the broker) is a 500 {@code server_error} JSON
 * with no stack trace and exactly one audit entry; a client not allowed a grant type gets {@code unauthorized_client};
 * HTTP Basic client credentials are form-decoded before use (RFC 6749 §2.3.1) at {@code /token},
 * {@code /introspect} and {@code /admin/token}, with ids and secrets holding {@code :}, {@code %}, {@code +}, spaces
 * and unicode.
 */
class ErrorBranchesHttpTest {
    /** A pre-registered confidential client whose id and secret need every escape RFC 6749 §2.3.1 has. */
    static final String REPORTER = "bank:reporter %2B+ zoë";
    static final String REPORTER_SECRET = "s3:cr%t + wïth spaces:and:colons%3A";
    static final String SECRET_PROPERTY = "ERROR_BRANCHES_REPORTER_SECRET";
    static final String ADMIN_SECRET = "admin:secret with spaces, 100% ünïcode + plus:and:colons";

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static final Map<String, JWK> keys = new LinkedHashMap<>();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        System.setProperty(SECRET_PROPERTY, REPORTER_SECRET);
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/clients"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Error branches\n");
        Files.writeString(config.resolve("tenants/demo/clients/reporter.yml"), """
                client_id: "%s"
                name: Bank MCP server (reports tool calls)
                redirect_uris: [http://127.0.0.1/callback]
                token_endpoint_auth_method: client_secret_basic
                client_secret_env: %s
                """.formatted(REPORTER, SECRET_PROPERTY));
        broker = AgentTestBroker.builder(dir).configDir(config)
                .property("deputy.admin.bootstrap-secret", ADMIN_SECRET).start();
        broker.standardFixture();
        for (String id : List.of("payments.settlement.reconciler", "fault.token", "fault.introspect", "fault.revoke")) {
            JWK k = TestKeys.ec();
            keys.put(id, k);
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        }
    }

    @AfterAll
    static void stop() {
        System.clearProperty(SECRET_PROPERTY);
        if (broker != null) {
            broker.close();
        }
    }

    static Map<String, String> as(String agent, Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        form.putAll(params);
        return form;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** RFC 6749 §2.3.1: form-encode id and secret, join with ':', base64. */
    static String basic(String id, String secret) {
        return "Basic " + Base64.getEncoder().encodeToString((enc(id) + ":" + enc(secret)).getBytes(StandardCharsets.UTF_8));
    }

    /** What a client that skips the form-encoding sends. */
    static String rawBasic(String id, String secret) {
        return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
    }

    static HttpResponse<String> post(String path, String authorization, Map<String, String> form) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(broker.url() + path)).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(AgentTestBroker.form(form)));
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static AuditEntry refused(HttpResponse<String> r, int status, String error, String type) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(error, json(r).get("error"), r.body());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals(type, e.type());
        assertEquals(error, details(e).get("error"));
        return e;
    }

    // ---------------------------------------------------------------- unexpected failures: 500, one entry

    /** The answer to a request that hit a broken store: RFC 6749 §5.2 JSON, nothing of the failure inside. */
    static void serverError(HttpResponse<String> r, String type, String clientId) {
        AuditEntry e = refused(r, 500, "server_error", type);
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        assertEquals("unexpected error", json(r).get("error_description"));
        for (String leak : List.of("Exception", "at dev.", "jooq", "agents_away", "SQL", "\tat ")) {
            assertFalse(r.body().contains(leak), "the body leaks '" + leak + "': " + r.body());
        }
        assertTrue(String.valueOf(details(e).get("reason")).startsWith("server_error: "), e.details());
        assertEquals(clientId, e.clientId());
    }

    @Test
    void aFailingStoreIsA500ServerErrorWithOneEntryAtEveryClientAuthenticatedEndpoint() {
        // a token minted while everything works, for introspection and revocation
        HttpResponse<String> ok = broker.post("/t/demo/token", as("payments.settlement.reconciler",
                Map.of("grant_type", "client_credentials")));
        assertEquals(200, ok.statusCode(), ok.body());
        String token = (String) json(ok).get("access_token");
        Database db = broker.bean(Database.class);
        // the agents table disappears from under the broker: each fault.* agent is looked up for the first time
        db.dsl().execute("ALTER TABLE agents RENAME TO agents_away");
        try {
            serverError(broker.post("/t/demo/token", as("fault.token", Map.of("grant_type", "client_credentials"))),
                    "token.rejected", "fault.token");
            serverError(broker.post("/t/demo/introspect", as("fault.introspect", Map.of("token", token))),
                    "introspection.rejected", "fault.introspect");
            serverError(broker.post("/t/demo/revoke", as("fault.revoke", Map.of("token", token))),
                    "revocation.rejected", "fault.revoke");
        } finally {
            db.dsl().execute("ALTER TABLE agents_away RENAME TO agents");
        }
        // and nothing was changed: the same requests work again, the token was not revoked
        assertEquals(200, broker.post("/t/demo/token", as("fault.token", Map.of("grant_type", "client_credentials")))
                .statusCode());
        HttpResponse<String> again = broker.post("/t/demo/introspect", as("fault.introspect", Map.of("token", token)));
        assertEquals(200, again.statusCode(), again.body());
        assertEquals(true, json(again).get("active"), again.body());
    }

    // ---------------------------------------------------------------- unauthorized_client, Basic decoding at /token

    @Test
    void aClientNotAllowedAGrantTypeGetsUnauthorizedClient() {
        // the reporter is a registered (non-agent) client: client_credentials is for agents
        AuditEntry e = refused(post("/t/demo/token", basic(REPORTER, REPORTER_SECRET),
                Map.of("grant_type", "client_credentials")), 400, "unauthorized_client", "token.rejected");
        assertEquals(REPORTER, e.clientId(), "the client authenticated: its decoded id is on the entry");
        assertEquals(true, details(e).get("authenticated"));
        assertEquals("client_credentials", details(e).get("grant_type"));
        // token exchange is for agents only (RFC 8693 actor = an agent): the registered client is refused the same way
        AuditEntry x = refused(post("/t/demo/token", basic(REPORTER, REPORTER_SECRET), Map.of(
                "grant_type", "urn:ietf:params:oauth:grant-type:token-exchange", "subject_token", "x",
                "subject_token_type", "urn:ietf:params:oauth:token-type:access_token")), 400, "unauthorized_client",
                "token.rejected");
        assertEquals(REPORTER, x.clientId());
    }

    @Test
    void basicCredentialsAreFormDecodedAtTheTokenAndIntrospectionEndpoints() {
        // RFC 6749 §2.3.1: the encoded form authenticates (the grant then decides) ...
        assertEquals("unauthorized_client", json(post("/t/demo/token", basic(REPORTER, REPORTER_SECRET),
                Map.of("grant_type", "client_credentials"))).get("error"));
        HttpResponse<String> introspected = post("/t/demo/introspect", basic(REPORTER, REPORTER_SECRET),
                Map.of("token", "not-a-token"));
        assertEquals(200, introspected.statusCode(), introspected.body());
        assertEquals(false, json(introspected).get("active"));
        // ... every byte percent-encoded is the same credential
        String allEscaped = "Basic " + Base64.getEncoder().encodeToString((percentAll(REPORTER) + ":"
                + percentAll(REPORTER_SECRET)).getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, post("/t/demo/introspect", allEscaped, Map.of("token", "x")).statusCode());
        // the unencoded form is another id and secret ('+' is a space, "%t " is no escape): invalid_client, one entry
        HttpResponse<String> raw = post("/t/demo/token", rawBasic(REPORTER, REPORTER_SECRET),
                Map.of("grant_type", "client_credentials"));
        refused(raw, 401, "invalid_client", "token.rejected");
        assertTrue(raw.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
        // a wrong secret with the right encoding: invalid_client too
        refused(post("/t/demo/token", basic(REPORTER, REPORTER_SECRET + "x"), Map.of("grant_type", "client_credentials")),
                401, "invalid_client", "token.rejected");
    }

    static String percentAll(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            b.append('%').append(String.format("%02X", x & 0xff));
        }
        return b.toString();
    }

    // ---------------------------------------------------------------- tool-call reports

    /** The error branches of {@code /audit/tool-calls} for a client_secret_basic reporter: code, status, one entry. */
    @Test
    void toolCallReportBranchesAnswerTheirCodeWithOneEntry() {
        String path = "/t/demo/audit/tool-calls";
        HttpResponse<String> t = broker.post("/t/demo/token", as("payments.settlement.reconciler",
                Map.of("grant_type", "client_credentials", "client_id", "payments.settlement.reconciler")));
        assertEquals(200, t.statusCode(), t.body());
        String token = (String) json(t).get("access_token");
        Map<String, String> ok = new LinkedHashMap<>(Map.of("token", token, "tool", "ledger.reconcile:zoë/v2",
                "arguments_sha256", "b".repeat(64), "status", "ok"));
        String reporter = basic(REPORTER, REPORTER_SECRET);
        // the reporter's wrong secret: 401 invalid_client with WWW-Authenticate, one entry, nothing recorded
        HttpResponse<String> wrong = post(path, basic(REPORTER, REPORTER_SECRET + "x"), ok);
        AuditEntry e = refused(wrong, 401, "invalid_client", "tool.call.rejected");
        assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"), wrong.headers().map().toString());
        assertEquals(ClientFrontDoor.CLIENT_AUTH_FAILED, json(wrong).get("error_description"));
        assertFalse(e.details().contains(REPORTER_SECRET));
        // no token: invalid_request, reason no_token
        Map<String, String> noToken = new LinkedHashMap<>(ok);
        noToken.remove("token");
        assertEquals("no_token", details(refused(post(path, reporter, noToken), 400, "invalid_request",
                "tool.call.rejected")).get("reason"));
        // not a token at all, and an attacker's unsigned look-alike: invalid_token
        for (String bad : List.of("not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.")) {
            Map<String, String> f = new LinkedHashMap<>(ok);
            f.put("token", bad);
            refused(post(path, reporter, f), 400, "invalid_token", "tool.call.rejected");
        }
        // a malformed report (tool with a quote and markup): invalid_request, reason invalid_report
        Map<String, String> badTool = new LinkedHashMap<>(ok);
        badTool.put("tool", "x\"><script>");
        AuditEntry inv = refused(post(path, reporter, badTool), 400, "invalid_request", "tool.call.rejected");
        assertEquals("invalid_report", details(inv).get("reason"));
        assertEquals(null, details(inv).get("tool"));
        // a resource the token is not for: invalid_token, reason resource_not_in_aud
        Map<String, String> otherRes = new LinkedHashMap<>(ok);
        otherRes.put("resource", "https://mail.example.com/mcp/");
        assertEquals("resource_not_in_aud", details(refused(post(path, reporter, otherRes), 400, "invalid_token",
                "tool.call.rejected")).get("reason"));
        assertTrue(broker.audit().stream().noneMatch(x -> x.type().equals("tool.call")));
        // the good report: 201, one tool.call entry naming the reporter; no cnf_verified for a token without cnf
        HttpResponse<String> r = post(path, reporter, ok);
        assertEquals(201, r.statusCode(), r.body());
        AuditEntry call = broker.onlyEntryOfLastRequest();
        assertEquals("tool.call", call.type());
        assertEquals("payments.settlement.reconciler", call.agentId());
        assertEquals(REPORTER, details(call).get("reporter"));
        assertEquals("ledger.reconcile:zoë/v2", details(call).get("tool"));
        assertFalse(details(call).containsKey("cnf_verified"));
    }

    // ---------------------------------------------------------------- /admin/token

    static AuditEntry lastAdminTokenEntry() {
        List<AuditEntry> all = broker.bean(AuditStore.class).range(AdminAuth.SYSTEM_TENANT, 0, 100_000);
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).type().equals("admin.token.issue")) {
                return all.get(i);
            }
        }
        throw new AssertionError("no admin.token.issue entry");
    }

    static long adminTokenEntries() {
        return broker.bean(AuditStore.class).range(AdminAuth.SYSTEM_TENANT, 0, 100_000).stream()
                .filter(e -> e.type().equals("admin.token.issue")).count();
    }

    @Test
    void adminTokenDecodesBasicCredentialsLikeRfc6749() {
        Map<String, String> form = Map.of("grant_type", "client_credentials");
        HttpResponse<String> ok = post("/admin/token", basic("admin", ADMIN_SECRET), form);
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(String.valueOf(json(ok).get("access_token")).startsWith("dpa_"));
        assertTrue(lastAdminTokenEntry().outcome().equalsIgnoreCase("success"), lastAdminTokenEntry().outcome());
        // the same secret percent-encoded byte by byte
        String allEscaped = "Basic " + Base64.getEncoder().encodeToString(("admin:" + percentAll(ADMIN_SECRET))
                .getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, post("/admin/token", allEscaped, form).statusCode());
        // the unencoded secret ("100% ü" is no escape, '+' is a space) is refused, one entry each
        long before = adminTokenEntries();
        HttpResponse<String> raw = post("/admin/token", rawBasic("admin", ADMIN_SECRET), form);
        assertEquals(401, raw.statusCode(), raw.body());
        assertEquals("invalid_client", json(raw).get("error"));
        assertEquals(before + 1, adminTokenEntries());
        assertEquals("invalid_client", details(lastAdminTokenEntry()).get("error"));
        // a secret that decodes but differs only by a '+' read as a space
        assertEquals(401, post("/admin/token", "Basic " + Base64.getEncoder().encodeToString(
                ("admin:" + enc(ADMIN_SECRET).replace("%2B", "+")).getBytes(StandardCharsets.US_ASCII)), form).statusCode());
        // not base64 at all, and no colon: invalid_client JSON, one entry, no 500
        for (String bad : List.of("Basic !!!not-base64!!!", "Basic " + Base64.getEncoder().encodeToString(
                "no-colon-here".getBytes(StandardCharsets.UTF_8)))) {
            long n = adminTokenEntries();
            HttpResponse<String> r = post("/admin/token", bad, form);
            assertEquals(401, r.statusCode(), r.body());
            assertEquals("invalid_client", json(r).get("error"));
            assertEquals(n + 1, adminTokenEntries());
            assertEquals("malformed Basic credentials", details(lastAdminTokenEntry()).get("reason"));
        }
        // a grant type other than client_credentials: unsupported_grant_type, one entry
        long n = adminTokenEntries();
        HttpResponse<String> pw = post("/admin/token", basic("admin", ADMIN_SECRET), Map.of("grant_type", "password"));
        assertEquals(400, pw.statusCode(), pw.body());
        assertEquals("unsupported_grant_type", json(pw).get("error"));
        assertEquals(n + 1, adminTokenEntries());
        assertEquals("unsupported_grant_type", details(lastAdminTokenEntry()).get("error"));
    }

    /** Issue 14: each refusal of {@code /admin/token} is its code, its status and exactly one entry. */
    @Test
    void adminTokenErrorBranchesAnswerTheirCodeWithOneEntry() {
        Map<String, String> cc = Map.of("grant_type", "client_credentials");
        // no credentials at all
        long n = adminTokenEntries();
        HttpResponse<String> none = post("/admin/token", null, cc);
        assertEquals(401, none.statusCode(), none.body());
        assertEquals("invalid_client", json(none).get("error"));
        assertTrue(none.headers().firstValue("WWW-Authenticate").isPresent(), none.headers().map().toString());
        assertEquals(n + 1, adminTokenEntries());
        // an unknown id in the form (dotted, unicode), and the right secret under another id
        for (Map<String, String> f : List.of(
                Map.of("grant_type", "client_credentials", "client_id", "jonathan.christopher.williams",
                        "client_secret", ADMIN_SECRET),
                Map.of("grant_type", "client_credentials", "client_id", "zoë-agent", "client_secret", "x"))) {
            long before = adminTokenEntries();
            HttpResponse<String> r = post("/admin/token", null, f);
            assertEquals(401, r.statusCode(), r.body());
            assertEquals("invalid_client", json(r).get("error"));
            assertEquals(before + 1, adminTokenEntries());
            assertEquals("invalid_client", details(lastAdminTokenEntry()).get("error"));
            assertFalse(lastAdminTokenEntry().details().contains(ADMIN_SECRET));
        }
        // no grant_type, in a form with other members or an empty body: invalid_request (RFC 6749 §5.2), one entry
        for (Map<String, String> f : List.of(Map.of("scope", "admin"), Map.<String, String>of())) {
            long before = adminTokenEntries();
            HttpResponse<String> noGrant = post("/admin/token", basic("admin", ADMIN_SECRET), f);
            assertEquals(400, noGrant.statusCode(), noGrant.body());
            assertEquals("invalid_request", json(noGrant).get("error"));
            assertEquals(before + 1, adminTokenEntries(), "form " + f);
            assertEquals("invalid_request", details(lastAdminTokenEntry()).get("error"));
        }
    }
}
