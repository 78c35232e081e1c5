package dev.deputy.broker.agent;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.TestKeys;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The checks on registered credential material, one refusal per branch. */
class CredentialParserTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long NOW = System.currentTimeMillis();

    static Map<String, Object> map(String json) throws Exception {
        return JSON.readValue(json, new TypeReference<>() {
        });
    }

    static AgentException refused(CredentialSpec spec, Agent.AuthMethod m, boolean loopback) {
        AgentException e = assertThrows(AgentException.class, () -> CredentialParser.parse(spec, m, loopback, NOW));
        assertEquals(AgentException.Kind.INVALID, e.kind());
        return e;
    }

    @Test
    void publicJwksAccepted() throws Exception {
        var p = CredentialParser.parse(CredentialSpec.ofJwks(map(TestKeys.publicJwks())), Agent.AuthMethod.PRIVATE_KEY_JWT,
                false, NOW);
        assertEquals(AgentCredential.Kind.JWKS, p.kind());
        assertFalse(p.material().contains("\"d\""));
    }

    @Test
    void privateOrSymmetricOrBadJwksRefused() throws Exception {
        var pk = Agent.AuthMethod.PRIVATE_KEY_JWT;
        refused(CredentialSpec.ofJwks(map(TestKeys.privateJwks())), pk, false);
        refused(CredentialSpec.ofJwks(map("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}")), pk, false);
        refused(CredentialSpec.ofJwks(map("{\"keys\":[]}")), pk, false);
        refused(CredentialSpec.ofJwks(map("{\"kty\":\"EC\"}")), pk, false);
        refused(CredentialSpec.ofJwks(map("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"bad\",\"y\":\"bad\"}]}")), pk, false);
        Map<String, Object> enc = map(TestKeys.publicJwks());
        @SuppressWarnings("unchecked")
        Map<String, Object> key = ((List<Map<String, Object>>) enc.get("keys")).get(0);
        key.put("use", "enc");
        refused(CredentialSpec.ofJwks(enc), pk, false);
    }

    @Test
    void jwksUriRules() {
        var pk = Agent.AuthMethod.PRIVATE_KEY_JWT;
        assertEquals(AgentCredential.Kind.JWKS_URI, CredentialParser.parse(CredentialSpec.ofJwksUri("https://k.example.com/j"),
                pk, false, NOW).kind());
        for (String bad : List.of("http://k.example.com/j", "https://10.1.2.3/j", "https://169.254.169.254/latest",
                "https://[fd00::1]/j", "https://127.0.0.1/j", "http://localhost:8080/j", "https://u:p@k.example.com/j",
                "https://k.example.com/j#x", "ftp://k.example.com/j", "not a uri")) {
            refused(CredentialSpec.ofJwksUri(bad), pk, false);
        }
        assertEquals(AgentCredential.Kind.JWKS_URI, CredentialParser.parse(CredentialSpec.ofJwksUri("http://127.0.0.1:9/j"),
                pk, true, NOW).kind());
    }

    @Test
    void certificateRules() {
        var ss = Agent.AuthMethod.SELF_SIGNED_TLS_CLIENT_AUTH;
        var cert = TestKeys.selfSigned("c");
        var p = CredentialParser.parse(CredentialSpec.ofCertificate(TestKeys.pem(cert)), ss, false, NOW);
        assertEquals(TestKeys.thumbprint(cert), p.thumbprint());
        refused(CredentialSpec.ofCertificate(TestKeys.pem(cert) + TestKeys.pem(cert)), ss, false);
        refused(CredentialSpec.ofCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ss, false);
        refused(CredentialSpec.ofCertificate("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"), ss, false);
        // expired by the clock given
        assertThrows(AgentException.class, () -> CredentialParser.parse(CredentialSpec.ofCertificate(TestKeys.pem(cert)), ss,
                false, NOW + 2 * 86_400_000L));
        // method / material mismatches
        refused(CredentialSpec.ofCertificate(TestKeys.pem(cert)), Agent.AuthMethod.PRIVATE_KEY_JWT, false);
        refused(CredentialSpec.ofJwksUri("https://k.example.com/j"), ss, false);
        refused(CredentialSpec.ofJwksUri("https://k.example.com/j"), Agent.AuthMethod.TLS_CLIENT_AUTH, false);
        refused(new CredentialSpec(null, null, null), ss, false);
    }
}
