package dev.deputy.broker.agent;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/**
 * The one RFC 8707 resource resolver, used by the authorization endpoint and every grant: which registered
 * {@link Resource} a request names, or why it names none. One resource per token (Deputy's tokens have one
 * audience). Rules:
 * <ul>
 *   <li>{@code resource} values must be absolute URIs without a fragment (RFC 8707 §2);</li>
 *   <li>{@code audience} values (RFC 8693 §2.1) may name a resource by its URI or by its id (a logical name);</li>
 *   <li>more than one value in all is refused; none means the tenant's default resource, if it has one;</li>
 *   <li>URIs match after {@link Resource#canonical} (one trailing slash ignored), nothing else is normalised.</li>
 * </ul>
 * Refusals are {@link Refused} with a client-facing description and a short audit reason; callers turn them into
 * {@code invalid_target} in their protocol's form.
 */
public final class ResourceIndicators {
    private ResourceIndicators() {
    }

    /** The request names no acceptable resource (RFC 8707 §2 {@code invalid_target}). */
    public static final class Refused extends RuntimeException {
        private final String reason;

        Refused(String description, String reason) {
            super(description, null, false, false);
            this.reason = reason;
        }

        /** Safe for the audit log: {@code unknown_resource}, {@code multiple_resources}, …. */
        public String reason() {
            return reason;
        }
    }

    /** The resource named by {@code resources} (RFC 8707) and {@code audiences} (RFC 8693), or the default. */
    public static Resource resolve(List<Resource> all, List<String> resources, List<String> audiences) {
        List<String> named = new ArrayList<>();
        if (resources != null) {
            for (String r : resources) {
                if (!absoluteWithoutFragment(r)) {
                    throw new Refused("resource must be an absolute URI without fragment", "invalid_resource");
                }
                named.add(r);
            }
        }
        int byUri = named.size();
        if (audiences != null) {
            named.addAll(audiences);
        }
        if (named.size() > 1) {
            throw new Refused("name exactly one resource", "multiple_resources");
        }
        if (named.isEmpty()) {
            return all.stream().filter(Resource::isDefault).findFirst()
                    .orElseThrow(() -> new Refused("no resource given and the tenant has no default resource",
                            "no_default_resource"));
        }
        String asked = named.get(0);
        String canonical = Resource.canonical(asked);
        boolean mayBeId = byUri == 0; // an audience may be a logical name
        return all.stream().filter(r -> Resource.canonical(r.uri()).equals(canonical) || (mayBeId && r.id().equals(asked)))
                .findFirst()
                .orElseThrow(() -> new Refused("unknown resource", "unknown_resource"));
    }

    /**
     * RFC 8707 §2.2: at the token endpoint of a grant bound to a resource (a code, a refresh token), a
     * {@code resource} parameter may only repeat the bound one.
     */
    public static void requireBound(List<String> resources, String bound) {
        if (resources == null || resources.isEmpty()) {
            return;
        }
        if (resources.size() > 1 || !Resource.canonical(resources.get(0)).equals(Resource.canonical(bound))) {
            throw new Refused("resource does not match the grant", "resource_mismatch");
        }
    }

    static boolean absoluteWithoutFragment(String v) {
        try {
            URI u = new URI(v);
            return u.isAbsolute() && u.getRawFragment() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
