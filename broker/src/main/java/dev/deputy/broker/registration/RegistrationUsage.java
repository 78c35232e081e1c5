package dev.deputy.broker.registration;

import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.ClientUsage;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records the last use (a token issued) of OAuth clients: of every client in {@link ClientActivityStore} (the console
 * shows it, and finds the CIMD clients there), and of dynamically registered ones in their registration, so that
 * registrations expire by last use. A write per token would put a database round trip on the token endpoint: each node
 * writes a client's use at most once per {@link #RESOLUTION} (the expiry is days), and never for agents (they are not
 * OAuth clients of this kind).
 */
@Singleton
public class RegistrationUsage implements ClientUsage {
    static final Duration RESOLUTION = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(RegistrationUsage.class);
    private static final int MAX_ENTRIES = 100_000;

    private final RegistrationStore registrations;
    private final ClientActivityStore activity;
    private final Clock clock;
    private final Map<String, Long> recorded = new ConcurrentHashMap<>();

    @jakarta.inject.Inject
    public RegistrationUsage(RegistrationStore registrations, ClientActivityStore activity) {
        this(registrations, activity, Clock.systemUTC());
    }

    RegistrationUsage(RegistrationStore registrations, ClientActivityStore activity, Clock clock) {
        this.registrations = registrations;
        this.activity = activity;
        this.clock = clock;
    }

    @Override
    public void tokenIssued(String tenantId, AuthenticatedClient client) {
        if (client == null || client.agentId() != null) {
            return;
        }
        long now = clock.millis();
        String key = tenantId + '\u0000' + client.clientId();
        Long last = recorded.get(key);
        if (last != null && now - last < RESOLUTION.toMillis()) {
            return;
        }
        if (recorded.size() >= MAX_ENTRIES) {
            recorded.clear();
        }
        recorded.put(key, now);
        try {
            activity.record(tenantId, client.clientId(), now);
            registrations.recordUse(tenantId, client.clientId(), now);
        } catch (RuntimeException e) {
            recorded.remove(key);
            LOG.warn("could not record the use of client {} (tenant {}): {}", client.clientId(), tenantId, e.toString());
        }
    }
}
