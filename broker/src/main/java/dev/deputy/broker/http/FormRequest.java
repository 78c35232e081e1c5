package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;

import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Nimbus {@link HTTPRequest} that parses its form body once. Nimbus parses the body again on every
 * {@link #getBodyAsFormParameters()} call, and one token request asks for it many times (client authentication,
 * the grant, each parameter): this keeps the first result and hands every caller its own copy, since Nimbus's
 * parsers may change the map they are given; the broker's own readers take the read-only {@link #formView()}.
 */
final class FormRequest extends HTTPRequest implements dev.deputy.broker.oauth.ParsedForm {
    /** The parsed form, read-only (lists included); null until first asked for. */
    private Map<String, List<String>> form;

    FormRequest(Method method, URL url) {
        super(method, url);
    }

    @Override
    public void setBody(String body) {
        super.setBody(body);
        form = null;
    }

    @Override
    public Map<String, List<String>> getBodyAsFormParameters() throws ParseException {
        Map<String, List<String>> parsed = formView();
        Map<String, List<String>> copy = new LinkedHashMap<>(parsed.size() * 2);
        parsed.forEach((k, v) -> copy.put(k, v == null ? null : new ArrayList<>(v)));
        return copy;
    }

    @Override
    public Map<String, List<String>> formView() throws ParseException {
        Map<String, List<String>> parsed = form;
        if (parsed == null) {
            Map<String, List<String>> fresh = super.getBodyAsFormParameters(); // checks the content type, then parses
            Map<String, List<String>> ro = new LinkedHashMap<>(fresh.size() * 2);
            fresh.forEach((k, v) -> ro.put(k, v == null ? null : Collections.unmodifiableList(v)));
            parsed = Collections.unmodifiableMap(ro);
            form = parsed;
        }
        return parsed;
    }
}
