package dev.deputy.broker.logging;

import io.micronaut.core.propagation.PropagatedContext;
import io.micronaut.core.propagation.PropagatedContextElement;
import org.slf4j.MDC;

/**
 * The fields every log line of a request carries (MDC keys {@value #TENANT}, {@value #REQUEST_ID},
 * {@value #CORRELATION_ID}, {@value #CLIENT_ID}, {@value #AGENT_ID}), and the per-request holder through which
 * the access log learns who the client was once client authentication has run on the handler's thread.
 * Identifiers only: never a token, an assertion or a secret.
 */
public final class LogContext implements PropagatedContextElement {
    public static final String TENANT = "tenant";
    public static final String REQUEST_ID = "request_id";
    public static final String CORRELATION_ID = "correlation_id";
    public static final String CLIENT_ID = "client_id";
    public static final String AGENT_ID = "agent_id";

    private volatile String clientId;
    private volatile String agentId;

    public String clientId() {
        return clientId;
    }

    public String agentId() {
        return agentId;
    }

    /**
     * The request's client is known (after client authentication): later log lines of this thread and the access
     * log line name it.
     */
    public static void client(String clientId, String agentId) {
        if (clientId != null) {
            MDC.put(CLIENT_ID, clientId);
        }
        if (agentId != null) {
            MDC.put(AGENT_ID, agentId);
        }
        PropagatedContext.find().flatMap(c -> c.find(LogContext.class)).ifPresent(h -> {
            h.clientId = clientId;
            h.agentId = agentId;
        });
    }
}
