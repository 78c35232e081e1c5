package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.pki.Pem;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.details;
import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one front door of the client-authenticated endpoints (issue 14): which clients may use which endpoint, the
 * {@code invalid_client} answer (401, {@code WWW-Authenticate}, nothing revealed), exactly one audit entry per
 * refused request, and the findings that depend on it — public clients at introspection and revocation (1),
 * certificate-bound tokens in exchange (3), tool-call reports (6), no CORS on {@code /admin} (15). Runs with the
 * HTTPS/mTLS listener; agents authenticate with private_key_jwt or CA-issued certificates.
 */
class FrontDoorHttpTest {
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String AT = "urn:ietf:params:oauth:token-type:access_token";
    static final String FILES = "https://files.example.com/mcp";
    /** A user id a naive broker would normalise: unicode, spaces, dots, a plus. */
    static final String USER = "ü.ser +Ñame 42@corp.example";
    static final String USER_ISS = "https://idp.example.com/oauth2/default";

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static final Map<String, JWK> keys = new LinkedHashMap<>();
    static KeyPair holderKey = TestKeys.ecKeyPair("secp256r1");
    static X509Certificate holderCert;
    static String holderThumbprint;
    static KeyPair otherKey = TestKeys.ecKeyPair("secp256r1");
    static X509Certificate otherCert;
    static String otherThumbprint;

    @BeforeAll
    static void start() throws Exception {
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.createDirectories(config.resolve("tenants/demo/clients"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        // RFC 7662 §4: only the resource server "rs.caller" may introspect here
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), """
                display_name: Front door
                introspection:
                  allowed_clients: [rs.caller]
                """);
        Files.writeString(config.resolve("tenants/demo/clients/public.yml"), """
                client_id: pub.app
                name: A public MCP client
                redirect_uris: [http://127.0.0.1/callback]
                internal: true
                """);
        Files.writeString(config.resolve("tenants/demo/policies/delegation.yml"), """
                max_chain_depth: 3
                delegation:
                  - id: everyone
                    agents: ["*"]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        broker = AgentTestBroker.builder(dir).configDir(config).tls().start();
        broker.standardFixture();
        for (String id : List.of("rs.caller", "worker", "suspended.one")) {
            JWK k = TestKeys.ec();
            keys.put(id, k);
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        }
        broker.setStatus("suspended.one", Agent.Status.SUSPENDED);
        broker.agent("holder", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        broker.agent("other.mtls", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        String admin = broker.adminToken();
        holderCert = issue(admin, "holder", holderKey);
        holderThumbprint = ClientCertificates.thumbprint(holderCert);
        otherCert = issue(admin, "other.mtls", otherKey);
        otherThumbprint = ClientCertificates.thumbprint(otherCert);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static X509Certificate issue(String admin, String agent, KeyPair kp) {
        String body = "{\"csr\":\"" + TestKeys.csr(kp, agent).replace("\n", "\\n") + "\",\"ttl\":\"1h\"}";
        HttpResponse<String> r = broker.postJson("/admin/t/demo/agents/" + agent + "/certificates", admin, body);
        assertEquals(200, r.statusCode(), r.body());
        return Pem.certificate((String) json(r).get("certificate"));
    }

    /** A private_key_jwt client authentication (aud: the issuer) plus the given parameters. */
    static Map<String, String> as(String agent, Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        form.putAll(params);
        return form;
    }

    static SSLContext tls(KeyPair kp, X509Certificate cert) {
        return TestKeys.clientTls(kp.getPrivate(), cert);
    }

    static String userToken(String boundTo, Map<String, Object> extra, String audience) {
        return broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", USER, USER_ISS, List.of(), "holder",
                audience, List.of("files:read"), boundTo, null, Duration.ofMinutes(5), extra)).token();
    }

    /** The refusal: status, error code, the one audit entry of the request, of the type given. */
    static AuditEntry refused(HttpResponse<String> r, int status, String error, String type) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(error, json(r).get("error"), r.body());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals(type, e.type());
        assertEquals(error, details(e).get("error"));
        return e;
    }

    static void invalidClient(HttpResponse<String> r, String type, String reasonPart) {
        AuditEntry e = refused(r, 401, "invalid_client", type);
        // RFC 6749 §5.2: 401 with a challenge; the description says nothing about the id or its method (finding 15)
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"), r.headers().toString());
        assertEquals(ClientFrontDoor.CLIENT_AUTH_FAILED, json(r).get("error_description"));
        String reason = String.valueOf(details(e).get("reason"));
        assertTrue(reason.contains(reasonPart), reason);
    }

    // ---------------------------------------------------------------- finding 1: who may introspect and revoke

    @Test
    void publicClientsMayNotIntrospectOrRevoke() {
        String token = userToken(null, Map.of(), FILES);
        invalidClient(broker.post("/t/demo/introspect", Map.of("client_id", "pub.app", "token", token)),
                "introspection.rejected", "public client");
        invalidClient(broker.post("/t/demo/revoke", Map.of("client_id", "pub.app", "token", token)),
                "revocation.rejected", "public client");
        // nothing was revoked, and the allowed resource server still sees the token active
        HttpResponse<String> ok = broker.post("/t/demo/introspect", as("rs.caller", Map.of("token", token)));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(true, json(ok).get("active"));
        assertEquals(USER, json(ok).get("sub"));
        // the same public client is still welcome at the token endpoint (its grant decides)
        HttpResponse<String> t = broker.post("/t/demo/token", Map.of("client_id", "pub.app", "grant_type", "refresh_token",
                "refresh_token", "drt_unknown"));
        AuditEntry e = refused(t, 400, "invalid_grant", "token.rejected");
        assertEquals("unknown_refresh_token", details(e).get("reason"));
    }

    @Test
    void introspectionIsLimitedToTheTenantsAllowList() {
        String token = userToken(null, Map.of(), FILES);
        AuditEntry e = refused(broker.post("/t/demo/introspect", as("worker", Map.of("token", token))), 403,
                "unauthorized_client", "introspection.rejected");
        assertEquals("worker", e.clientId());
        assertEquals("not_on_introspection_allow_list", details(e).get("reason"));
        assertEquals(true, json(broker.post("/t/demo/introspect", as("rs.caller", Map.of("token", token)))).get("active"));
        // revocation is not limited by the list: its owner rule applies (RFC 7009 §2.1)
        assertEquals(200, broker.post("/t/demo/revoke", as("worker", Map.of("token", token))).statusCode());
        assertEquals("token.revocation.ignored", broker.onlyEntryOfLastRequest().type());
    }

    // ---------------------------------------------------------------- finding 13 and 15: invalid_client, one entry

    @Test
    void invalidClientSaysTheSameForEveryCauseAndIsAuditedOnce() {
        // an id nobody knows, a suspended agent, an agent using the wrong method, a garbled assertion
        Map<String, String> unknown = new LinkedHashMap<>(as("worker", Map.of("grant_type", "client_credentials")));
        unknown.put("client_assertion", TestKeys.sign(keys.get("worker"), TestKeys.claims("nö such.agent", broker.issuer()).build()));
        invalidClient(broker.post("/t/demo/token", unknown), "token.rejected", "unknown client");
        invalidClient(broker.post("/t/demo/token", as("suspended.one", Map.of("grant_type", "client_credentials"))),
                "token.rejected", "suspended");
        invalidClient(broker.post("/t/demo/token", Map.of("grant_type", "client_credentials", "client_id", "holder",
                "client_secret", "guess")), "token.rejected", "tls_client_auth");
        invalidClient(broker.post("/t/demo/introspect", Map.of("token", "x", "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", "not.a.jwt")),
                "introspection.rejected", "malformed");
        invalidClient(broker.post("/t/demo/revoke", Map.of("token", "x")), "revocation.rejected", "client authentication required");
    }

    @Test
    void tokenEndpointErrorBranchesWriteOneEntryEach() {
        refused(broker.post("/t/demo/token", Map.of("client_id", "pub.app")), 400, "invalid_request", "token.rejected");
        refused(broker.post("/t/demo/token", Map.of("client_id", "pub.app", "grant_type", "urn:x:nothing")), 400,
                "unsupported_grant_type", "token.rejected");
        refused(broker.post("/t/demo/token", as("worker", Map.of("grant_type", "client_credentials", "scope", "files:write"))),
                400, "invalid_scope", "token.rejected");
        refused(broker.post("/t/demo/token", as("worker", Map.of("grant_type", "client_credentials",
                "resource", "https://unknown.example/mcp"))), 400, "invalid_target", "token.rejected");
        refused(broker.post("/t/demo/token", as("worker", Map.of("grant_type", "client_credentials",
                "resource", "https://files.example.com/mcp#frag"))), 400, "invalid_target", "token.rejected");
        refused(broker.post("/t/demo/token", as("worker", Map.of("grant_type", "refresh_token", "refresh_token", "drt_x"))),
                400, "invalid_grant", "token.rejected");
        refused(broker.post("/t/demo/introspect", as("rs.caller", Map.of())), 400, "invalid_request", "introspection.rejected");
        refused(broker.post("/t/demo/revoke", as("worker", Map.of())), 400, "invalid_request", "revocation.rejected");
    }

    @Test
    void anUnexpectedFailureBehindTheDoorIsAServerErrorAndAudited() {
        ClientFrontDoor door = broker.bean(ClientFrontDoor.class);
        HTTPRequest r = new HTTPRequest(HTTPRequest.Method.POST, URI.create(broker.issuer() + "/introspect"));
        r.setEntityContentType(com.nimbusds.common.contenttype.ContentType.APPLICATION_URLENCODED);
        r.setBody(AgentTestBroker.form(as("rs.caller", Map.of("token", "t"))));
        RequestMeta meta = new RequestMeta("corr-" + java.util.UUID.randomUUID(), "req-1", "127.0.0.1");
        EndpointResponse out = door.serve(ClientFrontDoor.Endpoint.INTROSPECTION,
                broker.bean(Tenants.class).find("demo").orElseThrow(), r, meta, call -> {
                    throw new IllegalStateException("boom");
                });
        assertEquals("server_error", out.error().getCode());
        assertEquals(500, out.error().getHTTPStatusCode());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals("introspection.rejected", e.type());
        assertEquals("server_error", details(e).get("error"));
        assertEquals("rs.caller", e.clientId());
    }

    // ---------------------------------------------------------------- finding 3: certificate-bound subject tokens

    @Test
    void aCertificateBoundTokenIsNotLaundered() throws Exception {
        String bound = userToken(holderThumbprint, Map.of(), FILES);
        Map<String, String> ex = Map.of("grant_type", EXCHANGE, "subject_token", bound, "subject_token_type", AT);
        // another agent allowed by policy, without the certificate: refused (before: a token without cnf)
        AuditEntry e = refused(broker.post("/t/demo/token", as("worker", ex)), 400, "invalid_grant", "token.rejected");
        assertEquals("cnf_not_holder", details(e).get("reason"));
        // another agent with a certificate of its own: still not the holder
        Map<String, String> viaOther = new LinkedHashMap<>(ex);
        viaOther.put("client_id", "other.mtls");
        refused(broker.postTls(tls(otherKey, otherCert), "/t/demo/token", viaOther), 400, "invalid_grant", "token.rejected");
        // the holder, with its certificate: the exchanged token stays bound to it
        Map<String, String> viaHolder = new LinkedHashMap<>(ex);
        viaHolder.put("client_id", "holder");
        HttpResponse<String> ok = broker.postTls(tls(holderKey, holderCert), "/t/demo/token", viaHolder);
        assertEquals(200, ok.statusCode(), ok.body());
        JWTClaimsSet c = SignedJWT.parse((String) json(ok).get("access_token")).getJWTClaimsSet();
        assertEquals(Map.of("x5t#S256", holderThumbprint), c.getJSONObjectClaim("cnf"));
        assertEquals(USER, c.getSubject());
    }

    @Test
    void mayActOrAudienceLetsAnotherAgentExchangeButNeverLoosensTheBinding() throws Exception {
        // named in may_act, but authenticating without a certificate: the output could not be bound
        String forWorker = userToken(holderThumbprint, Map.of("may_act", Map.of("sub", "worker")), FILES);
        AuditEntry e = refused(broker.post("/t/demo/token", as("worker", Map.of("grant_type", EXCHANGE,
                "subject_token", forWorker, "subject_token_type", AT))), 400, "invalid_grant", "token.rejected");
        assertEquals("cnf_would_be_lost", details(e).get("reason"));
        // the subject token's audience is other.mtls, which exchanges over mTLS: allowed, bound to its own certificate
        String forOther = userToken(holderThumbprint, Map.of(), "other.mtls");
        HttpResponse<String> ok = broker.postTls(tls(otherKey, otherCert), "/t/demo/token", Map.of("grant_type", EXCHANGE,
                "client_id", "other.mtls", "subject_token", forOther, "subject_token_type", AT, "resource", FILES));
        assertEquals(200, ok.statusCode(), ok.body());
        JWTClaimsSet c = SignedJWT.parse((String) json(ok).get("access_token")).getJWTClaimsSet();
        assertEquals(Map.of("x5t#S256", otherThumbprint), c.getJSONObjectClaim("cnf"));
        assertEquals(Map.of("sub", "other.mtls"), c.getJSONObjectClaim("act"));
    }

    // ---------------------------------------------------------------- finding 6: tool-call reports

    static Map<String, String> report(String token, Map<String, String> more) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("token", token);
        m.put("tool", "files.read:ünïcode/v2");
        m.put("arguments_sha256", "a".repeat(64));
        m.put("status", "ok");
        m.putAll(more);
        return m;
    }

    String holderToken() {
        HttpResponse<String> r = broker.postTls(tls(holderKey, holderCert), "/t/demo/token",
                Map.of("grant_type", "client_credentials", "client_id", "holder"));
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r).get("access_token");
    }

    @Test
    void toolCallReportsNeedAnAuthenticatedReporterTheCertificateAndTheAudience() {
        String bound = holderToken();
        String path = "/t/demo/audit/tool-calls";
        // the reporter must authenticate (before: the caller's bearer token alone was enough)
        invalidClient(broker.post(path, report(bound, Map.of())), "tool.call.rejected", "client authentication required");
        invalidClient(broker.post(path, new LinkedHashMap<>(Map.of("client_id", "pub.app", "token", bound, "tool", "t",
                "status", "ok"))), "tool.call.rejected", "public client");
        // another agent's certificate is not its certificate: the resource server saw the token used without it
        String otherPem = Base64.getEncoder().encodeToString(encoded(otherCert));
        AuditEntry mismatch = refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate",
                otherPem)))), 400, "invalid_token", "tool.call.rejected");
        assertEquals("cnf_mismatch", details(mismatch).get("reason"));
        assertEquals("holder", mismatch.agentId());
        // a certificate that does not parse is no certificate of the holder's either
        AuditEntry garbage = refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate",
                "-----BEGIN CERTIFICATE-----\n\"><zoë>\n-----END CERTIFICATE-----")))), 400, "invalid_token",
                "tool.call.rejected");
        assertEquals("cnf_mismatch", details(garbage).get("reason"));
        // no certificate forwarded (a resource server behind plain HTTP): nothing shows the holder made the call —
        // refused by default (RFC 8705 §3), one entry, nothing recorded
        long calls = broker.audit().stream().filter(x -> x.type().equals("tool.call")).count();
        AuditEntry strict = refused(broker.post(path, as("rs.caller", report(bound, Map.of()))), 400, "invalid_token",
                "tool.call.rejected");
        assertEquals("cnf_unverified", details(strict).get("reason"));
        assertEquals("holder", strict.agentId());
        assertEquals(calls, broker.audit().stream().filter(x -> x.type().equals("tool.call")).count());
        // the tenant's opt-in for MCP servers that do not terminate TLS (tenant.yml tool_reports.accept_unverified_cnf):
        // the authenticated reporter's word is recorded, marked unverified
        dev.deputy.broker.tenant.Tenants tenants = broker.bean(dev.deputy.broker.tenant.Tenants.class);
        dev.deputy.broker.tenant.Tenant before = tenants.find("demo").orElseThrow();
        Path lenientYml = dir.resolve("lenient-tenant.yml");
        try {
            Files.writeString(lenientYml, "display_name: Front door\nintrospection:\n  allowed_clients: [rs.caller]\n"
                    + "tool_reports:\n  accept_unverified_cnf: true\n");
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        dev.deputy.broker.tenant.Tenant lenient = dev.deputy.broker.tenant.Tenant.of("demo", before.configDir(),
                dev.deputy.broker.config.YamlFiles.read(lenientYml, dev.deputy.broker.config.TenantFile.class),
                tenants.tree().broker().defaults());
        assertTrue(lenient.acceptUnverifiedCnf());
        tenants.replace(lenient);
        try {
            HttpResponse<String> unverified = broker.post(path, as("rs.caller", report(bound, Map.of())));
            assertEquals(201, unverified.statusCode(), unverified.body());
            AuditEntry noCert = broker.onlyEntryOfLastRequest();
            assertEquals("tool.call", noCert.type());
            assertEquals("holder", noCert.agentId());
            assertEquals(false, details(noCert).get("cnf_verified"));
            // the opt-in never admits a certificate that is not the holder's
            AuditEntry still = refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate",
                    otherPem)))), 400, "invalid_token", "tool.call.rejected");
            assertEquals("cnf_mismatch", details(still).get("reason"));
        } finally {
            tenants.replace(before);
        }
        String pem = Pem.write(holderCert);
        // resource that is not the token's audience
        AuditEntry wrongAud = refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate", pem,
                "resource", "https://mail.example.com/mcp")))), 400, "invalid_token", "tool.call.rejected");
        assertEquals("resource_not_in_aud", details(wrongAud).get("reason"));
        // a malformed report
        refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate", pem, "status", "maybe")))),
                400, "invalid_request", "tool.call.rejected");
        // with the certificate the resource server saw, at the token's own resource: recorded, naming the reporter
        HttpResponse<String> ok = broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate", pem,
                "resource", FILES + "/"))));
        assertEquals(201, ok.statusCode(), ok.body());
        AuditEntry call = broker.onlyEntryOfLastRequest();
        assertEquals("tool.call", call.type());
        assertEquals("holder", call.agentId());
        assertEquals(FILES, call.resource());
        assertEquals("rs.caller", details(call).get("reporter"));
        assertEquals(true, details(call).get("cnf_verified"));
        // the holder may report its own call over mTLS with the same certificate
        Map<String, String> own = report(bound, Map.of("client_id", "holder"));
        assertEquals(201, broker.postTls(tls(holderKey, holderCert), path, own).statusCode());
        assertEquals(true, details(broker.onlyEntryOfLastRequest()).get("cnf_verified"));
        // a revoked token is refused
        broker.bean(dev.deputy.broker.token.Revocations.class).revoke("demo", jti(bound), java.time.Instant.now().plusSeconds(600));
        AuditEntry revoked = refused(broker.post(path, as("rs.caller", report(bound, Map.of("client_certificate", pem)))),
                400, "invalid_token", "tool.call.rejected");
        assertEquals("revoked", details(revoked).get("reason"));
    }

    @Test
    void theOldBearerOnlyReportIsNotAccepted() throws Exception {
        String unbound = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "worker", null, List.of(),
                "worker", FILES, List.of("files:read"), null, null, Duration.ofMinutes(5), Map.of())).token();
        HttpResponse<String> r = broker.postJson("/t/demo/audit/tool-calls", unbound,
                "{\"tool\":\"x\",\"status\":\"ok\",\"resource\":\"" + FILES + "\"}");
        assertFalse(r.statusCode() / 100 == 2, r.body());
        assertTrue(broker.audit().stream().noneMatch(e -> e.type().equals("tool.call") && "worker".equals(e.agentId())));
    }

    static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String jti(String token) {
        try {
            return SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
        } catch (java.text.ParseException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- finding 15: CORS on /admin

    static HttpResponse<String> withOrigin(String method, String path, String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(broker.url() + path)).header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type");
        b = "OPTIONS".equals(method) ? b.method("OPTIONS", HttpRequest.BodyPublishers.noBody()) : b.GET();
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void adminRoutesReflectNoOrigin() throws Exception {
        String evil = "https://evil.example";
        for (String m : List.of("OPTIONS", "GET")) {
            HttpResponse<String> r = withOrigin(m, "/admin/t/demo/agents", evil);
            assertNull(r.headers().firstValue("Access-Control-Allow-Origin").orElse(null), m + " " + r.headers());
            assertNull(r.headers().firstValue("Access-Control-Allow-Credentials").orElse(null));
        }
        // protocol endpoints keep CORS for browser-based MCP clients
        HttpResponse<String> token = withOrigin("OPTIONS", "/t/demo/token", "https://app.example");
        assertEquals("https://app.example", token.headers().firstValue("Access-Control-Allow-Origin").orElse(null),
                token.headers().toString());
    }
}
