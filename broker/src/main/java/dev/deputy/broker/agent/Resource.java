package dev.deputy.broker.agent;

import java.util.List;

/**
 * A protected resource (an MCP server) by its canonical URI (RFC 8707 §2), the scopes it accepts and
 * whether it is the tenant's default audience when a request names none.
 */
public record Resource(String tenantId, String id, String uri, String name, List<String> scopes, boolean isDefault,
                       String managedBy) {
    public Resource {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }

    /** Resource matching ignores one trailing slash ({@code https://host/} names {@code https://host}). */
    public static String canonical(String uri) {
        if (uri == null) {
            return null;
        }
        return uri.endsWith("/") && uri.indexOf("://") > 0 && uri.length() > uri.indexOf("://") + 3
                ? uri.substring(0, uri.length() - 1) : uri;
    }
}
