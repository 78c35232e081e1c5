package dev.deputy.broker.authorize;

import java.util.List;

/** What the authorization endpoint answers: a redirect or a server-rendered page, with cookies to set. */
public sealed interface AuthorizeOutcome {
    List<String> cookies();

    record Redirect(String location, List<String> cookies) implements AuthorizeOutcome {
        public Redirect {
            cookies = List.copyOf(cookies);
        }
    }

    record Page(int status, String html, List<String> cookies) implements AuthorizeOutcome {
        public Page {
            cookies = List.copyOf(cookies);
        }
    }
}
