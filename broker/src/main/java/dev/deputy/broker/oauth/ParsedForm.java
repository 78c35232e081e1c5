package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ParseException;

import java.util.List;
import java.util.Map;

/**
 * A request whose form body is parsed once and can be read without a copy ({@code http.FormRequest}). Nimbus's
 * {@code getBodyAsFormParameters} hands out a fresh, changeable map each time (its parsers may change what they are
 * given); the front door's own reads — the grant type, the repeated-parameter check, the count of client
 * authentication methods — only look.
 */
public interface ParsedForm {
    /** The form parameters, read-only; throws as {@code getBodyAsFormParameters} does for a body that is not a form. */
    Map<String, List<String>> formView() throws ParseException;
}
