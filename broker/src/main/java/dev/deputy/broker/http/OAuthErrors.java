package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/** The one place OAuth errors are rendered: RFC 6749 §5.2 JSON, the error's own status, no caching. */
public final class OAuthErrors {
    private OAuthErrors() {
    }

    public static MutableHttpResponse<Map<String, Object>> render(ErrorObject error) {
        int status = error.getHTTPStatusCode() > 0 ? error.getHTTPStatusCode() : 400;
        // RFC 6749 §5.2: invalid_client is 401
        if (OAuth2Error.INVALID_CLIENT.getCode().equals(error.getCode())) {
            status = 401;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error.getCode());
        if (error.getDescription() != null) {
            body.put("error_description", error.getDescription());
        }
        if (error.getURI() != null) {
            body.put("error_uri", error.getURI().toString());
        }
        return HttpResponse.<Map<String, Object>>status(HttpStatus.valueOf(status))
                .contentType(MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store")
                .header("Pragma", "no-cache")
                .body(body);
    }

    public static MutableHttpResponse<Map<String, Object>> render(ErrorObject base, String description) {
        return render(base.setDescription(description));
    }
}
