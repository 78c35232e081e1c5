package dev.deputy.broker.grant;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delegation over HTTP: RFC 8693 token exchange through a chain of agents and the ID-JAG grant, with the
 * invariant that the user part of the token never changes and scopes only shrink, and each rejection with its
 * error code and an audit entry.
 */
class DelegationHttpTest {
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String AT = "urn:ietf:params:oauth:token-type:access_token";
    /** An upstream subject with characters a re-minting broker would be tempted to normalise. */
    static final String USER_SUB = "00u1AbC+Ünïcode/ sub|42";
    static final String USER_ISS = "https://idp.example.com/";
    static final String IDP = "https://enterprise-idp.example.com";

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static final Map<String, JWK> keys = new LinkedHashMap<>();
    static RSAKey idpKey;

    @BeforeAll
    static void start() throws Exception {
        idpKey = new RSAKeyGenerator(2048).keyID("idp-1").generate();
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.createDirectories(config.resolve("tenants/demo/trust"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Delegation\n");
        Files.writeString(config.resolve("tenants/demo/policies/delegation.yml"), """
                max_chain_depth: 3
                delegation:
                  - id: no-contractors
                    effect: deny
                    agents: ["*"]
                    users: {groups: [contractors]}
                    resources: ["*"]
                  - id: chain-agents-for-everyone
                    agents: [agent-a, agent-b, agent-c, agent-d]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        Files.writeString(config.resolve("tenants/demo/trust/idp.yml"), "issuer: " + IDP + "\n"
                + "jwks: " + new com.nimbusds.jose.jwk.JWKSet(idpKey.toPublicJWK()).toString() + "\n"
                + "grants: [id-jag]\nalgorithms: [RS256]\n");
        broker = AgentTestBroker.builder(dir).configDir(config).start();
        broker.standardFixture(); // roles reader/writer, resources files (default) and mail
        broker.role("files-all", List.of("files:read", "files:list", "files:write"), List.of());
        for (String id : List.of("agent-a", "agent-b", "agent-c", "agent-d", "agent-e")) {
            JWK k = TestKeys.ec();
            keys.put(id, k);
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("files-all"));
            broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        }
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static String userToken(List<String> scopes, Map<String, Object> extra) {
        return broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", USER_SUB, USER_ISS, List.of(), "mcp-client",
                "https://files.example.com/mcp", scopes, null, null, Duration.ofMinutes(5), extra)).token();
    }

    static Map<String, String> exchangeForm(String agent, String subjectToken, Map<String, String> extra) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", EXCHANGE);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        form.put("subject_token", subjectToken);
        form.put("subject_token_type", AT);
        form.putAll(extra);
        return form;
    }

    static HttpResponse<String> exchange(String agent, String subjectToken, Map<String, String> extra) {
        return broker.post("/t/demo/token", exchangeForm(agent, subjectToken, extra));
    }

    static JWTClaimsSet claims(String token) throws Exception {
        return SignedJWT.parse(token).getJWTClaimsSet();
    }

    static Set<String> scopes(JWTClaimsSet c) {
        return new TreeSet<>(List.of(((String) c.getClaim("scope")).split(" ")));
    }

    static void assertRejected(HttpResponse<String> r, int status, String error) {
        assertRejected(r, status, error, "token.rejected");
    }

    /** The refusal's code, and its one audit entry (a policy denial's is the policy.decision entry). */
    static void assertRejected(HttpResponse<String> r, int status, String error, String auditType) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(error, json(r).get("error"), r.body());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals(auditType, e.type());
        assertEquals(error, AgentTestBroker.details(e).get("error"), "audit entry names the error");
    }

    @Test
    void userStaysUnchangedThroughThreeHopsAndScopesOnlyShrink() throws Exception {
        String user = userToken(List.of("files:read", "files:list", "files:write"), Map.of("groups", List.of("engineering")));
        JWTClaimsSet original = claims(user);

        HttpResponse<String> a = exchange("agent-a", user, Map.of("resource", "https://files.example.com/mcp",
                "scope", "files:read files:list"));
        assertEquals(200, a.statusCode(), a.body());
        assertEquals(AT, json(a).get("issued_token_type"));
        assertEquals("Bearer", json(a).get("token_type"));
        assertNull(json(a).get("refresh_token"), "no refresh token from an exchange");
        JWTClaimsSet ca = claims((String) json(a).get("access_token"));

        HttpResponse<String> b = exchange("agent-b", (String) json(a).get("access_token"), Map.of("scope", "files:read files:list"));
        assertEquals(200, b.statusCode(), b.body());
        JWTClaimsSet cb = claims((String) json(b).get("access_token"));

        HttpResponse<String> c = exchange("agent-c", (String) json(b).get("access_token"), Map.of("scope", "files:read"));
        assertEquals(200, c.statusCode(), c.body());
        JWTClaimsSet cc = claims((String) json(c).get("access_token"));

        for (JWTClaimsSet hop : List.of(ca, cb, cc)) {
            assertEquals(original.getSubject(), hop.getSubject(), "sub byte-identical");
            assertEquals(USER_SUB, hop.getSubject());
            assertEquals(original.getClaim("sub_id"), hop.getClaim("sub_id"), "sub_id identical");
            assertEquals(List.of("https://files.example.com/mcp"), hop.getAudience());
        }
        assertEquals(Map.of("format", "iss_sub", "iss", USER_ISS, "sub", USER_SUB), cc.getClaim("sub_id"));
        assertEquals(Map.of("sub", "agent-a"), ca.getClaim("act"));
        assertEquals(Map.of("sub", "agent-b", "act", Map.of("sub", "agent-a")), cb.getClaim("act"));
        assertEquals(Map.of("sub", "agent-c", "act", Map.of("sub", "agent-b", "act", Map.of("sub", "agent-a"))),
                cc.getClaim("act"));
        assertEquals("agent-c", cc.getClaim("client_id"));
        assertTrue(scopes(original).containsAll(scopes(ca)));
        assertTrue(scopes(ca).containsAll(scopes(cb)));
        assertTrue(scopes(cb).containsAll(scopes(cc)));
        assertEquals(Set.of("files:read"), scopes(cc));
        assertFalse(cc.getExpirationTime().after(original.getExpirationTime()), "never beyond the subject's expiry");

        AuditEntry exchanged = broker.lastAudit("token.exchanged");
        assertEquals(List.of("agent-c", "agent-b", "agent-a"), exchanged.actorChain());
        assertEquals(USER_SUB, exchanged.subject());
        assertEquals(USER_ISS, exchanged.subjectIss());
        assertEquals("chain-agents-for-everyone", AgentTestBroker.details(exchanged).get("rule"));
        assertFalse(exchanged.details().contains(json(c).get("access_token").toString()), "no token in the audit log");

        // a fourth hop goes beyond max_chain_depth 3
        HttpResponse<String> d = exchange("agent-d", (String) json(c).get("access_token"), Map.of());
        assertRejected(d, 400, "invalid_grant", "policy.decision");
        AuditEntry decision = broker.lastAudit("policy.decision");
        assertEquals("deny", decision.outcome());
        assertEquals("max-chain-depth", AgentTestBroker.details(decision).get("rule"));
    }

    @Test
    void scopeEscalationIsRefused() throws Exception {
        String user = userToken(List.of("files:read"), Map.of());
        assertRejected(exchange("agent-a", user, Map.of("scope", "files:read files:write")), 400, "invalid_scope");
    }

    @Test
    void actorTokenOfAnotherAgentIsRefused() throws Exception {
        String user = userToken(List.of("files:read"), Map.of());
        Map<String, String> cc = TestKeys.assertionForm(
                TestKeys.sign(keys.get("agent-b"), TestKeys.claims("agent-b", broker.issuer()).build()));
        HttpResponse<String> bToken = broker.post("/t/demo/token", cc);
        assertEquals(200, bToken.statusCode(), bToken.body());
        assertRejected(exchange("agent-a", user, Map.of("actor_token", (String) json(bToken).get("access_token"),
                "actor_token_type", AT)), 400, "invalid_grant");
        // its own actor token is fine
        Map<String, String> ca = TestKeys.assertionForm(
                TestKeys.sign(keys.get("agent-a"), TestKeys.claims("agent-a", broker.issuer()).build()));
        String aToken = (String) json(broker.post("/t/demo/token", ca)).get("access_token");
        HttpResponse<String> ok = exchange("agent-a", user, Map.of("actor_token", aToken, "actor_token_type", AT));
        assertEquals(200, ok.statusCode(), ok.body());
    }

    @Test
    void mayActIsEnforced() throws Exception {
        String user = userToken(List.of("files:read"), Map.of("may_act", Map.of("sub", "agent-b")));
        assertRejected(exchange("agent-a", user, Map.of()), 400, "invalid_grant");
        assertEquals(200, exchange("agent-b", user, Map.of()).statusCode());
    }

    @Test
    void subjectTokenFromAnUntrustedIssuerOrExpiredIsRefused() throws Exception {
        JWTClaimsSet forged = new JWTClaimsSet.Builder(claims(userToken(List.of("files:read"), Map.of()))).build();
        SignedJWT other = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("at+jwt"))
                .keyID("idp-1").build(), forged);
        other.sign(new RSASSASigner(idpKey));
        assertRejected(exchange("agent-a", other.serialize(), Map.of()), 400, "invalid_grant");

        JWTClaimsSet expired = new JWTClaimsSet.Builder(forged).expirationTime(Date.from(Instant.now().minusSeconds(600)))
                .issueTime(Date.from(Instant.now().minusSeconds(900))).jwtID(UUID.randomUUID().toString()).build();
        String expiredToken = broker.bean(SigningKeys.class).sign("demo", AccessTokens.AT_JWT, expired);
        assertRejected(exchange("agent-a", expiredToken, Map.of()), 400, "invalid_grant");
    }

    @Test
    void unknownResourceIsInvalidTarget() {
        String user = userToken(List.of("files:read"), Map.of());
        assertRejected(exchange("agent-a", user, Map.of("resource", "https://unknown.example.com/mcp")), 400, "invalid_target");
        // the trailing slash is ignored, and audience may name the resource id
        assertEquals(200, exchange("agent-a", user, Map.of("resource", "https://files.example.com/mcp/")).statusCode());
        assertEquals(200, exchange("agent-a", user, Map.of("audience", "files")).statusCode());
    }

    @Test
    void policyDenyAndDefaultDeny() {
        String contractor = userToken(List.of("files:read"), Map.of("groups", List.of("contractors")));
        assertRejected(exchange("agent-a", contractor, Map.of()), 400, "invalid_grant", "policy.decision");
        assertEquals("no-contractors", AgentTestBroker.details(broker.lastAudit("policy.decision")).get("rule"));
        String user = userToken(List.of("files:read"), Map.of());
        assertRejected(exchange("agent-e", user, Map.of()), 400, "invalid_grant", "policy.decision");
        assertEquals("default-deny", AgentTestBroker.details(broker.lastAudit("policy.decision")).get("rule"));
    }

    @Test
    void revokedAgentInTheChainAndSuspendedUserAreRefused() throws Exception {
        broker.agent("agent-temp", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("files-all"));
        JWK k = TestKeys.ec();
        keys.put("agent-temp", k);
        broker.credential("agent-temp", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        String user = userToken(List.of("files:read"), Map.of());
        // agent-temp is not in the policy: mint its delegated token directly, as if an earlier policy had allowed it
        String viaTemp = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", USER_SUB, USER_ISS,
                List.of("agent-temp"), "agent-temp", "https://files.example.com/mcp", List.of("files:read"), null, null,
                null, Map.of())).token();
        broker.setStatus("agent-temp", Agent.Status.REVOKED);
        assertRejected(exchange("agent-a", viaTemp, Map.of()), 400, "invalid_grant");

        UserStore users = broker.bean(UserStore.class);
        long now = System.currentTimeMillis();
        User u = new User("demo", "usr_" + UUID.randomUUID(), "okta", USER_ISS, "suspended-user", null, null, List.of(),
                List.of(), User.Status.ACTIVE, now, now);
        users.insert(u);
        String suspended = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "suspended-user", USER_ISS,
                List.of(), "mcp-client", "https://files.example.com/mcp", List.of("files:read"), null, null, null,
                Map.of())).token();
        assertEquals(200, exchange("agent-a", suspended, Map.of()).statusCode());
        users.setStatus("demo", u.id(), User.Status.SUSPENDED);
        assertRejected(exchange("agent-a", suspended, Map.of()), 400, "invalid_grant");
    }

    // ---- ID-JAG

    static String idJag(JOSEObjectType typ, Object aud, String clientId, String resource, String scope, String jti)
            throws Exception {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(IDP).subject("user@enterprise")
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(120)))
                .jwtID(jti).claim("client_id", clientId).claim("scope", scope);
        if (aud instanceof List<?> l) {
            b.audience(l.stream().map(Object::toString).toList());
        } else {
            b.audience((String) aud);
        }
        if (resource != null) {
            b.claim("resource", resource);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(typ).keyID("idp-1").build(), b.build());
        jwt.sign(new RSASSASigner(idpKey));
        return jwt.serialize();
    }

    static HttpResponse<String> jwtBearer(String agent, String assertion, Map<String, String> extra) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        form.put("assertion", assertion);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        form.putAll(extra);
        return broker.post("/t/demo/token", form);
    }

    static final JOSEObjectType JAG = new JOSEObjectType("oauth-id-jag+jwt");

    @Test
    void idJagGivesAUserTokenWithTheAgentAsActorAndNoRefreshToken() throws Exception {
        HttpResponse<String> r = jwtBearer("agent-a", idJag(JAG, broker.issuer(), "agent-a", "https://files.example.com/mcp",
                "files:read files:write mail:send", UUID.randomUUID().toString()), Map.of("scope", "files:read"));
        assertEquals(200, r.statusCode(), r.body());
        assertNull(json(r).get("refresh_token"));
        JWTClaimsSet c = claims((String) json(r).get("access_token"));
        assertEquals("user@enterprise", c.getSubject());
        assertEquals(Map.of("format", "iss_sub", "iss", IDP, "sub", "user@enterprise"), c.getClaim("sub_id"));
        assertEquals(Map.of("sub", "agent-a"), c.getClaim("act"));
        assertEquals(List.of("https://files.example.com/mcp"), c.getAudience());
        assertEquals("files:read", c.getClaim("scope"));
        String md = broker.get("/.well-known/oauth-authorization-server/t/demo").body();
        assertTrue(md.contains("urn:ietf:params:oauth:grant-profile:id-jag"), md);
        assertTrue(md.contains("urn:ietf:params:oauth:grant-type:jwt-bearer"), md);
        assertTrue(md.contains("urn:ietf:params:oauth:grant-type:token-exchange"), md);
    }

    @Test
    void idJagRejections() throws Exception {
        String res = "https://files.example.com/mcp";
        // wrong typ: a plain JWT from an issuer trusted only for ID-JAG
        assertRejected(jwtBearer("agent-a", idJag(JOSEObjectType.JWT, broker.issuer(), "agent-a", res, "files:read",
                UUID.randomUUID().toString()), Map.of()), 400, "invalid_grant");
        // wrong aud, and an array holding more than the issuer
        assertRejected(jwtBearer("agent-a", idJag(JAG, "https://other.example.com", "agent-a", res, "files:read",
                UUID.randomUUID().toString()), Map.of()), 400, "invalid_grant");
        assertRejected(jwtBearer("agent-a", idJag(JAG, List.of(broker.issuer(), "https://other.example.com"), "agent-a", res,
                "files:read", UUID.randomUUID().toString()), Map.of()), 400, "invalid_grant");
        // client_id of another client
        assertRejected(jwtBearer("agent-a", idJag(JAG, broker.issuer(), "agent-b", res, "files:read",
                UUID.randomUUID().toString()), Map.of()), 400, "invalid_grant");
        // unknown resource
        assertRejected(jwtBearer("agent-a", idJag(JAG, broker.issuer(), "agent-a", "https://unknown.example.com", "files:read",
                UUID.randomUUID().toString()), Map.of()), 400, "invalid_target");
        // replayed jti
        String jti = UUID.randomUUID().toString();
        assertEquals(200, jwtBearer("agent-a", idJag(JAG, broker.issuer(), "agent-a", res, "files:read", jti), Map.of())
                .statusCode());
        assertRejected(jwtBearer("agent-a", idJag(JAG, broker.issuer(), "agent-a", res, "files:read", jti), Map.of()),
                400, "invalid_grant");
    }
}
