package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What the token, introspection and revocation endpoints answer: a JSON body (200, {@code no-store}) or an
 * OAuth error that the one renderer ({@code http.OAuthErrors}) turns into RFC 6749 §5.2 JSON. An endpoint that
 * writes its JSON itself (the AuthZEN decisions) answers it as {@code json}, UTF-8 bytes, with {@code body} null; one
 * whose answer waits for something that completes on another thread (the decisions' audit entries becoming durable)
 * answers {@code later}: the response it completes with, sent only then.
 */
public record EndpointResponse(Map<String, Object> body, ErrorObject error, byte[] json,
                               CompletableFuture<EndpointResponse> later) {
    public static EndpointResponse ok(Map<String, Object> body) {
        return new EndpointResponse(body, null, null, null);
    }

    /** A 200 whose JSON the endpoint wrote itself (UTF-8). */
    public static EndpointResponse okJson(byte[] json) {
        return new EndpointResponse(null, null, json, null);
    }

    /**
     * The answer once {@code later} completes (on whichever thread completes it); a failure there is handled as a
     * failure of the endpoint would have been ({@link ClientFrontDoor}).
     */
    public static EndpointResponse later(CompletableFuture<EndpointResponse> later) {
        return new EndpointResponse(null, null, null, later);
    }

    public static EndpointResponse error(ErrorObject error) {
        return new EndpointResponse(null, error, null, null);
    }

    public boolean isError() {
        return error != null;
    }
}
