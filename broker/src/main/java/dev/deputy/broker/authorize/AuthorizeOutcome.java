package dev.deputy.broker.authorize;

import dev.deputy.broker.federation.CookieSpec;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * What a browser-facing endpoint answers: a redirect, or a page (a template of {@code views/} and its model),
 * with cookies to set. The HTTP layer renders it (Micronaut {@code HttpResponse}, {@code Cookie}, micronaut-views).
 */
public sealed interface AuthorizeOutcome {
    List<CookieSpec> cookies();

    record Redirect(URI location, List<CookieSpec> cookies) implements AuthorizeOutcome {
        public Redirect {
            cookies = List.copyOf(cookies);
        }
    }

    /**
     * @param view  the template name under {@code views/} (e.g. {@code login/consent})
     * @param model what the template shows; values are escaped by the template engine
     */
    record Page(int status, String view, Map<String, Object> model, List<CookieSpec> cookies) implements AuthorizeOutcome {
        public Page {
            model = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(model));
            cookies = List.copyOf(cookies);
        }

        /** An error page: a title and a message, both message bundle keys. */
        public static Page error(int status, String titleKey, String messageKey, List<CookieSpec> cookies) {
            return new Page(status, "error", Map.of("titleKey", titleKey, "messageKey", messageKey), cookies);
        }
    }
}
