package dev.deputy.broker.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code approvals:} in {@code config/tenants/<t>/tenant.yml} (docs/governance.md, Human approval through CIBA): who may
 * ask the tenant's users for approval through OpenID CIBA, how, and where approval requests are announced.
 *
 * @param interval                   CIBA §7.3 {@code interval}: the minimum seconds between two polls of one request
 *                                   (1s–60s, default 5s); a faster poll gets {@code slow_down}
 * @param defaultExpiry              {@code expires_in} when the client sends no {@code requested_expiry} (default 5m)
 * @param maxExpiry                  the longest {@code requested_expiry} honoured (default 30m, at most 24h)
 * @param tokenTtl                   the lifetime of the transaction-bound access token (default and at most 5m)
 * @param authorizationDetailsTypes  the RFC 9396 types a request may carry (default {@code [deputy_tool_call]})
 * @param clients                    the CIBA clients by client id (agents: private_key_jwt or mTLS), with their
 *                                   CIBA registration metadata (CIBA §4)
 * @param webhook                    where new approval requests are POSTed (signed like the anomaly alerts)
 */
public record ApprovalsFile(Duration interval, Duration defaultExpiry, Duration maxExpiry, Duration tokenTtl,
                           List<String> authorizationDetailsTypes, Map<String, CibaClient> clients, Webhook webhook) {
    public static final String TOOL_CALL = "deputy_tool_call";
    static final Pattern TYPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
    static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,127}");
    public static final ApprovalsFile NONE = new ApprovalsFile(null, null, null, null, null, null, null);

    public ApprovalsFile {
        interval = interval == null ? Duration.ofSeconds(5) : interval;
        if (interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("approvals.interval must be between 1s and 60s");
        }
        maxExpiry = maxExpiry == null ? Duration.ofMinutes(30) : maxExpiry;
        if (maxExpiry.compareTo(Duration.ofSeconds(10)) < 0 || maxExpiry.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("approvals.max_expiry must be between 10s and 24h");
        }
        defaultExpiry = defaultExpiry == null ? (maxExpiry.compareTo(Duration.ofMinutes(5)) < 0 ? maxExpiry
                : Duration.ofMinutes(5)) : defaultExpiry;
        if (defaultExpiry.compareTo(Duration.ofSeconds(10)) < 0 || defaultExpiry.compareTo(maxExpiry) > 0) {
            throw new IllegalArgumentException("approvals.default_expiry must be between 10s and max_expiry");
        }
        tokenTtl = tokenTtl == null ? Duration.ofMinutes(5) : tokenTtl;
        if (tokenTtl.compareTo(Duration.ofSeconds(10)) < 0 || tokenTtl.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("approvals.token_ttl must be between 10s and 5m (the token is for one transaction)");
        }
        authorizationDetailsTypes = authorizationDetailsTypes == null ? List.of(TOOL_CALL) : List.copyOf(authorizationDetailsTypes);
        if (authorizationDetailsTypes.isEmpty()) {
            throw new IllegalArgumentException("approvals.authorization_details_types: at least one type");
        }
        for (String t : authorizationDetailsTypes) {
            if (t == null || !TYPE.matcher(t).matches()) {
                throw new IllegalArgumentException("approvals.authorization_details_types: '" + t + "' is not a type name");
            }
        }
        Map<String, CibaClient> cs = new LinkedHashMap<>();
        if (clients != null) {
            for (Map.Entry<String, CibaClient> e : clients.entrySet()) {
                if (e.getKey() == null || e.getKey().isBlank() || e.getKey().length() > 255) {
                    throw new IllegalArgumentException("approvals.clients: a client id is 1 to 255 characters");
                }
                if (e.getValue() == null) {
                    throw new IllegalArgumentException("approvals.clients." + e.getKey()
                            + ": backchannel_token_delivery_mode is required (poll or ping)");
                }
                cs.put(e.getKey(), e.getValue());
            }
        }
        clients = Map.copyOf(cs);
    }

    /** Whether CIBA is on for the tenant: some client may use it. */
    public boolean enabled() {
        return !clients.isEmpty();
    }

    /**
     * A CIBA client's registration metadata (CIBA §4, the names of the OpenID client metadata).
     *
     * @param backchannelTokenDeliveryMode          {@code poll} or {@code ping} ({@code push} is not supported)
     * @param backchannelClientNotificationEndpoint ping: where the broker POSTs the notification (https; http only
     *                                              for loopback addresses)
     */
    public record CibaClient(String backchannelTokenDeliveryMode, String backchannelClientNotificationEndpoint) {
        public CibaClient {
            if (!"poll".equals(backchannelTokenDeliveryMode) && !"ping".equals(backchannelTokenDeliveryMode)) {
                throw new IllegalArgumentException("backchannel_token_delivery_mode must be poll or ping"
                        + ("push".equals(backchannelTokenDeliveryMode) ? " (push is not supported)" : ""));
            }
            if ("ping".equals(backchannelTokenDeliveryMode)) {
                if (backchannelClientNotificationEndpoint == null) {
                    throw new IllegalArgumentException("ping needs backchannel_client_notification_endpoint");
                }
                backchannelClientNotificationEndpoint = httpsUrl(backchannelClientNotificationEndpoint,
                        "backchannel_client_notification_endpoint");
            } else if (backchannelClientNotificationEndpoint != null) {
                throw new IllegalArgumentException("backchannel_client_notification_endpoint is for ping clients only");
            }
        }

        public boolean ping() {
            return "ping".equals(backchannelTokenDeliveryMode);
        }
    }

    /**
     * {@code approvals.webhook}: each new approval request is POSTed here, signed (HMAC-SHA256 with the secret in
     * {@code secret_env}), with a link to the user's account page.
     */
    public record Webhook(String url, String secretEnv, Integer maxAttempts) {
        public Webhook {
            url = httpsUrl(url, "approvals.webhook.url");
            if (secretEnv == null || !ENV_NAME.matcher(secretEnv).matches()) {
                throw new IllegalArgumentException("approvals.webhook.secret_env must name an environment variable"
                        + " (upper case letters, digits and _)");
            }
            if (maxAttempts != null && (maxAttempts < 1 || maxAttempts > 20)) {
                throw new IllegalArgumentException("approvals.webhook.max_attempts must be between 1 and 20");
            }
            maxAttempts = maxAttempts == null ? 5 : maxAttempts;
        }

        /** The same delivery as the anomaly alerts ({@code governance.AnomalyWebhook}). */
        public AnomalyFile.WebhookFile delivery() {
            return new AnomalyFile.WebhookFile(url, secretEnv, maxAttempts);
        }
    }

    /** An https URL, or http on a loopback address (development and tests). */
    static String httpsUrl(String url, String name) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException(name + " is required");
        }
        java.net.URI u;
        try {
            u = java.net.URI.create(url.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " is not a URL");
        }
        String host = u.getHost();
        boolean loopback = host != null && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]"));
        if (host == null || u.getRawFragment() != null
                || !("https".equals(u.getScheme()) || ("http".equals(u.getScheme()) && loopback))) {
            throw new IllegalArgumentException(name + " must be an https URL without fragment (http only for localhost)");
        }
        return url.strip();
    }
}
