package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tenant option {@code client_assertion_audience: issuer_or_endpoints} (issue 14 finding 15): for clients that
 * cannot be changed yet, the token, introspection and revocation endpoint URLs are accepted as aud besides the issuer;
 * anything else is still refused.
 */
class AssertionAudienceOptionHttpTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static final JWK KEY = TestKeys.ec();

    @BeforeAll
    static void start() throws Exception {
        Path config = Files.createDirectories(dir.resolve("config"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.createDirectories(config.resolve("tenants/demo"));
        Files.writeString(config.resolve("tenants/demo/tenant.yml"),
                "display_name: Legacy clients\nclient_assertion_audience: issuer_or_endpoints\n");
        broker = AgentTestBroker.builder(dir).configDir(config).start();
        broker.standardFixture();
        broker.agent("legacy-agent", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("legacy-agent", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(KEY));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static HttpResponse<String> token(Object aud) {
        return broker.post("/t/demo/token", TestKeys.assertionForm(TestKeys.sign(KEY, TestKeys.claims("legacy-agent", aud).build())));
    }

    @Test
    void endpointUrlsAreAcceptedOnlyWhereTheTenantSaysSo() {
        assertEquals(200, token(broker.issuer()).statusCode());
        assertEquals(200, token(broker.tokenEndpoint()).statusCode());
        assertEquals(200, token(List.of("https://other.example", broker.tokenEndpoint())).statusCode());
        HttpResponse<String> evil = token("https://evil.example/t/demo/token");
        assertEquals(401, evil.statusCode(), evil.body());
        assertEquals("invalid_client", AgentTestBroker.json(evil).get("error"));
    }
}
