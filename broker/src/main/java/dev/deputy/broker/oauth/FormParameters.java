package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * RFC 6749 §3.1 / §3.2: request parameters MUST NOT be included more than once — also with identical values, which
 * Nimbus's {@code MultivaluedMapUtils.getKeysWithMoreThanOneValue} lets through (it counts distinct values).
 */
public final class FormParameters {
    /** May repeat at the token endpoint: {@code resource} (RFC 8707 §2), {@code audience} (RFC 8693 §2.1). */
    public static final Set<String> TOKEN_REPEATABLE = Set.of("resource", "audience");

    private FormParameters() {
    }

    /** The request's form parameters to read, not to change: without a copy when the request keeps them parsed. */
    static Map<String, List<String>> view(HTTPRequest request) throws ParseException {
        return request instanceof ParsedForm p ? p.formView() : request.getBodyAsFormParameters();
    }

    /** The names given more than once, other than {@code repeatable} (sorted; empty when none). */
    public static Set<String> repeated(Map<String, List<String>> params, Set<String> repeatable) {
        Set<String> out = null;
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            List<String> v = p.getValue();
            if (v != null && v.size() > 1 && !repeatable.contains(p.getKey())) {
                if (out == null) {
                    out = new TreeSet<>();
                }
                out.add(p.getKey());
            }
        }
        return out == null ? Set.of() : out;
    }

    /**
     * Refuses a form body with a repeated parameter: {@code invalid_request}. A body that is not a form is left to
     * the endpoint's own parser.
     */
    public static void requireSingle(HTTPRequest request, Set<String> repeatable) {
        Map<String, List<String>> params;
        try {
            params = view(request);
        } catch (ParseException | RuntimeException e) {
            return;
        }
        Set<String> names = repeated(params, repeatable);
        if (!names.isEmpty()) {
            // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E; names are client input
            String shown = names.stream().map(n -> (n.length() > 40 ? n.substring(0, 40) : n)
                    .replaceAll("[^\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]", "_")).limit(5).toList().toString();
            throw new OAuthException(OAuth2Error.INVALID_REQUEST,
                    ClientAuthPipeline.safe("parameter(s) present more than once: " + shown));
        }
    }
}
