package dev.deputy.broker.agent;

import dev.deputy.broker.ephemeral.EphemeralStore;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Fan-out of "agent X of tenant T changed" (suspended, revoked, rotated, edited) to every broker node, over
 * the ephemeral store's pub/sub, so that caches of agents and credentials drop the entry at once. Whoever
 * changes an agent calls {@link #changed}; whoever caches agents registers a listener.
 */
@Singleton
public class AgentChanges {
    private static final Logger LOG = LoggerFactory.getLogger(AgentChanges.class);
    static final String CHANNEL = "agent-changes";
    private final EphemeralStore ephemeral;
    private final List<BiConsumer<String, String>> listeners = new CopyOnWriteArrayList<>();

    public AgentChanges(EphemeralStore ephemeral) {
        this.ephemeral = ephemeral;
    }

    @PostConstruct
    void subscribe() {
        ephemeral.subscribe(CHANNEL, message -> {
            int slash = message.indexOf('/');
            if (slash > 0) {
                notifyLocal(message.substring(0, slash), message.substring(slash + 1));
            }
        });
    }

    /** Tells every node (this one included, synchronously) that the agent changed. */
    public void changed(String tenantId, String agentId) {
        notifyLocal(tenantId, agentId);
        try {
            ephemeral.publish(CHANNEL, tenantId + "/" + agentId);
        } catch (RuntimeException e) {
            LOG.warn("could not publish agent change {}/{}: {}", tenantId, agentId, e.toString());
            throw e;
        }
    }

    public void listen(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    private void notifyLocal(String tenantId, String agentId) {
        for (BiConsumer<String, String> l : listeners) {
            l.accept(tenantId, agentId);
        }
    }
}
