package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;

import java.util.Map;

/**
 * What the token, introspection and revocation endpoints answer: a JSON body (200, {@code no-store}) or an
 * OAuth error that the one renderer ({@code http.OAuthErrors}) turns into RFC 6749 §5.2 JSON.
 */
public record EndpointResponse(Map<String, Object> body, ErrorObject error) {
    public static EndpointResponse ok(Map<String, Object> body) {
        return new EndpointResponse(body, null);
    }

    public static EndpointResponse error(ErrorObject error) {
        return new EndpointResponse(null, error);
    }

    public boolean isError() {
        return error != null;
    }
}
