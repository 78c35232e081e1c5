package dev.deputy.connectors;

import java.net.URI;

/** Where to send the browser ({@code authorizationUri}) and what to remember until the callback ({@code pending}). */
public record LoginRequest(URI authorizationUri, PendingLogin pending) {

    public String state() {
        return pending.state();
    }
}
