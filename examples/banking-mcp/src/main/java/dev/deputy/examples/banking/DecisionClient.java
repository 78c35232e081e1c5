package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSASigner;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The banking server as a policy enforcement point: before each tool call it asks Deputy's AuthZEN decision endpoint
 * ({@code <issuer>/access/v1/evaluation}) whether this user, through this chain of agents, may call this tool with these
 * arguments here. It proves who it is with an access token of its own, {@code Authorization: Bearer}: obtained from
 * Deputy's token endpoint by client_credentials with private_key_jwt (ES256, a fresh single-use assertion,
 * {@code aud} = the issuer), {@code scope=authzen:evaluate}, {@code resource=<issuer>} (the decision point), and
 * reused until shortly before it expires (a 401 drops it). Nothing goes in the URL. No answer, or any error, is a
 * refusal (fail closed).
 */
public final class DecisionClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SCOPE = "authzen:evaluate";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String issuer;
    private final URI endpoint;
    private final String resource;
    private final String clientId;
    private final ECDSASigner signer;
    private final String kid;
    /** The current access token and when to stop using it (ms). */
    private volatile String token;
    private volatile long tokenUntil;

    /** The answer: allowed, or not with the effect ({@code deny}, {@code require_approval}), the rule and a reason. */
    public record Decision(boolean allowed, String effect, String rule, String reason) {
    }

    public DecisionClient(String issuer, String resource, String clientId, ECPrivateKey key, String kid) {
        this.issuer = issuer;
        this.endpoint = URI.create(issuer + "/access/v1/evaluation");
        this.resource = resource;
        this.clientId = clientId;
        this.kid = kid;
        try {
            this.signer = new ECDSASigner(key);
        } catch (Exception e) {
            throw new IllegalArgumentException("not an EC P-256 key: " + e.getMessage());
        }
    }

    /** Reads a PKCS#8 PEM EC private key (as {@code deputy agent keygen} writes it). */
    public static ECPrivateKey readKey(Path pem) throws Exception {
        String text = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(text)));
    }

    /** Asks; never throws: a failure to ask is a refusal. */
    public Decision check(TokenValidator.Caller caller, String tool, Map<String, Object> arguments) {
        return check(caller, tool, arguments, null);
    }

    /**
     * Asks with the transaction-bound token of an approved CIBA request ({@code context.approval_token},
     * docs/governance.md): Deputy permits a require_approval call once when the token names exactly this call.
     */
    public Decision check(TokenValidator.Caller caller, String tool, Map<String, Object> arguments, String approvalToken) {
        try {
            Map<String, Object> properties = new LinkedHashMap<>();
            Object groups = caller.claims().getClaim("groups");
            if (groups instanceof List<?> g) {
                properties.put("groups", g);
            }
            Object act = caller.claims().getClaim("act");
            if (act != null) {
                properties.put("act", act); // RFC 8693 §4.1, as the token carries it
            }
            Map<String, Object> subject = new LinkedHashMap<>();
            // a user (sub_id present: Deputy's delegated tokens) or an agent acting alone (client_credentials)
            subject.put("type", caller.claims().getClaim("sub_id") != null ? "user" : "agent");
            subject.put("id", caller.sub());
            subject.put("properties", properties);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("subject", subject);
            body.put("action", Map.of("name", tool));
            body.put("resource", Map.of("type", "mcp_server", "id", resource));
            Map<String, Object> context = new LinkedHashMap<>();
            context.put("arguments", arguments == null ? Map.of() : arguments);
            if (approvalToken != null) {
                context.put("approval_token", approvalToken);
            }
            body.put("context", context);
            HttpRequest r = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + token())
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
            HttpResponse<String> res = http.send(r, HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() == 401) {
                token = null; // revoked or expired early: the next call gets a fresh one
            }
            if (res.statusCode() != 200) {
                return new Decision(false, "error", null, "the decision point answered " + res.statusCode() + ": " + res.body());
            }
            JsonNode d = JSON.readTree(res.body());
            JsonNode ctx = d.path("context");
            return new Decision(d.path("decision").asBoolean(false), ctx.path("effect").asText(d.path("decision").asBoolean()
                    ? "permit" : "deny"), ctx.path("rule").asText(null), ctx.path("reason_user").path("en").asText(null));
        } catch (Exception e) {
            return new Decision(false, "error", null, "the decision point could not be asked: " + e.getClass().getSimpleName());
        }
    }

    /** The decision client's own access token (RFC 6749 §4.4), fetched again 30 s before it expires. */
    private synchronized String token() throws Exception {
        String t = token;
        if (t != null && System.currentTimeMillis() < tokenUntil) {
            return t;
        }
        String form = "grant_type=client_credentials&scope=" + URLEncoder.encode(SCOPE, StandardCharsets.UTF_8)
                + "&resource=" + URLEncoder.encode(issuer, StandardCharsets.UTF_8)
                + "&client_assertion_type=" + URLEncoder.encode(ClientAssertion.TYPE, StandardCharsets.UTF_8)
                + "&client_assertion=" + assertion();
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(issuer + "/token"))
                .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) {
            throw new IllegalStateException("the token endpoint answered " + res.statusCode());
        }
        JsonNode tr = JSON.readTree(res.body());
        token = tr.path("access_token").asText();
        tokenUntil = System.currentTimeMillis() + Math.max(0, tr.path("expires_in").asLong(60) - 30) * 1000;
        return token;
    }

    private String assertion() throws Exception {
        return ClientAssertion.fresh(clientId, issuer, signer, kid);
    }
}
