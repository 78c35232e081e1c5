package dev.deputy.broker.authorize;

import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.config.PolicyFiles;
import dev.deputy.broker.config.ResourceFile;
import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a scope lets an application do, in words, for the consent and account pages: the OpenID scopes
 * ({@code openid}, {@code profile}, {@code email}, {@code offline_access}) from the message bundle (translated), a
 * resource's own scopes from {@code scope_descriptions} in its {@code resources/<id>.yml}. A scope with neither is
 * shown by its name alone. The scope's name is always shown too.
 */
@Singleton
public class ScopeDescriptions {
    /** The built-in table: these have message keys {@code scope.<name>}. */
    static final Set<String> BUILT_IN = Set.of("openid", "profile", "email", "offline_access");
    private static final long TTL_MS = 30_000;

    private final DeputySettings settings;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(long loadedAt, Map<String, Map<String, String>> byResource) {
    }

    /**
     * One scope as a page shows it.
     *
     * @param scope the scope token
     * @param key   a message bundle key for its description, or null
     * @param text  its description from config (the operator's words), or null
     */
    public record Item(String scope, String key, String text) {
    }

    public ScopeDescriptions(DeputySettings settings) {
        this.settings = settings;
    }

    public List<Item> describe(String tenantId, String resourceId, List<String> scopes) {
        Map<String, String> configured = resourceId == null ? Map.of()
                : byResource(tenantId).getOrDefault(resourceId, Map.of());
        return scopes.stream().map(s -> new Item(s, BUILT_IN.contains(s) ? "scope." + s : null, configured.get(s))).toList();
    }

    private Map<String, Map<String, String>> byResource(String tenantId) {
        long now = System.currentTimeMillis();
        Cached c = cache.get(tenantId);
        if (c == null || now - c.loadedAt() > TTL_MS) {
            c = new Cached(now, load(tenantId));
            cache.put(tenantId, c);
        }
        return c.byResource();
    }

    private Map<String, Map<String, String>> load(String tenantId) {
        Path dir = settings.configDir().resolve("tenants").resolve(tenantId);
        Map<String, Map<String, String>> out = new HashMap<>();
        if (!Files.isDirectory(dir.resolve("resources"))) {
            return out;
        }
        try {
            for (PolicyFiles.Entry<ResourceFile> e : PolicyFiles.load(dir).resources()) {
                out.put(e.id(), e.value().scopeDescriptions());
            }
        } catch (RuntimeException e) {
            // a broken file stops the next start or apply with its reason; pages fall back to scope names
            return out;
        }
        return out;
    }
}
