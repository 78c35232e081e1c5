package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSASigner;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks the user for approval through Deputy's OpenID CIBA endpoint when the policy answers {@code require_approval}
 * (docs/governance.md, Human approval): the bank — a CIBA poll client of the tenant, authenticating with the same
 * private_key_jwt key as for decisions — sends {@code POST <issuer>/bc-authorize} with the caller's own access token
 * as {@code login_hint_token} (Deputy takes the user and the acting agents from it), the exact transaction as RFC 9396
 * {@code authorization_details} ({@code deputy_tool_call}: tool, arguments, this server as location) and a short
 * {@code binding_message}; then it polls the token endpoint ({@code urn:openid:params:grant-type:ciba}) at the given
 * interval, slowing down when told, until the user approves (a transaction-bound token), denies, the request expires,
 * or the timeout passes. Why the server and not the agent: a stock MCP client has no CIBA code, and only the server
 * knows that this one call needs it; the agent just sees its call wait, then succeed or be refused.
 */
public final class ApprovalClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String GRANT = "urn:openid:params:grant-type:ciba";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String issuer;
    private final String resource;
    private final String clientId;
    private final ECDSASigner signer;
    private final String kid;
    private final Duration timeout;

    /** The outcome: the transaction-bound token, or why there is none ({@code denied}, {@code expired}, {@code timeout}, {@code error}). */
    public record Outcome(String token, String refusal, String message) {
        public boolean approved() {
            return token != null;
        }
    }

    public ApprovalClient(String issuer, String resource, String clientId, ECPrivateKey key, String kid, Duration timeout) {
        this.issuer = issuer;
        this.resource = resource;
        this.clientId = clientId;
        this.kid = kid;
        this.timeout = timeout;
        try {
            this.signer = new ECDSASigner(key);
        } catch (Exception e) {
            throw new IllegalArgumentException("not an EC P-256 key: " + e.getMessage());
        }
    }

    /** Asks and waits (never longer than the timeout); never throws. */
    public Outcome approve(TokenValidator.Caller caller, String tool, Map<String, Object> arguments) {
        try {
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("type", "deputy_tool_call");
            detail.put("tool", tool);
            detail.put("locations", List.of(resource));
            detail.put("arguments", arguments == null ? Map.of() : arguments);
            Map<String, String> form = new LinkedHashMap<>();
            form.put("login_hint_token", caller.token());
            form.put("resource", resource);
            form.put("authorization_details", JSON.writeValueAsString(List.of(detail)));
            form.put("binding_message", bindingMessage(tool, arguments));
            form.put("requested_expiry", Long.toString(Math.max(10, timeout.toSeconds())));
            HttpResponse<String> ack = post("/bc-authorize", form);
            JsonNode a = JSON.readTree(ack.body());
            if (ack.statusCode() != 200) {
                return new Outcome(null, "error", "the approval request was refused: " + a.path("error").asText()
                        + " " + a.path("error_description").asText(""));
            }
            String authReqId = a.path("auth_req_id").asText();
            long interval = Math.max(1, a.path("interval").asLong(5));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                Thread.sleep(interval * 1000); // CIBA §7.3: wait at least interval seconds between polls
                HttpResponse<String> r = post("/token", Map.of("grant_type", GRANT, "auth_req_id", authReqId));
                JsonNode t = JSON.readTree(r.body());
                if (r.statusCode() == 200) {
                    return new Outcome(t.path("access_token").asText(), null, "approved");
                }
                switch (t.path("error").asText()) {
                    case "authorization_pending" -> {
                    }
                    case "slow_down" -> interval += 5; // CIBA §11: increase the interval by at least 5 seconds
                    case "access_denied" -> {
                        return new Outcome(null, "denied", "the user denied it");
                    }
                    case "expired_token" -> {
                        return new Outcome(null, "expired", "the approval request expired");
                    }
                    default -> {
                        return new Outcome(null, "error", "the token endpoint answered " + t.path("error").asText());
                    }
                }
            }
            return new Outcome(null, "timeout", "no approval within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(null, "error", "interrupted");
        } catch (Exception e) {
            return new Outcome(null, "error", "Deputy could not be asked: " + e.getClass().getSimpleName());
        }
    }

    /** CIBA §7.1: short plain text the user recognises ("transfer_funds: 5000 EUR to Zoë Müller"). */
    static String bindingMessage(String tool, Map<String, Object> arguments) {
        Map<String, Object> a = arguments == null ? Map.of() : arguments;
        String text = tool;
        if (a.get("amount") != null) {
            text += ": " + new BigDecimal(String.valueOf(a.get("amount"))).toPlainString() + " "
                    + a.getOrDefault("currency", "EUR") + (a.get("to") != null ? " to " + a.get("to") : "");
        }
        text = text.replaceAll("\\p{Cntrl}", " ");
        return text.length() > 100 ? text.substring(0, 99) + "…" : text;
    }

    private HttpResponse<String> post(String path, Map<String, String> params) throws Exception {
        Map<String, String> form = new LinkedHashMap<>(params);
        form.put("client_assertion_type", ClientAssertion.TYPE);
        form.put("client_assertion", assertion());
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return http.send(HttpRequest.newBuilder(URI.create(issuer + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String assertion() throws Exception {
        return ClientAssertion.fresh(clientId, issuer, signer, kid);
    }
}
