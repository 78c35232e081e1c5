package dev.deputy.broker.grant;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token exchange whose first subject token comes from the upstream IdP (a real OpenID provider on loopback,
 * mock-oauth2-server), through a connector trusted for exchange: the user in every hop is the IdP's
 * {@code iss}/{@code sub}, byte for byte.
 */
class UpstreamSubjectExchangeTest {
    static final String SUB = "00uÄbc/42 upstream|sub";
    @TempDir
    static Path dir;
    static MockOAuth2Server idp;
    static AgentTestBroker broker;
    static final Map<String, JWK> keys = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        idp = new MockOAuth2Server();
        idp.start();
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.createDirectories(config.resolve("tenants/demo/connectors"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Upstream\n");
        Files.writeString(config.resolve("tenants/demo/policies/p.yml"), """
                max_chain_depth: 3
                delegation:
                  - id: engineers
                    agents: ["*"]
                    users: {groups: [engineering]}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        Files.writeString(config.resolve("tenants/demo/connectors/corp.yml"), """
                id: corp
                type: oidc
                issuer: %s
                client_id: deputy
                token_exchange: true
                token_exchange_audiences: ["api://deputy"]
                role_mapping: { engineering: files-all }
                """.formatted(idp.issuerUrl("corp")));
        Files.writeString(config.resolve("tenants/demo/connectors/other.yml"), """
                id: other
                type: oidc
                issuer: %s
                client_id: deputy
                """.formatted(idp.issuerUrl("other")));
        broker = AgentTestBroker.builder(dir).configDir(config).start();
        broker.standardFixture();
        broker.role("files-all", List.of("files:read", "files:list", "files:write"), List.of());
        for (String id : List.of("agent-a", "agent-b", "agent-c", "agent-d")) {
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
        if (idp != null) {
            idp.shutdown();
        }
    }

    static HttpResponse<String> exchange(String agent, String subject, String type, String scope) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", DelegationHttpTest.EXCHANGE);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        form.put("subject_token", subject);
        form.put("subject_token_type", type);
        if (scope != null) {
            form.put("scope", scope);
        }
        return broker.post("/t/demo/token", form);
    }

    @Test
    void upstreamIdTokenAsTheFirstSubjectKeepsTheUserThroughEveryHop() throws Exception {
        // an ID token as the IdP issued it to Deputy's upstream client (azp = that client)
        SignedJWT idToken = idp.issueToken("corp", "deputy", new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                "corp", SUB, "JWT", List.of("deputy"), Map.of("groups", List.of("engineering"),
                "email", "ada@corp.example"), 3600));
        JWTClaimsSet upstream = idToken.getJWTClaimsSet();

        HttpResponse<String> a = exchange("agent-a", idToken.serialize(), "urn:ietf:params:oauth:token-type:id_token",
                "files:read files:list");
        assertEquals(200, a.statusCode(), a.body());
        HttpResponse<String> b = exchange("agent-b", (String) json(a).get("access_token"), DelegationHttpTest.AT, "files:read");
        assertEquals(200, b.statusCode(), b.body());
        HttpResponse<String> c = exchange("agent-c", (String) json(b).get("access_token"), DelegationHttpTest.AT, null);
        assertEquals(200, c.statusCode(), c.body());
        JWTClaimsSet last = SignedJWT.parse((String) json(c).get("access_token")).getJWTClaimsSet();

        assertEquals(upstream.getSubject(), last.getSubject(), "sub byte-identical to the upstream ID token's");
        assertEquals(Map.of("format", "iss_sub", "iss", upstream.getIssuer(), "sub", upstream.getSubject()),
                last.getClaim("sub_id"));
        assertEquals(Map.of("sub", "agent-c", "act", Map.of("sub", "agent-b", "act", Map.of("sub", "agent-a"))),
                last.getClaim("act"));
        assertEquals("files:read", last.getClaim("scope"));
        assertEquals("ada@corp.example", last.getClaim("email"));
        assertEquals("upstream", AgentTestBroker.details(broker.audit().stream()
                .filter(e -> e.type().equals("token.exchanged")).findFirst().orElseThrow()).get("subject_kind"));

        HttpResponse<String> d = exchange("agent-d", (String) json(c).get("access_token"), DelegationHttpTest.AT, null);
        assertEquals(400, d.statusCode(), d.body());
        assertEquals("invalid_grant", json(d).get("error"));
    }

    @Test
    void upstreamAccessTokenWithAnAcceptedAudienceWorks() {
        SignedJWT at = idp.issueToken("corp", SUB, "api://deputy", Map.of("groups", List.of("engineering")));
        HttpResponse<String> r = exchange("agent-a", at.serialize(), DelegationHttpTest.AT, "files:read");
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void untrustedOrWrongUpstreamTokensAreRefused() {
        // a connector not trusted for exchange
        SignedJWT other = idp.issueToken("other", SUB, "deputy", Map.of("groups", List.of("engineering")));
        HttpResponse<String> r1 = exchange("agent-a", other.serialize(), "urn:ietf:params:oauth:token-type:id_token", null);
        assertEquals(400, r1.statusCode(), r1.body());
        assertEquals("invalid_grant", json(r1).get("error"));
        // an issuer no connector knows
        SignedJWT unknown = idp.issueToken("nobody", SUB, "deputy", Map.of());
        assertEquals("invalid_grant", json(exchange("agent-a", unknown.serialize(),
                "urn:ietf:params:oauth:token-type:id_token", null)).get("error"));
        // the trusted IdP, but an audience that is not ours
        SignedJWT wrongAud = idp.issueToken("corp", SUB, "someone-else", Map.of("groups", List.of("engineering"),
                "azp", "someone-else"));
        HttpResponse<String> r3 = exchange("agent-a", wrongAud.serialize(), "urn:ietf:params:oauth:token-type:id_token", null);
        assertEquals("invalid_grant", json(r3).get("error"));
        assertTrue(String.valueOf(json(r3).get("error_description")).contains("audience"), r3.body());
        // expired
        SignedJWT expired = idp.issueToken("corp", SUB, "deputy", Map.of("groups", List.of("engineering")), -600);
        assertEquals("invalid_grant", json(exchange("agent-a", expired.serialize(),
                "urn:ietf:params:oauth:token-type:id_token", null)).get("error"));
        assertEquals("invalid_grant", AgentTestBroker.details(broker.lastAudit("token.rejected")).get("error"));
    }

    /**
     * Finding 9 (RFC 8725 §3.11): the kind of an upstream token comes from the token, and azp is applied to every
     * multi-audience token. An ID token the IdP issued to another client, listing Deputy's exchange audience too,
     * used to pass when the caller labelled it an access token.
     */
    @Test
    void anotherClientsMultiAudienceTokenIsRefusedWhateverItsLabel() {
        SignedJWT foreignIdToken = idp.issueToken("corp", "other-app", new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                "corp", SUB, "JWT", List.of("other-app", "api://deputy"), Map.of("groups", List.of("engineering"),
                "azp", "other-app", "nonce", "n-0815"), 3600));
        for (String label : List.of(DelegationHttpTest.AT, "urn:ietf:params:oauth:token-type:jwt",
                "urn:ietf:params:oauth:token-type:id_token")) {
            HttpResponse<String> r = exchange("agent-a", foreignIdToken.serialize(), label, "files:read");
            assertEquals(400, r.statusCode(), label + ": " + r.body());
            assertEquals("invalid_grant", json(r).get("error"));
            var e = broker.onlyEntryOfLastRequest();
            assertEquals("token.rejected", e.type());
            assertTrue(String.valueOf(AgentTestBroker.details(e).get("reason")).contains("audience"),
                    AgentTestBroker.details(e).toString());
        }
        // a multi-audience access token issued to a third party (azp) is refused too; issued to Deputy's client, fine
        SignedJWT noAzp = idp.issueToken("corp", "third-party", new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                "corp", SUB, "at+jwt", List.of("api://deputy", "https://api.other.example"),
                Map.of("groups", List.of("engineering")), 3600));
        assertEquals("invalid_grant", json(exchange("agent-a", noAzp.serialize(), DelegationHttpTest.AT, "files:read")).get("error"));
        SignedJWT ours = idp.issueToken("corp", "deputy", new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                "corp", SUB, "at+jwt", List.of("api://deputy", "https://api.other.example"),
                Map.of("groups", List.of("engineering"), "azp", "deputy"), 3600));
        HttpResponse<String> ok = exchange("agent-a", ours.serialize(), DelegationHttpTest.AT, "files:read");
        assertEquals(200, ok.statusCode(), ok.body());
    }
}
