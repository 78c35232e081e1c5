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
    /** RFC 6749 §5.2 / RFC 7617: the challenge of an {@code invalid_client} answer. */
    public static final String CLIENT_CHALLENGE = "Basic realm=\"deputy\", charset=\"UTF-8\"";

    private OAuthErrors() {
    }

    public static MutableHttpResponse<Map<String, Object>> render(ErrorObject error) {
        int status = error.getHTTPStatusCode() > 0 ? error.getHTTPStatusCode() : 400;
        // RFC 6749 §5.2: invalid_client is 401 with a WWW-Authenticate challenge (Basic: the one client
        // authentication scheme of the HTTP Authorization header)
        boolean invalidClient = OAuth2Error.INVALID_CLIENT.getCode().equals(error.getCode());
        if (invalidClient) {
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
        MutableHttpResponse<Map<String, Object>> r = HttpResponse.<Map<String, Object>>status(HttpStatus.valueOf(status))
                .contentType(MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store")
                .header("Pragma", "no-cache")
                .body(body);
        if (invalidClient) {
            r.header("WWW-Authenticate", CLIENT_CHALLENGE);
        }
        return r;
    }

    public static MutableHttpResponse<Map<String, Object>> render(ErrorObject base, String description) {
        return render(base.setDescription(description));
    }
}
