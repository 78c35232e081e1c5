package dev.deputy.broker.config;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * {@code tenants/<t>/resources/<id>.yml}: a protected resource (MCP server) managed by config.
 *
 * @param id        defaults to the file name without {@code .yml}
 * @param uri       canonical URI (RFC 8707 §2): https, no fragment
 * @param isDefault the audience when a token request names no resource (at most one per tenant)
 */
public record ResourceFile(String id, String uri, String name, List<String> scopes,
                           @JsonProperty("default") Boolean isDefault) {
    public ResourceFile {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("uri is required");
        }
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        isDefault = Boolean.TRUE.equals(isDefault);
    }
}
