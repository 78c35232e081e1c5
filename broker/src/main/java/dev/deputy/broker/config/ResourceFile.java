package dev.deputy.broker.config;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * {@code tenants/<t>/resources/<id>.yml}: a protected resource (MCP server) managed by config.
 *
 * @param id        defaults to the file name without {@code .yml}
 * @param uri       canonical URI (RFC 8707 §2): https, no fragment
 * @param isDefault the audience when a token request names no resource (at most one per tenant)
 * @param scopeDescriptions what each scope lets an application do, in words the consent page and the account page
 *                          show beside the scope (optional; each key one of {@code scopes})
 */
public record ResourceFile(String id, String uri, String name, List<String> scopes,
                           @JsonProperty("default") Boolean isDefault, Map<String, String> scopeDescriptions) {
    public ResourceFile(String id, String uri, String name, List<String> scopes, Boolean isDefault) {
        this(id, uri, name, scopes, isDefault, null);
    }

    public ResourceFile {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("uri is required");
        }
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        isDefault = Boolean.TRUE.equals(isDefault);
        if (scopeDescriptions != null) {
            for (Map.Entry<String, String> e : scopeDescriptions.entrySet()) {
                if (!scopes.contains(e.getKey())) {
                    throw new IllegalArgumentException("scope_descriptions: " + e.getKey() + " is not one of scopes");
                }
                if (e.getValue() == null || e.getValue().isBlank() || e.getValue().length() > 200) {
                    throw new IllegalArgumentException("scope_descriptions." + e.getKey() + ": 1 to 200 characters");
                }
            }
            scopeDescriptions = Map.copyOf(scopeDescriptions);
        } else {
            scopeDescriptions = Map.of();
        }
    }
}
