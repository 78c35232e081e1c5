package dev.deputy.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWKSet;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The published JWKS of ES256, RS256 and EdDSA tenants carries public parts only. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JwksHttpTest {
    /** Every private member a JWK may have (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
    static final List<String> PRIVATE_MEMBERS = List.of("d", "p", "q", "dp", "dq", "qi", "oth", "k");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() {
        ConfigFixture cfg = ConfigFixture.at(tmp.resolve("config"))
                .broker("default_tenant: es\n")
                .tenant("es", "display_name: EC tenant\nsigning_alg: ES256\n")
                .tenant("rs", "display_name: RSA tenant\nsigning_alg: RS256\n")
                .tenant("ed", "display_name: Ed25519 tenant\nsigning_alg: EdDSA\n");
        broker = TestBroker.builder(tmp.resolve("data"), cfg.root()).start();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"es,ES256,EC", "rs,RS256,RSA", "ed,EdDSA,OKP"})
    void jwksHasNoPrivateParts(String tenant, String alg, String kty) throws Exception {
        HttpResponse<String> r = broker.get("/t/" + tenant + "/jwks.json");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode keys = JSON.readTree(r.body()).get("keys");
        assertEquals(1, keys.size());
        JsonNode key = keys.get(0);
        assertEquals(alg, key.get("alg").asText());
        assertEquals(kty, key.get("kty").asText());
        assertEquals("sig", key.get("use").asText());
        assertTrue(key.hasNonNull("kid"));
        for (String member : PRIVATE_MEMBERS) {
            assertFalse(key.has(member), tenant + ": JWKS exposes private member '" + member + "': " + r.body());
            assertFalse(r.body().contains("\"" + member + "\":"), tenant + ": raw JWKS contains \"" + member + "\"");
        }
        // and Nimbus agrees: every key is public
        JWKSet set = JWKSet.parse(r.body());
        assertTrue(set.getKeys().stream().noneMatch(k -> k.isPrivate()));
    }

    @ParameterizedTest
    @CsvSource({"es,ES256", "rs,RS256", "ed,EdDSA"})
    void eachTenantHasItsOwnKey(String tenant, String alg) throws Exception {
        String kid = JSON.readTree(broker.get("/t/" + tenant + "/jwks.json").body()).get("keys").get(0).get("kid").asText();
        for (String other : List.of("es", "rs", "ed")) {
            if (!other.equals(tenant)) {
                assertFalse(broker.get("/t/" + other + "/jwks.json").body().contains(kid),
                        "tenant " + other + " publishes " + tenant + "'s key");
            }
        }
    }
}
