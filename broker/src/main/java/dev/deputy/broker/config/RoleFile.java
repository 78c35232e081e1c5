package dev.deputy.broker.config;

import java.util.List;

/**
 * {@code tenants/<t>/roles/<name>.yml}: a role managed by config.
 *
 * @param name         defaults to the file name without {@code .yml}
 * @param environments the environments the role applies in; empty = all
 */
public record RoleFile(String name, String description, List<String> scopes, List<String> environments) {
    public RoleFile {
        if (scopes == null || scopes.isEmpty()) {
            throw new IllegalArgumentException("scopes is required: the scopes the role grants");
        }
        scopes = List.copyOf(scopes);
        environments = environments == null ? List.of() : List.copyOf(environments);
    }
}
